"""`make bench`: every benchmark of the portal on gunicorn (2 workers), in one table.

Usage: .venv/bin/python -m benchmarks.bench [--quick] [--rounds 5] [--seconds 1.0]
       [--threads 4] [--customers 100000] [--no-scripts]

1. Seeds a temporary SQLite database through the services: an admin, --customers customers
   (the bulk insert of benchmarks/customers_list.py), Stripe external integrations (verified
   against a fake Stripe on 127.0.0.1), API keys, and a merchant with connectors (provisioning
   service).
2. Serves it with the portal (`wsgi:app`) and with a Flask-Admin ModelView of the same customers
   table (benchmarks/flask_admin_app.py), each by gunicorn with 2 workers of 8 threads on a free
   127.0.0.1 port, started --startups times to time spawn -> first 200 on /healthz.
3. In --rounds paired rounds, each pair loaded back to back from --threads keep-alive clients
   for --seconds per side: the portal's pages and API endpoints against /healthz, and the
   portal's customers list against Flask-Admin's (first page, page 100, four searches).
4. Measures the HTMX answers of Disable/Enable against their pages in bytes, and each worker's
   resident memory after the load.
5. Runs every other script in benchmarks/ that takes `--json`, with sizes that keep the whole
   run under 10 minutes: the JSON object on its last line joins the table, its "rows" as they
   are (keys section, case, rps, p50_ms, p99_ms, ratio, spread [low, high], note), else each
   number as a row. A script without `--json` is skipped with a note.

It prints one Markdown table, and the machine and the load average before and after: the
machine may be shared, and every ratio is taken within a round for that reason.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from html import unescape as html_unescape
from pathlib import Path
from urllib.parse import quote

from cryptography.fernet import Fernet
from flask_migrate import upgrade
from sqlalchemy import select

from benchmarks import customers_list
from benchmarks.harness import (
    ROOT,
    THREADS,
    WORKERS,
    Client,
    Row,
    Server,
    Target,
    csrf_token,
    format_table,
    load_average,
    machine,
    paired_rounds,
    paired_row,
    percentile,
    sign_in,
)
from portal import create_app
from portal.extensions import db
from portal.models import Connection, Customer
from portal.schemas.accounts import NewUser
from portal.schemas.api_keys import ApiKeyInput
from portal.schemas.external_integrations import ExternalIntegrationInput
from portal.schemas.provisioning import MerchantInput, NewConnectorInput
from portal.services import (
    api_keys,
    companies,
    external_integrations,
    provisioning,
    setup,
    users,
)
from portal.services.actor import Actor
from portal.services.provisioning import KeyScope
from portal.web.registry import providers, secret_box
from tests.support.fake_stripe import FakeStripe

ADMIN = "bench@example.com"
PASSWORD = "benchmark password 123"
ACTOR = Actor.system("benchmark")
# The other scripts' arguments in a full run and in --quick: sizes that keep the whole
# `make bench` under 10 minutes on 2 cores. An option a script does not declare is left out.
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "transactions.py": (
        ["--requests", "600", "--rounds", "5", "--deliveries", "300", "--report-rows", "20000"],
        ["--requests", "80", "--rounds", "2", "--deliveries", "40", "--report-rows", "1000"],
    ),
    "provisioning.py": (
        ["--requests", "1500", "--lists", "30", "--rounds", "5"],
        ["--requests", "100", "--lists", "4", "--rounds", "2"],
    ),
    "customers_list.py": (["--repeat", "20"], ["--repeat", "3"]),
    "api_auth.py": (
        ["--requests", "3000", "--rounds", "5", "--attack-seconds", "10"],
        ["--requests", "200", "--rounds", "2", "--attack-seconds", "4"],
    ),
    "startup.py": (["--rounds", "3", "--requests", "1000"], ["--rounds", "1", "--requests", "60"]),
}
# Not scripts of their own: this one and what it is built from.
NOT_SCRIPTS = {"bench.py", "harness.py", "flask_admin_app.py", "__init__.py"}


@dataclass
class Seeded:
    """What the benchmark needs to know about the seeded database."""

    key: str
    connector: str
    merchant: str
    integration_id: int
    external_integration_id: int
    id_prefix: str
    rare: str


def settings(folder: Path, stripe_base: str) -> dict[str, str]:
    """Return the served portal's environment: a temporary instance in `folder`."""
    return {
        "DATABASE_URL": f"sqlite:///{folder / 'portal.db'}",
        "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PORTAL_API_KEY_PEPPER": secrets.token_hex(32),
        "PORTAL_JOBS_STORE": f"sqlite:///{folder / 'jobs.db'}",
        "STRIPE_API_BASE": stripe_base,
        # The per-key limit (50/s) would answer 429 to a load test; lifted out of the way.
        "PORTAL_API_RATE_LIMIT": "1000000 per second",
    }


