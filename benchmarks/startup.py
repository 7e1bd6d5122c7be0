"""Startup time and worker memory of `gunicorn wsgi:app`, as `make run` serves it.

Usage: .venv/bin/python benchmarks/startup.py [--rounds 7] [--requests 3000] [--threads 4]
                                              [--repo DIR] [--json]

1. Startup: in each round, spawn gunicorn (gunicorn.conf.py from the checkout, 2 workers of
   8 threads) on a free 127.0.0.1 port against a fresh instance folder and database, and time
   spawn to the first 200 of /healthz (polled every 5 ms). Prints the median, the spread
   (min-max) and every round. Target: under 0.6 s. On a shared machine that time grows with
   the load; the CPU time it took is printed beside it (the master's plus the busiest
   worker's, from /proc/<pid>/stat): what a start costs on an idle machine, where the two
   workers boot side by side on two cores.
2. Memory: one more server takes a load of `--requests` requests to each of /healthz,
   /api/v1/me (a valid key) and a signed-in page (API keys), then the resident memory
   (VmRSS in /proc/<pid>/status) of each worker is read. Target: every worker under 75 MB.

The load average is printed before and after: the machine is shared, and startup time moves
with it. `--json` prints one JSON object instead of the text. `--repo DIR` measures another
checkout (for example the code before a change) with this same script.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark password 1"  # what benchmarks/api_auth.py's seed() gives its user
PAGE = "/account/integrations/"


def free_port() -> int:
    """Return a port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def instance(folder: Path) -> tuple[dict[str, str], str]:
    """Make a fresh instance (secrets, migrated database, a user and a key) in the folder.

    Returns the server's environment and the API key. The seeding runs in a subprocess so
    this process never imports the portal (its memory and import time are not measured, but
    the seed's imports should not warm the page cache of one round more than another).
    """
    from cryptography.fernet import Fernet

    config = {
        "SECRET_KEY": os.urandom(32).hex(),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "API_KEY_PEPPER": os.urandom(32).hex(),
    }
    database_url = f"sqlite:///{folder / 'portal.db'}"
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "from benchmarks.api_auth import seed;"
        "print(seed(sys.argv[3], json.loads(sys.argv[4])))"
    )
    key = subprocess.run(
        [sys.executable, "-c", script, str(ROOT), str(REPO), database_url, json.dumps(config)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": config["SECRET_KEY"],
        "PORTAL_ENCRYPTION_KEYS": config["ENCRYPTION_KEYS"],
        "PORTAL_API_KEY_PEPPER": config["API_KEY_PEPPER"],
        "PORTAL_JOBS_STORE": f"sqlite:///{folder / 'jobs.db'}",
        # The load below must not meet the per-key limit.
        "PORTAL_API_RATE_LIMIT": "100000 per second",
    }
    return env, key


def spawn(env: dict[str, str], port: int) -> subprocess.Popen:
    """Start gunicorn as `make run` serves it (threads), with 2 workers."""
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "2", "--threads", "8", "wsgi:app"]
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: str = ""
) -> http.client.HTTPResponse:
    """Send one request on a new connection; return the response, its body read."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        return response
    finally:
        connection.close()


def cpu_seconds(pid: int | str) -> float:
    """Return the CPU time (user + system) the process has used, in seconds."""
    # Fields 14 and 15 of /proc/<pid>/stat, counted after the command name's parenthesis.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def boot_cpu_seconds(master: int) -> float:
    """Return the CPU time of the master and of its busiest worker so far."""
    workers = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return cpu_seconds(master) + max((cpu_seconds(pid) for pid in workers), default=0.0)


def time_to_first_200(env: dict[str, str], deadline: float = 30.0) -> tuple[float, float]:
    """Spawn a server; return the seconds until /healthz first answers 200, and the CPU."""
    port = free_port()
    started = time.perf_counter()
    process = spawn(env, port)
    try:
        while time.perf_counter() - started < deadline:
            try:
                if request(port, "GET", "/healthz").status == 200:
                    return time.perf_counter() - started, boot_cpu_seconds(process.pid)
            except OSError:
                pass
            time.sleep(0.005)
        raise SystemExit("gunicorn did not answer /healthz in time")
    finally:
        process.terminate()
        process.wait(timeout=30)


def sign_in(port: int) -> str:
    """Sign the benchmark user in; return the Cookie header of the session."""
    page = request(port, "GET", "/login")
    cookie = page.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(rb'name="csrf-token" content="([^"]+)"', page.body).group(1).decode()
    form = f"email=bench%40example.com&password={PASSWORD.replace(' ', '+')}&csrf_token={token}"
    answer = request(
        port,
        "POST",
        "/login",
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        form,
    )
    if answer.status != 303:
        raise SystemExit(f"sign-in failed: {answer.status}")
    return answer.getheader("Set-Cookie", "").split(";", 1)[0]


def load(port: int, path: str, headers: dict[str, str], requests: int, threads: int) -> None:
    """Send `requests` GETs from `threads` clients; stop on any answer but 200."""
    failures: list[int] = []

    def client() -> None:
        for _ in range(requests // threads):
            status = request(port, "GET", path, headers).status
            if status != 200:
                failures.append(status)
                return

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise SystemExit(f"{path} answered {sorted(set(failures))}")


def worker_rss_mb(master: int) -> list[float]:
    """Return the resident memory of each of the master's workers, in MB."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    found = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        found.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return sorted(found)


