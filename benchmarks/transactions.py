"""Transactions: API throughput against /healthz, delivered transmits by 1 and 2 workers, report.

Usage: .venv/bin/python benchmarks/transactions.py [--requests 1200] [--threads 4]
       [--rounds 5] [--deliveries 600] [--report-rows 100000]

In one run, on temporary SQLite databases (the portal's and Huey's job store):

1. starts a FlexCharge-like server on 127.0.0.1 (tests/support/fake_flexcharge.py), onboards a
   merchant (all profiles Sandbox, credentials verified against it, one site), and starts
   gunicorn with 2 workers;
2. in paired rounds, sends the same number of GET /healthz and POST /api/v1/transactions
   (approved, so no FlexCharge call happens in the request: the transmit is queued) from a few
   client threads, and prints each round's ratio and their median;
3. queues --deliveries transmits, starts ONE worker (`flask --app wsgi worker`) and measures
   delivered transmits per second from the first to the last delivery (worker start-up is not
   counted); then the same with TWO workers;
4. bulk-inserts --report-rows transactions and times the report page and the CSV export
   in-process against the same with 100 rows.

It prints the load average before and after, since the machine is shared. `--json` adds one
JSON object as the last line of the output, for `make bench` (benchmarks/bench.py): the figures
as table rows.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from benchmarks.api_auth import run_clients  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.jobs import job_queue  # noqa: E402
from portal.models import Delivery, Transaction  # noqa: E402
from portal.schemas.accounts import NewUser  # noqa: E402
from portal.schemas.api_keys import ApiKeyInput  # noqa: E402
from portal.schemas.connect import CustomerInput  # noqa: E402
from portal.schemas.flexcharge import CredentialsInput, ProfilesInput, SiteInput  # noqa: E402
from portal.services import api_keys, customers, setup, users  # noqa: E402
from portal.services import flexcharge_merchants as merchants  # noqa: E402
from portal.services.actor import Actor  # noqa: E402
from portal.web.registry import flexcharge  # noqa: E402
from tests.support.fake_flexcharge import FakeFlexCharge  # noqa: E402
from tests.support.web import sign_in  # noqa: E402

ACTOR = Actor.system("benchmark")
PASSWORD = "benchmark password 1"


def settings(
    tmp: Path, fake: FakeFlexCharge, database_url: str | None, jobs_store: str | None
) -> dict[str, str]:
    """Return the environment of the served app and its workers."""
    return {
        **os.environ,
        "DATABASE_URL": database_url or f"sqlite:///{tmp / 'portal.db'}",
        "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PORTAL_API_KEY_PEPPER": secrets.token_hex(32),
        # The per-key limit (50/s) would answer 429 to the load; lifted as provisioning.py does.
        "PORTAL_API_RATE_LIMIT": "1000000 per second",
        "PORTAL_JOBS_STORE": jobs_store or f"sqlite:///{tmp / 'jobs.db'}",
        "FLEXCHARGE_SANDBOX_API_BASE": fake.base_url("sandbox"),
        "FLEXCHARGE_PRODUCTION_API_BASE": fake.base_url("production"),
    }


def app_for(env: dict[str, str]):
    """Build an app in this process with the served app's settings."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "SECRET_KEY": env["PORTAL_SECRET_KEY"],
            "ENCRYPTION_KEYS": env["PORTAL_ENCRYPTION_KEYS"],
            "API_KEY_PEPPER": env["PORTAL_API_KEY_PEPPER"],
            "JOBS_STORE": env["PORTAL_JOBS_STORE"],
            "FLEXCHARGE_SANDBOX_API_BASE": env["FLEXCHARGE_SANDBOX_API_BASE"],
            "FLEXCHARGE_PRODUCTION_API_BASE": env["FLEXCHARGE_PRODUCTION_API_BASE"],
        }
    )


