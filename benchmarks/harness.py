"""What `make bench` is built from: gunicorn servers, a keep-alive client, paired rounds, a table.

Ratios are taken within a round between two loads measured back to back (the case and its
baseline), so load from elsewhere on the shared machine falls on both sides of each pair; the
result is the median of the rounds' ratios with their spread (lowest-highest).
"""

from __future__ import annotations

import http.client
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Self
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parent.parent
# As `make run` serves (Procfile: gthread workers of 8 threads), with the 2 workers of issue 13.
WORKERS = 2
THREADS = 8


def free_port() -> int:
    """Return a 127.0.0.1 port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_average() -> tuple[float, float, float]:
    """Return the 1, 5 and 15 minute load averages."""
    return os.getloadavg()


def machine() -> dict[str, str | int]:
    """Describe the machine: cores, CPU model, Python and kernel."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count() or 0,
        "cpu": model,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


class Server:
    """gunicorn serving one WSGI app on a free 127.0.0.1 port, with its startup time and RSS."""

    def __init__(self, app: str, env: dict[str, str], log: Path, *, workers: int = WORKERS):
        self.app = app
        self.env = {**os.environ, **env}
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.startup_seconds = 0.0

    def __enter__(self) -> Self:
        """Spawn gunicorn and wait for its first 200 on /healthz, timing it."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(THREADS),
            self.app,
        ]
        started = time.perf_counter()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = started + 60
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.app} exited at start; see {self.log}")
            try:
                if Client(self.port).request("GET", "/healthz").status == 200:
                    self.startup_seconds = time.perf_counter() - started
                    return self
            except OSError:
                time.sleep(0.01)
        self.__exit__(None, None, None)
        raise SystemExit(f"{self.app} did not answer /healthz within 60 s; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        """Stop gunicorn (SIGTERM: its workers finish what they serve)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def worker_pids(self) -> list[int]:
        """Return the pids of the master's children (its workers)."""
        assert self.process is not None
        pid = self.process.pid
        return [int(n) for n in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def worker_rss_mb(self) -> list[float]:
        """Return the resident memory of each worker, in MB."""
        sizes = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
        return sizes


@dataclass
class Response:
    """A status, the headers and the body of one answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """Return the body decoded as UTF-8."""
        return self.body.decode()


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 with a cookie jar (one per thread)."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.port = port
        self.cookies = dict(cookies or {})
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send one request, reconnecting once if the server closed the idle connection."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                answer = self.connection.getresponse()
                data = answer.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        for value in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        if answer.will_close:
            self.close()
        return Response(answer.status, dict(answer.getheaders()), data)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        """GET a path."""
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, data: dict[str, str], headers: dict[str, str] | None = None):
        """POST a form."""
        body = "&".join(f"{k}={quote_plus(v)}" for k, v in data.items()).encode()
        form = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", path, body=body, headers=form)

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def csrf_token(html: str) -> str:
    """Return the CSRF token a portal page carries in its <meta name="csrf-token">."""
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    if match is None:
        raise ValueError("no csrf-token meta on the page")
    return match.group(1)


def sign_in(client: Client, email: str, password: str) -> None:
    """Sign in through the portal's form; the session cookie stays in the client's jar."""
    token = csrf_token(client.get("/login").text)
    answer = client.post_form("/login", {"email": email, "password": password, "csrf_token": token})
    if answer.status != 303:
        raise SystemExit(f"sign-in as {email} failed: {answer.status}")


@dataclass(frozen=True)
class Target:
    """A request to load: a name, the server's port, the path, headers and cookies."""

    name: str
    port: int
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    expect: int = 200


@dataclass
class Sample:
    """One load of a target: requests answered, wall seconds and each request's latency."""

    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        """Return requests per second."""
        return self.requests / self.seconds


def run_load(target: Target, seconds: float, threads: int) -> Sample:
    """Load the target from `threads` keep-alive clients for about `seconds` (>= 1 each)."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    failures: list[int] = []
    clients = [Client(target.port, target.cookies) for _ in range(threads)]
    barrier = threading.Barrier(threads + 1)
    deadline = [0.0]

    def work(client: Client, found: list[float]) -> None:
        """Send requests until the deadline."""
        barrier.wait()
        while True:
            started = time.perf_counter()
            status = client.get(target.path, target.headers).status
            found.append((time.perf_counter() - started) * 1000)
            if status != target.expect:
                failures.append(status)
            if time.perf_counter() >= deadline[0] or failures:
                break
        client.close()

    workers = [
        threading.Thread(target=work, args=(c, found))
        for c, found in zip(clients, latencies, strict=True)
    ]
    for worker in workers:
        worker.start()
    started = time.perf_counter()
    deadline[0] = started + seconds
    barrier.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{target.name} ({target.path}): status {sorted(set(failures))}")
    merged = [value for found in latencies for value in found]
    return Sample(len(merged), elapsed, merged)


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0-100), interpolating between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Paired:
    """The rounds of a case measured back to back with its baseline."""

    case: list[Sample] = field(default_factory=list)
    baseline: list[Sample] = field(default_factory=list)

    def ratios(self) -> list[float]:
        """Return each round's ratio of the case's requests/s to the baseline's."""
        return [c.rps / b.rps for c, b in zip(self.case, self.baseline, strict=True)]

    def ratio(self) -> float:
        """Return the median of the rounds' ratios."""
        return statistics.median(self.ratios())

    def spread(self) -> tuple[float, float]:
        """Return the lowest and highest round ratio."""
        ratios = self.ratios()
        return min(ratios), max(ratios)

    def rps(self) -> float:
        """Return the case's median requests/s over the rounds."""
        return statistics.median(sample.rps for sample in self.case)

    def baseline_rps(self) -> float:
        """Return the baseline's median requests/s over the rounds."""
        return statistics.median(sample.rps for sample in self.baseline)

    def latencies(self) -> list[float]:
        """Return every latency of the case, all rounds pooled."""
        return [value for sample in self.case for value in sample.latencies_ms]

    def baseline_latencies(self) -> list[float]:
        """Return every latency of the baseline, all rounds pooled."""
        return [value for sample in self.baseline for value in sample.latencies_ms]


def paired_rounds(
    pairs: Sequence[tuple[Target, Target]], rounds: int, seconds: float, threads: int
) -> list[Paired]:
    """Measure each (case, baseline) pair back to back in every round; warm both up first.

    The order inside a pair alternates between rounds, so neither side always goes first.
    """
    for case, baseline in pairs:
        run_load(baseline, min(seconds, 0.3), threads)
        run_load(case, min(seconds, 0.3), threads)
    results = [Paired() for _ in pairs]
    for round_ in range(rounds):
        for (case, baseline), result in zip(pairs, results, strict=True):
            if round_ % 2:
                result.case.append(run_load(case, seconds, threads))
                result.baseline.append(run_load(baseline, seconds, threads))
            else:
                result.baseline.append(run_load(baseline, seconds, threads))
                result.case.append(run_load(case, seconds, threads))
    return results


@dataclass
class Row:
    """One line of the table; empty cells are None."""

    section: str
    case: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None
    spread: tuple[float, float] | None = None
    note: str = ""


def paired_row(section: str, case: str, paired: Paired, versus: str) -> Row:
    """Summarise a pair's rounds as a table row: the case's figures and the ratio's spread."""
    latencies = paired.latencies()
    return Row(
        section,
        case,
        paired.rps(),
        percentile(latencies, 50),
        percentile(latencies, 99),
        paired.ratio(),
        paired.spread(),
        f"{versus} ({paired.baseline_rps():,.0f} req/s)",
    )


def _number(value: float | None, digits: int) -> str:
    """Format a number, or an empty cell."""
    return "" if value is None else f"{value:,.{digits}f}"


def format_ratio(row: Row) -> str:
    """Format the ratio with its spread: `0.72 (0.65-0.80)`."""
    if row.ratio is None:
        return ""
    text = f"{row.ratio:.2f}"
    if row.spread is not None:
        text += f" ({row.spread[0]:.2f}-{row.spread[1]:.2f})"
    return text


def format_table(rows: Sequence[Row]) -> str:
    """Render the rows as one Markdown table (it goes into README.md as it is)."""
    lines = [
        "| section | case | req/s | p50 ms | p99 ms | ratio (spread) | vs / note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        cells = [
            row.section,
            row.case,
            _number(row.rps, 0),
            _number(row.p50_ms, 2),
            _number(row.p99_ms, 2),
            format_ratio(row),
            row.note,
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)