def seed(env: dict[str, str], customers: int, connections: int) -> Seeded:
    """Migrate and fill the database through the services; return the ids the cases need."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "SECRET_KEY": env["PORTAL_SECRET_KEY"],
            "ENCRYPTION_KEYS": env["PORTAL_ENCRYPTION_KEYS"],
            "API_KEY_PEPPER": env["PORTAL_API_KEY_PEPPER"],
            "JOBS_STORE": env["PORTAL_JOBS_STORE"],
            "STRIPE_API_BASE": env["STRIPE_API_BASE"],
        }
    )
    with app.app_context():
        upgrade()
        setup.ensure_account(ACTOR)
        users.create_user(ACTOR, NewUser(email=ADMIN, password=PASSWORD, role="admin"))
        started = time.perf_counter()
        customers_list.seed(customers)
        progress(f"seeded {customers:,} customers in {time.perf_counter() - started:.1f} s")
        company_id = companies.list_companies()[0].id
        pepper = env["PORTAL_API_KEY_PEPPER"].encode()
        for number in range(10):
            environment = ("sandbox", "production")[number % 2]
            data = ApiKeyInput(name=f"Key {number}", company_id=company_id, environment=environment)
            api_keys.generate_api_key(ACTOR, data, pepper)
        new = api_keys.generate_api_key(
            ACTOR,
            ApiKeyInput(name="Benchmark", company_id=company_id, environment="production"),
            pepper,
        )
        stripe = None
        for number in range(6):
            data = ExternalIntegrationInput(
                provider="stripe",
                name=f"Stripe {number}",
                secret="sk_test_" + secrets.token_hex(12),
                active=number % 3 != 2,
            )
            saved = external_integrations.create_integration(ACTOR, data, providers(), secret_box())
            stripe = stripe or saved.integration.id
        scope = KeyScope(new.api_key.id, new.api_key.prefix, company_id, "production")
        merchant = provisioning.create_merchant(
            ACTOR, scope, MerchantInput(name="Bench merchant")
        ).public_id
        first = None
        for number in range(connections):
            data = NewConnectorInput.model_validate(
                {
                    "network": "Visa",
                    "name": f"Connector {number:03d}",
                    "adapter": "Simulator",
                    "method": "Creditcard",
                    "apiKey": "sim-connector-a",
                    "config": {"username": "asmith", "password": "supersecure1"},
                }
            )
            result = provisioning.create_connector(ACTOR, scope, merchant, data, secret_box())
            first = first or result.record.public_id
        integration_id = db.session.scalar(
            select(Connection.integration_id).where(Connection.public_id == first)
        )
        terms = search_terms(customers)
        db.session.remove()
        db.engine.dispose()
    return Seeded(new.plaintext, first, merchant, integration_id, stripe, *terms)


def search_terms(customers: int) -> tuple[str, str]:
    """Return the id prefix of a customer in the middle, and a term only one name holds."""
    public_id = db.session.scalar(select(Customer.public_id).where(Customer.id == customers // 2))
    # customers_list.seed names customers "<Word> <Word> <index:06d>": one row has this number.
    return public_id[:9], f"{customers - 7:06d}"


def progress(message: str) -> None:
    """Say what is happening, on stderr (the table goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cursor_pages(client: Client, pages: tuple[int, ...]) -> dict[int, str]:
    """Walk the customers list by its Next links; return the `after` cursor of each page asked."""
    found: dict[int, int] = {}
    path = "/connect/"
    for number in range(2, max(pages) + 1):
        html = client.get(path).text
        link = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html)
        after = re.search(r"after=([^&]+)", html_unescape(link.group(1))) if link else None
        if after is None:
            raise SystemExit(f"no Next link on page {number - 1} of the customers list")
        path = f"/connect/?after={after.group(1)}"
        if number in pages:
            found[number] = after.group(1)
    return found


def htmx_bytes(client: Client, page: str, action: str, undo: str) -> tuple[int, int]:
    """Return the full page's bytes and the HTMX answer's bytes of an action (then undo it)."""
    full = client.get(page)
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_token(full.text)}
    answer = client.post_form(action, {}, headers)
    if answer.status != 200:
        raise SystemExit(f"POST {action} with HX-Request answered {answer.status}")
    client.post_form(undo, {}, headers)
    return len(full.body), len(answer.body)