def seed(app) -> tuple[str, str]:
    """Migrate, onboard a merchant and make a Sandbox key; return (merchant id, key)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # A scratch database given on the command line starts empty.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        if str(app.config["JOBS_STORE"]).startswith("redis"):
            job_queue().huey.flush()
        upgrade()
        setup.ensure_account(ACTOR)
        users.create_user(
            ACTOR, NewUser(email="bench@example.com", password=PASSWORD, role="admin")
        )
        company = customers.default_company()
        merchant = customers.create_customer(
            ACTOR, CustomerInput(name="Bench Merchant"), company.id
        )
        merchants.set_enabled(ACTOR, merchant, True)
        merchants.set_profiles(
            ACTOR,
            merchant,
            ProfilesInput(cit_website="sandbox", cit_call_center="sandbox", mit="sandbox"),
        )
        credentials = CredentialsInput(
            mid="0ba84f6e-1b2c-4d5e-8f90-123456789abc",
            app_key="bench",
            app_secret="bench-secret-000",
        )
        merchants.save_credentials(ACTOR, merchant, "sandbox", credentials, flexcharge())
        merchants.add_site(
            ACTOR, merchant, SiteInput(url="https://shop.example.com", descriptor="BENCH")
        )
        key = api_keys.generate_api_key(
            ACTOR,
            ApiKeyInput(name="Bench", company_id=company.id, environment="sandbox"),
            app.config["API_KEY_PEPPER"].encode(),
        )
        return merchant.public_id, key.plaintext


def body(merchant: str) -> bytes:
    """Return an approved CIT website transaction with fresh ids."""
    return json.dumps(
        {
            "merchant": merchant,
            "orderId": "o-" + secrets.token_hex(6),
            "transaction": {
                "id": "t-" + secrets.token_hex(6),
                "amount": 1999,
                "currency": "USD",
                "status": "approved",
                "timestampUtc": "2026-05-01T12:30:00Z",
            },
            "initiator": "CIT",
            "channel": "website",
            "siteUrl": "https://shop.example.com",
            "customerIp": "203.0.113.7",
            "payer": {"email": "payer@example.com"},
            "card": {
                "brand": "VISA",
                "bin": "411111",
                "last4": "1111",
                "expMonth": 12,
                "expYear": 2030,
            },
        }
    ).encode()


def start_gunicorn(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """Start gunicorn with 2 workers on a free port; return the process and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "2", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    port, booted = None, 0
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
        port = int(match.group(1)) if match else port
        booted += "Booting worker" in line
        if port and booted == 2:
            break
    if port is None:
        process.kill()
        raise SystemExit("gunicorn did not start")
    threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
    return process, port


def request(port: int, method: str, path: str, payload: bytes | None, headers: dict) -> int:
    """Send one request on a new connection; return the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def load(port: int, make, count: int, threads: int, expected: int) -> float:
    """Send `count` requests from `threads` clients; return requests per second."""
    per_thread = count // threads
    failures: list[int] = []

    def client() -> None:
        """Send this thread's share of the requests."""
        for _ in range(per_thread):
            status = make()
            if status != expected:
                failures.append(status)

    elapsed = run_clients(client, threads)
    if failures:
        raise SystemExit(f"{len(failures)} requests failed: {sorted(set(failures))}")
    return per_thread * threads / elapsed


def delivered_rate(app, env: dict[str, str], workers: int, expected: int) -> tuple[float, int]:
    """Start `workers` worker processes; return transmits/s (first to last) and the count."""
    with app.app_context():
        before = (
            db.session.scalar(select(func.max(Delivery.id)).where(Delivery.state == "delivered"))
            or 0
        )
        db.session.remove()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--no-periodic"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with app.app_context():
                pending = db.session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.state != "delivered")
                )
                db.session.remove()
            if pending == 0:
                break
            time.sleep(0.2)
        else:
            raise SystemExit("the workers did not deliver everything within 10 minutes")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    with app.app_context():
        times = db.session.execute(
            select(
                func.min(Delivery.delivered_at), func.max(Delivery.delivered_at), func.count()
            ).where(Delivery.state == "delivered", Delivery.id > before)
        ).one()
        db.session.remove()
    first, last, count = times
    assert count == expected, (count, expected)
    return (count - 1) / max((last - first).total_seconds(), 1e-6), count


