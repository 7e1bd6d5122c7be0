"""`make bench`'s arithmetic, table and client, with fixed numbers and a local HTTP server.

The benchmark itself is too slow for the suite; these keep its pieces from breaking unseen.
"""

from __future__ import annotations

import re
import threading
from argparse import Namespace
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks import api_auth, bench
from benchmarks.harness import (
    Client,
    Paired,
    Row,
    Sample,
    Target,
    format_table,
    paired_rounds,
    paired_row,
    percentile,
)

ROOT = Path(__file__).resolve().parents[2]


def sample(rps: float, latencies: list[float] | None = None) -> Sample:
    """Return a load of one second that answered `rps` requests."""
    return Sample(int(rps), 1.0, latencies or [1.0])


def test_percentile_interpolates_between_ranks():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.5
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([4.0, 1.0, 3.0, 2.0], 0) == 1.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 100) == 4.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_paired_takes_the_median_of_the_rounds_ratios_and_their_spread():
    paired = Paired(
        case=[sample(50), sample(90), sample(60)],
        baseline=[sample(100), sample(100), sample(200)],
    )
    assert paired.ratios() == [0.5, 0.9, 0.3]
    assert paired.ratio() == 0.5
    assert paired.spread() == (0.3, 0.9)
    assert paired.rps() == 60
    assert paired.baseline_rps() == 100


def test_paired_row_carries_the_case_figures_and_the_ratio():
    paired = Paired(
        case=[sample(50, [1.0, 2.0, 3.0]), sample(70, [4.0, 5.0])],
        baseline=[sample(100), sample(100)],
    )
    row = paired_row("Pages", "customers", paired, "vs /healthz")
    assert (row.section, row.case, row.rps) == ("Pages", "customers", 60)
    assert row.p50_ms == 3.0
    assert row.ratio == pytest.approx(0.6)
    assert row.spread == (0.5, 0.7)
    assert row.note == "vs /healthz (100 req/s)"


def test_table_is_markdown_with_empty_cells_for_missing_figures():
    rows = [
        Row("Pages", "first page", 1234.4, 1.234, 9.876, 0.61, (0.5, 0.7), "vs /healthz"),
        Row("HTMX", "Disable | Enable", ratio=0.163, note="1,845 B / 11,296 B"),
    ]
    assert format_table(rows).splitlines() == [
        "| section | case | req/s | p50 ms | p99 ms | ratio (spread) | vs / note |",
        "|---|---|---:|---:|---:|---:|---|",
        "| Pages | first page | 1,234 | 1.23 | 9.88 | 0.61 (0.50-0.70) | vs /healthz |",
        "| HTMX | Disable \\| Enable |  |  |  | 0.16 | 1,845 B / 11,296 B |",
    ]


def test_rows_from_a_scripts_json():
    figures = {
        "rows": [
            {"section": "API", "case": "getConnector", "rps": 900.0, "ratio": 0.6},
            {"case": "bare", "spread": [0.1, 0.2], "note": "vs /healthz"},
        ]
    }
    rows = bench.rows_from_json("provisioning.py", figures)
    assert rows[0] == Row("API", "getConnector", rps=900.0, ratio=0.6)
    assert rows[1] == Row("provisioning", "bare", spread=(0.1, 0.2), note="vs /healthz")
    # Without "rows", each number of the JSON becomes a row of its own.
    flat = bench.rows_from_json("startup.py", {"portal": {"seconds": 0.5}, "ok": True})
    assert flat == [Row("startup", "portal.seconds", note="0.5")]