def startups(env: dict[str, str], folder: Path, app: str, count: int) -> list[float]:
    """Start and stop the server `count` times; return each spawn -> first 200 in seconds."""
    times = []
    for _ in range(count):
        with Server(app, env, folder / "startup.log") as server:
            times.append(server.startup_seconds)
    return times


def scripts() -> list[str]:
    """Return the other benchmarks: the known ones first, then any added since, by name."""
    present = {path.name for path in (ROOT / "benchmarks").glob("*.py")} - NOT_SCRIPTS
    return [name for name in SCRIPTS if name in present] + sorted(present - SCRIPTS.keys())


def run_script(name: str, arguments: list[str]) -> tuple[list[Row], str]:
    """Run benchmarks/<name> with --json; return its rows, or none and why."""
    path = ROOT / "benchmarks" / name
    if '"--json"' not in path.read_text():  # its argparse option
        return [], f"{name}: skipped, it has no --json yet"
    arguments = _drop_unknown(arguments, path.read_text())
    progress(f"running {name} {' '.join(arguments)} --json")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(path), *arguments, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
        return [], f"{name}: failed ({done.returncode}): {' '.join(tail)}"
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return [], f"{name}: printed no JSON"
    return rows_from_json(name, json.loads(lines[-1])), f"{name}: {seconds:.0f} s"


def _drop_unknown(arguments: list[str], source: str) -> list[str]:
    """Keep only the options (with their values) that the script's source declares."""
    kept: list[str] = []
    index = 0
    while index < len(arguments):
        option = arguments[index]
        takes_value = index + 1 < len(arguments) and not arguments[index + 1].startswith("--")
        width = 2 if takes_value else 1
        if f'"{option}"' in source:
            kept += arguments[index : index + width]
        index += width
    return kept


def customers_list_rows(figures: dict) -> list[Row]:
    """Return customers_list.py's cases: each page's time at the large size against the small."""
    small, large = figures["sizes"]
    return [
        Row(
            f"Customers list in-process ({small:,} vs {large:,})",
            case["name"],
            p50_ms=case["ms_large"],
            ratio=case["ratio"],
            note=f"time vs {case['ms_small']:.2f} ms at {small:,} rows (quartiles "
            f"{case['ratio_quartiles'][0]:.2f}-{case['ratio_quartiles'][1]:.2f}); "
            f"{figures['rounds']} rounds",
        )
        for case in figures["cases"]
    ]


def startup_rows(figures: dict) -> list[Row]:
    """Return startup.py's startup time (fresh instances) and worker memory after its load."""
    wall, memory = figures["startup_seconds"], figures["worker_rss_mb"]
    cpu = figures.get("startup_cpu_seconds")
    cpu_note = f"CPU {cpu['median']:.2f} s; " if cpu else ""
    return [
        Row(
            "Startup",
            "spawn -> first 200, fresh instance (startup.py)",
            p50_ms=wall["median"] * 1000,
            note=f"{wall['min']:.2f}-{wall['max']:.2f} s over {figures['rounds']} starts; "
            f"{cpu_note}target {wall['target']} s",
        ),
        Row(
            "Memory",
            "RSS per worker after load (startup.py)",
            note=f"{', '.join(f'{v:.0f}' for v in memory['workers'])} MB after "
            f"{memory['requests_per_kind']:,} requests to each of {', '.join(memory['kinds'])}; "
            f"target {memory['target']} MB",
        ),
    ]


# Scripts whose JSON has no "rows" of its own, read by what they print.
ADAPTERS = {"customers_list.py": customers_list_rows, "startup.py": startup_rows}


def rows_from_json(name: str, figures: dict) -> list[Row]:
    """Turn a script's JSON into rows: its "rows", or its adapter's, else each number as one."""
    section = figures.get("section") or name.removesuffix(".py")
    if name in ADAPTERS and "rows" not in figures:
        try:
            return ADAPTERS[name](figures)
        except (KeyError, TypeError, ValueError, IndexError):
            pass  # its JSON changed shape: fall back to every number as a row
    if isinstance(figures.get("rows"), list):
        return [
            Row(
                section=row.get("section", section),
                case=str(row.get("case", "")),
                rps=row.get("rps"),
                p50_ms=row.get("p50_ms"),
                p99_ms=row.get("p99_ms"),
                ratio=row.get("ratio"),
                spread=tuple(row["spread"]) if row.get("spread") else None,
                note=str(row.get("note", "")),
            )
            for row in figures["rows"]
        ]
    rows = []
    for key, value in flatten(figures):
        if isinstance(value, int | float) and not isinstance(value, bool):
            rows.append(Row(section, key, note=f"{value:,.3g}"))
    return rows