def memory_after_load(env: dict[str, str], key: str, requests: int, threads: int) -> list[float]:
    """Serve a load of the three kinds of request; return each worker's resident MB."""
    port = free_port()
    process = spawn(env, port)
    try:
        for _ in range(3000):
            try:
                if request(port, "GET", "/healthz").status == 200:
                    break
            except OSError:
                time.sleep(0.01)
        cookie = sign_in(port)
        load(port, "/healthz", {}, requests, threads)
        load(port, "/api/v1/me", {"Authorization": f"Bearer {key}"}, requests, threads)
        load(port, PAGE, {"Cookie": cookie}, requests, threads)
        return worker_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    """Measure startup over the rounds, then memory after load; print the figures."""
    global REPO
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="startups timed")
    parser.add_argument("--requests", type=int, default=3000, help="requests per kind of load")
    parser.add_argument("--threads", type=int, default=4, help="client threads of the load")
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    REPO = args.repo.resolve()

    load_before = os.getloadavg()[0]
    startups, cpus = [], []
    for _ in range(args.rounds):
        # A fresh instance folder and database each round: nothing cached by an earlier one.
        with tempfile.TemporaryDirectory(prefix="portal-startup-") as folder:
            env, _key = instance(Path(folder))
            wall, cpu = time_to_first_200(env)
            startups.append(wall)
            cpus.append(cpu)
    with tempfile.TemporaryDirectory(prefix="portal-startup-") as folder:
        env, key = instance(Path(folder))
        rss = memory_after_load(env, key, args.requests, args.threads)
    load_after = os.getloadavg()[0]

    result = {
        "code": str(REPO),
        "rounds": args.rounds,
        "startup_seconds": {
            "median": round(statistics.median(startups), 3),
            "min": round(min(startups), 3),
            "max": round(max(startups), 3),
            "rounds": [round(value, 3) for value in startups],
            "target": 0.6,
        },
        "startup_cpu_seconds": {
            "median": round(statistics.median(cpus), 3),
            "min": round(min(cpus), 3),
            "max": round(max(cpus), 3),
            "rounds": [round(value, 3) for value in cpus],
        },
        "worker_rss_mb": {
            "workers": [round(value, 1) for value in rss],
            "max": round(max(rss), 1),
            "requests_per_kind": args.requests,
            "kinds": ["/healthz", "/api/v1/me", PAGE],
            "target": 75,
        },
        "load_average": {"before": round(load_before, 2), "after": round(load_after, 2)},
    }
    if args.json:
        print(json.dumps(result))
        return
    startup = result["startup_seconds"]
    print(f"code under test: {REPO}")
    print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after")
    print(
        f"spawn to first 200 of /healthz: median {startup['median']:.3f} s, "
        f"spread {startup['min']:.3f}-{startup['max']:.3f} s over {args.rounds} rounds "
        f"({', '.join(f'{v:.3f}' for v in startups)}); target < 0.6 s"
    )
    cpu = result["startup_cpu_seconds"]
    print(
        f"CPU time to that first 200 (master + busiest worker): median {cpu['median']:.3f} s, "
        f"spread {cpu['min']:.3f}-{cpu['max']:.3f} s ({', '.join(f'{v:.2f}' for v in cpus)})"
    )
    print(
        f"worker resident memory after {args.requests} requests each to /healthz, /api/v1/me "
        f"and {PAGE}: {', '.join(f'{v:.1f}' for v in rss)} MB; target < 75 MB each"
    )


REPO = ROOT

if __name__ == "__main__":
    main()
