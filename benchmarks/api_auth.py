"""Load /api/v1/me (API-key auth) against /healthz on gunicorn with 2 workers; print the ratio.

Usage: .venv/bin/python benchmarks/api_auth.py [--requests 6000] [--threads 4] [--rounds 5]

It migrates and seeds a temporary SQLite database (one user, one Sandbox key), starts
gunicorn on a free 127.0.0.1 port with PORTAL_BENCHMARK=1 (API answers then carry
`X-Portal-Argon2-Verifications: <pid>:<count>`), sends the same bounded number of requests to
each endpoint from a few client threads in paired rounds, and prints requests/s, the median
of the rounds' ratios (target >= 0.6) and how many argon2 verifications ran
(target: at most one per worker per cache TTL).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VERIFICATIONS_HEADER = "X-Portal-Argon2-Verifications"


def seed(database_url: str, secret_key: str, encryption_key: str) -> str:
    """Migrate the database, create a user and a Sandbox key; return the key."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.services import api_keys, companies, setup, users
    from portal.services.actor import Actor

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": secret_key,
            "ENCRYPTION_KEYS": encryption_key,
        }
    )
    with app.app_context():
        upgrade()
        actor = Actor.system("benchmark")
        setup.ensure_account(actor)
        user = users.create_user(actor, "bench@example.com", "benchmark password 1", "admin")
        company_id = companies.list_companies()[0].id
        new = api_keys.generate_api_key(Actor(user=user), "Benchmark", company_id, "sandbox")
        return new.plaintext


def drain(stream) -> None:
    """Read and drop a stream until it closes."""
    for _ in stream:
        pass


def start_gunicorn(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """Start gunicorn with 2 workers on a free port; return the process and its port."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--log-level",
            "info",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    port = None
    booted = 0
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
        if match:
            port = int(match.group(1))
        if "Booting worker" in line:
            booted += 1
        if port and booted == 2:
            break
    if port is None:
        process.kill()
        raise SystemExit("gunicorn did not start")
    # Keep draining its log so a full pipe never blocks the workers.
    threading.Thread(target=drain, args=(process.stderr,), daemon=True).start()
    return process, port


def get(port: int, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """Send one GET on a new connection (gunicorn's sync workers close after each answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def wait_ready(port: int) -> None:
    """Wait until /healthz answers (bounded)."""
    for _ in range(100):
        try:
            if get(port, "/healthz", {}).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("gunicorn did not answer /healthz")


def load(
    port: int, path: str, headers: dict[str, str], requests: int, threads: int
) -> tuple[float, dict[str, int]]:
    """Send `requests` GETs from `threads` clients; return requests/s and argon2 counts by pid."""
    per_thread = requests // threads
    counts: dict[str, int] = {}
    failures: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(per_thread):
            response = get(port, path, headers)
            with lock:
                if response.status != 200:
                    failures.append(response.status)
                seen = response.getheader(VERIFICATIONS_HEADER)
                if seen:
                    pid, count = seen.split(":")
                    counts[pid] = max(counts.get(pid, 0), int(count))

    workers = [threading.Thread(target=client) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests to {path} failed: {sorted(set(failures))}")
    return per_thread * threads / elapsed, counts


def rounds(values: list[float], digits: int = 0) -> str:
    """Format one figure of each round."""
    return ", ".join(f"{value:.{digits}f}" for value in values)


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000, help="requests per endpoint")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds")
    args = parser.parse_args()

    from cryptography.fernet import Fernet

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'portal.db'}"
        secret_key = os.urandom(32).hex()
        encryption_key = Fernet.generate_key().decode()
        key = seed(database_url, secret_key, encryption_key)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PORTAL_SECRET_KEY": secret_key,
            "PORTAL_ENCRYPTION_KEYS": encryption_key,
            "PORTAL_BENCHMARK": "1",
        }
        process, port = start_gunicorn(env)
        try:
            wait_ready(port)
            auth = {"Authorization": f"Bearer {key}"}
            # Each round measures /healthz and then /api/v1/me back to back, and the ratio is
            # taken within the round: load from elsewhere on the machine hits both sides of a
            # pair alike. The median of the rounds' ratios is the result.
            health_runs, me_runs, counts = [], [], {}
            per_round = args.requests // args.rounds
            for _ in range(args.rounds):
                health_runs.append(load(port, "/healthz", {}, per_round, args.threads)[0])
                rps, seen = load(port, "/api/v1/me", auth, per_round, args.threads)
                me_runs.append(rps)
                for pid, count in seen.items():
                    counts[pid] = max(counts.get(pid, 0), count)
            ratios = [me / health for me, health in zip(me_runs, health_runs, strict=True)]
        finally:
            process.terminate()
            process.wait(timeout=10)

    print(
        f"requests per endpoint: {args.requests} in {args.rounds} paired rounds, "
        f"client threads: {args.threads}, gunicorn workers: 2"
    )
    print(
        f"/healthz     median {statistics.median(health_runs):8.1f} requests/s  "
        f"(rounds: {rounds(health_runs)})"
    )
    print(
        f"/api/v1/me   median {statistics.median(me_runs):8.1f} requests/s  "
        f"(rounds: {rounds(me_runs)})"
    )
    print(
        f"ratio me/healthz: median {statistics.median(ratios):.2f} of the rounds' ratios "
        f"({rounds(ratios, 2)}); target >= 0.6"
    )
    total = sum(counts.values())
    print(
        f"argon2 verifications: {total} across {len(counts)} workers "
        f"({', '.join(f'pid {pid}: {n}' for pid, n in sorted(counts.items()))}); "
        "target: at most one per worker per cache TTL"
    )


if __name__ == "__main__":
    main()