def flatten(value, prefix: str = "") -> list[tuple[str, object]]:
    """Return the leaves of nested dicts as (dotted key, value)."""
    if isinstance(value, dict):
        leaves = []
        for key, inner in value.items():
            leaves += flatten(inner, f"{prefix}.{key}" if prefix else str(key))
        return leaves
    return [(prefix, value)]


def measure(args, folder: Path, fake: FakeStripe) -> list[Row]:
    """Seed, serve both apps, measure every case and return the table's rows."""
    env = settings(folder, fake.base_url)
    seeded = seed(env, args.customers, args.connections)
    admin_env = {"BENCH_DATABASE_URL": env["DATABASE_URL"]}
    portal_app, admin_app = "wsgi:app", "benchmarks.flask_admin_app:app"

    progress(f"timing {args.startups} starts of each server")
    started_portal, started_admin = [], []
    for _ in range(args.startups):
        started_portal += startups(env, folder, portal_app, 1)
        started_admin += startups(admin_env, folder, admin_app, 1)

    rows: list[Row] = []
    with (
        Server(portal_app, env, folder / "portal.log") as portal,
        Server(admin_app, admin_env, folder / "admin.log") as admin,
    ):
        client = Client(portal.port)
        sign_in(client, ADMIN, PASSWORD)
        cookies = client.cookies
        cursors = cursor_pages(client, (100, 200))
        progress(f"signed in; page 100 starts after {cursors[100]}, page 200 after {cursors[200]}")

        def page(name: str, path: str) -> Target:
            """Return a signed-in portal page."""
            return Target(name, portal.port, path, cookies=cookies)

        health = Target("/healthz", portal.port, "/healthz")
        searches = {
            "common `acme`": "acme",
            f"rare `{seeded.rare}` (1 row)": seeded.rare,
            "none `zzqx`": "zzqx",
            f"id prefix `{seeded.id_prefix}`": seeded.id_prefix,
        }
        customers_label = f"customers ({args.customers:,} rows)"
        pages = [
            page(f"{customers_label}, first page", "/connect/"),
            page(f"{customers_label}, page 200 (`?after=`)", f"/connect/?after={cursors[200]}"),
            *[
                page(f"{customers_label}, search {label}", f"/connect/?q={quote(term)}")
                for label, term in searches.items()
            ],
            page("External Integrations (6)", "/system/external-integrations/"),
            page("API keys (11)", "/account/integrations/"),
        ]
        auth = {"Authorization": f"Bearer {seeded.key}"}
        apis = [
            Target("GET /api/v1/me", portal.port, "/api/v1/me", auth),
            Target(
                "GET getConnector",
                portal.port,
                f"/api/provisioning/getConnector/{seeded.connector}",
                auth,
            ),
        ]
        peers = [
            ("first page", "/connect/", "/admin/customer/"),
            ("page 100", f"/connect/?after={cursors[100]}", "/admin/customer/?page=99"),
            *[
                (f"search {label}", f"/connect/?q={quote(term)}", f"/admin/customer/?search={term}")
                for label, term in searches.items()
            ],
        ]
        pairs = [(target, health) for target in pages + apis] + [
            (page(name, ours), Target(name, admin.port, theirs)) for name, ours, theirs in peers
        ]
        seconds = len(pairs) * 2 * args.rounds * args.seconds
        progress(
            f"{len(pairs)} pairs x {args.rounds} rounds x 2 x {args.seconds} s: ~{seconds:.0f} s"
        )
        results = paired_rounds(pairs, args.rounds, args.seconds, args.threads)

        health_latencies = [v for r in results[: len(pages + apis)] for v in r.baseline_latencies()]
        health_rps = statistics.median(
            s.rps for r in results[: len(pages + apis)] for s in r.baseline
        )
        rows.append(
            Row(
                "Baseline",
                "GET /healthz (portal)",
                health_rps,
                percentile(health_latencies, 50),
                percentile(health_latencies, 99),
                note="every req/s below is the median of its rounds",
            )
        )
        for target, result in zip(pages, results, strict=False):
            rows.append(paired_row("Pages", target.name, result, "vs /healthz"))
        for target, result in zip(apis, results[len(pages) :], strict=False):
            rows.append(paired_row("API", target.name, result, "vs /healthz"))
        for (name, _, _), result in zip(peers, results[len(pages + apis) :], strict=True):
            rows.append(
                paired_row(
                    "vs Flask-Admin", f"customers {name}", result, "portal / Flask-Admin ModelView"
                )
            )

        progress("measuring HTMX answers against their pages")
        integration = f"/system/external-integrations/{seeded.external_integration_id}"
        full, part = htmx_bytes(
            client,
            "/system/external-integrations/",
            f"{integration}/deactivate",
            f"{integration}/activate",
        )
        rows.append(bytes_row("Disable (External Integrations)", part, full))
        base = f"/connect/customers/{seeded.merchant}/integrations/{seeded.integration_id}"
        connection = f"{base}/connections/{seeded.connector}"
        full, part = htmx_bytes(client, base, f"{connection}/disable", f"{connection}/enable")
        rows.append(bytes_row(f"Disable (a connection, page of {args.connections})", part, full))

        ours, theirs = portal.worker_rss_mb(), admin.worker_rss_mb()
        rows.append(
            Row(
                "Memory",
                "RSS per worker after the load",
                ratio=max(ours) / max(theirs),
                note=f"portal {mb(ours)} MB; Flask-Admin {mb(theirs)} MB; ratio of the larger",
            )
        )
    ratios = [a / b for a, b in zip(started_portal, started_admin, strict=True)]
    rows.append(
        Row(
            "Startup",
            "gunicorn spawn -> first 200 on /healthz",
            p50_ms=statistics.median(started_portal) * 1000,
            ratio=statistics.median(ratios),
            spread=(min(ratios), max(ratios)),
            note=f"portal / Flask-Admin ({statistics.median(started_admin) * 1000:.0f} ms); "
            f"medians of {args.startups} alternate starts",
        )
    )
    return rows