def queue_transactions(port: int, merchant: str, key: str, count: int, threads: int) -> None:
    """Send approved transactions (each queues one transmit)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    load(
        port,
        lambda: request(port, "POST", "/api/v1/transactions", body(merchant), headers),
        count,
        threads,
        201,
    )


def bulk_transactions(app, merchant_public_id: str, rows: int) -> None:
    """Insert transactions straight into the table (spread over 90 days, mixed states)."""
    with app.app_context():
        customer = customers.get_customer(merchant_public_id)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        batch = []
        for n in range(rows):
            moment = start + timedelta(minutes=n * 90 * 24 * 60 // max(rows, 1))
            declined = n % 4 == 0
            batch.append(
                {
                    "customer_id": customer.id,
                    "key_environment": "sandbox",
                    "order_id": f"bulk-{n}",
                    "external_id": f"bulk-{n}",
                    "amount": 100 + n % 5000,
                    "currency": ("USD", "EUR", "JPY")[n % 3],
                    "status": "declined" if declined else "approved",
                    "occurred_at": moment,
                    "occurred_on": moment.date(),
                    "received_at": moment,
                    "initiator": "CIT",
                    "channel": "website",
                    "profile": ("cit_website", "cit_call_center", "mit")[n % 3],
                    "site_url": f"https://site{n % 7}.example.com",
                    "descriptor": f"SITE {n % 7}",
                    "payer": {"email": "p@example.com"},
                    "environment": "sandbox" if n % 5 else None,
                    "transmit_state": ("sent", "sent", "pending", "failed", "not_sent")[n % 5],
                    "transmit_reason": "profile_off" if n % 5 == 4 else None,
                    "evaluate_state": "answered" if declined else None,
                    "evaluate_status": ("APPROVED", "DECLINED", "CHALLENGE")[n % 3]
                    if declined
                    else None,
                }
            )
            if len(batch) == 5000:
                db.session.execute(insert(Transaction), batch)
                batch = []
        if batch:
            db.session.execute(insert(Transaction), batch)
        db.session.commit()
        db.session.remove()


def time_report(app, repeat: int) -> tuple[float, float]:
    """Return the median ms of the report page and of the CSV export, signed in."""
    client = app.test_client()
    assert sign_in(client, "bench@example.com", PASSWORD).status_code == 303
    page, export = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        assert client.get("/connect/flexcharge/report").status_code == 200
        page.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        response = client.get("/connect/flexcharge/report.csv?since=2026-03-01&until=2026-03-07")
        assert response.status_code == 200 and response.get_data()
        export.append((time.perf_counter() - started) * 1000)
    return statistics.median(page), statistics.median(export)


def spread(values: list[float], digits: int = 2) -> str:
    """Format each round's value."""
    return ", ".join(f"{value:.{digits}f}" for value in values)