def test_rows_of_customers_list_and_startup_json():
    listed = {
        "sizes": [100, 100000],
        "rounds": 30,
        "cases": [
            {
                "name": "first page",
                "ms_small": 2.5,
                "ms_large": 2.75,
                "ratio": 1.1,
                "ratio_quartiles": [1.0, 1.2],
            }
        ],
    }
    (row,) = bench.rows_from_json("customers_list.py", listed)
    assert (row.case, row.p50_ms, row.ratio) == ("first page", 2.75, 1.1)
    assert row.note == "time vs 2.50 ms at 100 rows (quartiles 1.00-1.20); 30 rounds"
    started = {
        "rounds": 5,
        "startup_seconds": {"median": 0.5, "min": 0.4, "max": 0.7, "target": 0.6},
        "startup_cpu_seconds": {"median": 0.8},
        "worker_rss_mb": {
            "workers": [70.2, 71.6],
            "requests_per_kind": 1000,
            "kinds": ["/healthz", "/api/v1/me"],
            "target": 75,
        },
    }
    startup, memory = bench.rows_from_json("startup.py", started)
    assert startup.p50_ms == 500
    assert startup.note == "0.40-0.70 s over 5 starts; CPU 0.80 s; target 0.6 s"
    assert memory.note == (
        "70, 72 MB after 1,000 requests to each of /healthz, /api/v1/me; target 75 MB"
    )
    del started["startup_cpu_seconds"]
    assert bench.rows_from_json("startup.py", started)[0].note == (
        "0.40-0.70 s over 5 starts; target 0.6 s"
    )
    # A shape the adapter does not know falls back to a row per number.
    assert bench.rows_from_json("startup.py", {"seconds": 1}) == [
        Row("startup", "seconds", note="1")
    ]


def test_every_other_script_in_benchmarks_runs_known_ones_first():
    names = bench.scripts()
    assert names[:2] == ["transactions.py", "provisioning.py"]
    assert "customers_list.py" in names
    assert not {"bench.py", "harness.py", "flask_admin_app.py"} & set(names)


def test_only_the_options_a_script_declares_are_passed():
    source = 'parser.add_argument("--rounds")\nparser.add_argument("--quick-ish")'
    arguments = ["--rounds", "5", "--requests", "600", "--quick-ish"]
    assert bench._drop_unknown(arguments, source) == ["--rounds", "5", "--quick-ish"]


class _Handler(BaseHTTPRequestHandler):
    """Answer /login with a cookie and everything else with the cookies it received."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Set a cookie on /login, echo the Cookie header elsewhere."""
        body = (self.headers.get("Cookie") or "").encode()
        self.send_response(200)
        if self.path == "/login":
            self.send_header("Set-Cookie", "session=abc; HttpOnly; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet."""


@pytest.fixture
def port() -> Iterator[int]:
    """Serve _Handler on a free 127.0.0.1 port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_client_keeps_the_connection_and_the_cookies(port):
    client = Client(port)
    client.get("/login")
    connection = client.connection
    assert client.get("/page").text == "session=abc"
    assert client.connection is connection
    client.close()


def test_paired_rounds_load_both_sides_every_round(port):
    case = Target("case", port, "/x", cookies={"session": "abc"})
    baseline = Target("baseline", port, "/healthz")
    (result,) = paired_rounds([(case, baseline)], rounds=3, seconds=0.01, threads=2)
    assert len(result.case) == len(result.baseline) == 3
    assert all(s.requests >= 2 for s in result.case + result.baseline)
    assert len(result.ratios()) == 3


def test_flask_admin_stays_out_of_the_portal_and_its_tests():
    """Flask-Admin is the benchmark's peer, installed only by `make bench`."""
    importing = re.compile(r"^\s*(?:import|from)\s+flask_admin\b", re.MULTILINE)
    sources = [*ROOT.joinpath("portal").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py")]
    assert sources
    assert [str(path) for path in sources if importing.search(path.read_text())] == []
    assert importing.search(ROOT.joinpath("benchmarks/flask_admin_app.py").read_text())


def test_api_auth_json_becomes_rows_of_the_table():
    """api_auth.py's JSON: authentication's ratio, the flood's p50 ratio and the memory growth."""
    figures = {
        "ratios": [0.7, 0.8, 0.9],
        "idle_p50_ms": 0.5,
        "attack_p50_ms": 2.0,
        "attack_rps": 1000.0,
        "rss_growth_mb": 3.0,
    }
    args = Namespace(rounds=3, attack_rate=0, attack_seconds=10, attack_threads=8)
    me, flood, memory = bench.rows_from_json("api_auth.py", api_auth.as_json(figures, args))
    assert (me.ratio, me.spread) == (0.8, (0.7, 0.9))
    assert flood.ratio == 4.0 and "flood" in flood.case and "8 connections" in flood.case
    assert memory.note == "+3 MB (target < 50 MB)"
