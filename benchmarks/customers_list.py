"""Measure the Connect customers page at 100 and 100,000 customers and print the ratio.

Each size gets its own temporary SQLite database, migrated like production and filled by
one bulk insert. A signed-in test client then requests the page repeatedly; the median
latency of each size and their ratio are printed (target: ratio <= 1.5).

    .venv/bin/python benchmarks/customers_list.py [--repeat 60]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
import uuid

from cryptography.fernet import Fernet
from flask_migrate import upgrade
from sqlalchemy import insert

from portal import create_app
from portal.core.names import name_key
from portal.core.public_ids import CUSTOMER_PREFIX, new_public_id
from portal.extensions import db
from portal.models import Customer
from portal.models.base import utcnow
from portal.schemas.accounts import NewUser
from portal.services import customers, setup, users
from portal.services.actor import Actor

SIZES = (100, 100_000)
PASSWORD = "benchmark password 123"
WORDS = [
    "acme",
    "alpha",
    "beta",
    "delta",
    "global",
    "metro",
    "north",
    "pay",
    "prime",
    "rapid",
    "smart",
    "south",
    "union",
    "west",
]


def seed(count: int) -> None:
    """Insert `count` customers of the default company in bulk."""
    company = customers.default_company()
    now = utcnow()
    rng = random.Random(count)
    rows = []
    for index in range(count):
        name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {index:06d}"
        rows.append(
            {
                "public_id": new_public_id(CUSTOMER_PREFIX),
                "name": name,
                "name_key": name_key(name),
                "company_id": company.id,
                "created_at": now,
                "updated_at": now,
            }
        )
    for start in range(0, count, 10_000):
        db.session.execute(insert(Customer), rows[start : start + 10_000])
    db.session.commit()


def build(size: int, folder: str):
    """Return a signed-in test client on a new database of `size` customers."""
    app = create_app(
        {
            "SECRET_KEY": uuid.uuid4().hex,
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "API_KEY_PEPPER": uuid.uuid4().hex,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench-{size}.db",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        upgrade()
        setup.ensure_account(Actor.system("benchmark"))
        db.session.commit()
        viewer = NewUser(email="bench@example.com", password=PASSWORD, role="viewer")
        users.create_user(Actor.system("benchmark"), viewer)
        started = time.perf_counter()
        seed(size)
        print(f"seeded {size:,} customers in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
    response = client.post(
        "/login", data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, "sign-in failed"
    return app, client


def timed_get(client, path: str) -> float:
    """Request the page once and return the latency in milliseconds."""
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, path
    return elapsed


def main() -> None:
    """Measure both sizes, interleaved so drift hits both alike, and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=100, help="requests per page and size")
    args = parser.parse_args()
    paths = [
        "/connect/",
        "/connect/?q=acme%20pay",
        "/connect/?sort=-name",
        "/connect/?sort=-created",
        "/connect/?sort=-created&after=50",
    ]
    with tempfile.TemporaryDirectory() as folder:
        clients = {size: build(size, folder) for size in SIZES}
        timings: dict[tuple[int, str], list[float]] = {
            (size, path): [] for size in SIZES for path in paths
        }
        for round_ in range(args.repeat + 10):
            for size, (_, client) in clients.items():
                for path in paths:
                    elapsed = timed_get(client, path)
                    if round_ >= 10:  # the first rounds warm templates and caches
                        timings[(size, path)].append(elapsed)
        for app, _ in clients.values():
            with app.app_context():
                db.engine.dispose()
    small, large = SIZES
    print()
    for path in paths:
        low = statistics.median(timings[(small, path)])
        high = statistics.median(timings[(large, path)])
        print(
            f"GET {path:<34} {small:,}: {low:6.2f} ms   {large:,}: {high:6.2f} ms   "
            f"ratio {high / low:.2f}"
        )
    ratio = statistics.median(timings[(large, paths[0])]) / statistics.median(
        timings[(small, paths[0])]
    )
    verdict = "OK" if ratio <= 1.5 else "ABOVE TARGET"
    print(f"customers page ratio {ratio:.2f} (target <= 1.5): {verdict}")


if __name__ == "__main__":
    main()