def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1200, help="requests per endpoint")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds")
    parser.add_argument("--deliveries", type=int, default=600, help="transmits per worker run")
    parser.add_argument("--report-rows", type=int, default=100_000, help="rows for the report")
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (emptied!)")
    parser.add_argument("--jobs-store", help="a scratch Redis URL for the job queue (flushed)")
    parser.add_argument("--json", action="store_true", help="end with the figures as JSON")
    args = parser.parse_args()
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f}")

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp, FakeFlexCharge() as fake:
        env = settings(Path(tmp), fake, args.database_url, args.jobs_store)
        print(f"database: {env['DATABASE_URL'].split('@')[-1]}; jobs: {env['PORTAL_JOBS_STORE']}")
        app = app_for(env)
        merchant, key = seed(app)
        process, port = start_gunicorn(env)
        try:
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            health, accepted, ratios = [], [], []
            per_round = args.requests // args.rounds
            # Warm-up (not measured): both workers import, connect and fill their caches.
            load(port, lambda: request(port, "GET", "/healthz", None, {}), 40, args.threads, 200)
            queue_transactions(port, merchant, key, 40, args.threads)
            for _ in range(args.rounds):
                health.append(
                    load(
                        port,
                        lambda: request(port, "GET", "/healthz", None, {}),
                        per_round,
                        args.threads,
                        200,
                    )
                )
                accepted.append(
                    load(
                        port,
                        lambda: request(
                            port, "POST", "/api/v1/transactions", body(merchant), headers
                        ),
                        per_round,
                        args.threads,
                        201,
                    )
                )
                ratios.append(accepted[-1] / health[-1])
            print(f"/healthz req/s by round:                 {spread(health, 0)}")
            print(f"POST /api/v1/transactions req/s by round: {spread(accepted, 0)}")
            print(
                f"ratio by round: {spread(ratios)}; median ratio {statistics.median(ratios):.2f} "
                f"(spread {min(ratios):.2f}-{max(ratios):.2f}, {args.rounds} rounds)"
            )
            sent = (per_round // args.threads * args.threads) * args.rounds + 40
            one, count_one = delivered_rate(app, env, 1, sent)
            print(f"delivered transmits/s, 1 worker:  {one:.0f} ({count_one} transmits)")
            queue_transactions(port, merchant, key, args.deliveries, args.threads)
            two, count_two = delivered_rate(
                app, env, 2, args.deliveries // args.threads * args.threads
            )
            print(
                f"delivered transmits/s, 2 workers: {two:.0f} ({count_two} transmits); "
                f"2 workers / 1 worker = {two / one:.2f}"
            )
        finally:
            process.terminate()
            process.wait(timeout=30)

        small_page, small_csv = time_report(app, 10)
        bulk_transactions(app, merchant, args.report_rows)
        big_page, big_csv = time_report(app, 10)
        print(
            f"report page: {small_page:.1f} ms at ~{count_one + count_two} rows, "
            f"{big_page:.1f} ms at +{args.report_rows} rows (ratio {big_page / small_page:.1f})"
        )
        print(f"CSV export of one week: {small_csv:.1f} ms / {big_csv:.1f} ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        figures = {
            "health": health,
            "accepted": accepted,
            "ratios": ratios,
            "delivered": [one, two],
            "report_ms": [small_page, big_page],
            "csv_ms": [small_csv, big_csv],
        }
        print(json.dumps(as_json(figures, args, load_before, os.getloadavg())))


def as_json(figures: dict, args, load_before, load_after) -> dict:
    """Return the figures as `make bench` reads them: table rows, the rounds and the load."""
    ratios = figures["ratios"]
    one, two = figures["delivered"]
    small_page, big_page = figures["report_ms"]
    rows = [
        {
            "section": "Transaction API",
            "case": "POST /api/v1/transactions (approved, transmit queued)",
            "rps": statistics.median(figures["accepted"]),
            "ratio": statistics.median(ratios),
            "spread": [min(ratios), max(ratios)],
            "note": f"vs /healthz ({statistics.median(figures['health']):.0f} req/s), "
            f"{args.rounds} rounds",
        },
        {
            "section": "Job workers",
            "case": "delivered transmits/s, 1 worker",
            "rps": one,
            "note": "transmits/s, first to last delivery",
        },
        {
            "section": "Job workers",
            "case": "delivered transmits/s, 2 workers",
            "rps": two,
            "ratio": two / one,
            "note": "vs 1 worker",
        },
        {
            "section": "Transaction API",
            "case": f"FlexCharge report page, +{args.report_rows:,} rows (in-process)",
            "p50_ms": big_page,
            "ratio": big_page / small_page,
            "note": f"vs the page at a few hundred rows ({small_page:.1f} ms)",
        },
    ]
    return {
        "script": "transactions",
        "rows": rows,
        **figures,
        "load_before": load_before,
        "load_after": load_after,
    }


if __name__ == "__main__":
    main()