def bytes_row(case: str, part: int, full: int) -> Row:
    """Return a row comparing an HTMX answer's bytes with its full page's."""
    return Row(
        "HTMX",
        case,
        ratio=part / full,
        note=f"answer {part:,} B / full page {full:,} B",
    )


def mb(values: list[float]) -> str:
    """Format memory sizes."""
    return ", ".join(f"{value:.0f}" for value in values)


def main() -> None:
    """Run everything and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    parser.add_argument("--rounds", type=int, help="paired rounds (default 5; quick 2)")
    parser.add_argument("--seconds", type=float, help="seconds per load (default 1.0; quick 0.2)")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--customers", type=int, help="customers (default 100,000; quick 6,000)")
    parser.add_argument("--connections", type=int, default=40, help="connections on one page")
    parser.add_argument("--startups", type=int, help="starts of each server (default 3)")
    parser.add_argument("--no-scripts", action="store_true", help="skip the other scripts")
    args = parser.parse_args()
    quick = args.quick
    args.rounds = args.rounds or (2 if quick else 5)
    args.seconds = args.seconds or (0.2 if quick else 1.0)
    args.customers = args.customers or (6_000 if quick else 100_000)
    args.startups = args.startups or (1 if quick else 3)

    began = time.perf_counter()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp, FakeStripe() as fake:
        rows = measure(args, Path(tmp), fake)
    notes = []
    if not args.no_scripts:
        for name in scripts():
            full, small = SCRIPTS.get(name, ([], []))
            found, note = run_script(name, small if quick else full)
            rows += found
            notes.append(note)
            progress(note)
    load_after = load_average()

    about = machine()
    print()
    print(
        f"Machine: {about['nproc']} cores, {about['cpu']}; Python {about['python']}, "
        f"{about['system']}. Load average (1/5/15 min) before {fmt_load(load_before)}, "
        f"after {fmt_load(load_after)}."
    )
    print(
        f"gunicorn {WORKERS} workers x {THREADS} threads on 127.0.0.1, SQLite; "
        f"{args.rounds} paired rounds of {args.seconds:g} s per side from {args.threads} "
        f"keep-alive client threads; ratio = median of the rounds' ratios (lowest-highest); "
        f"p50/p99 over all rounds; whole run {time.perf_counter() - began:.0f} s."
    )
    print()
    print(format_table(rows))
    if notes:
        print()
        print("Scripts: " + "; ".join(notes) + ".")


def fmt_load(values: tuple[float, float, float]) -> str:
    """Format load averages."""
    return " / ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()
