"""Measure the Connect customers page and its searches at 100 and at 100,000 customers.

Each size gets its own temporary SQLite database, migrated like production and filled by bulk
inserts (through the search triggers). A signed-in test client then requests each case once
per round, both sizes in the same round, so a load that comes and goes hits both alike. The
median latency of each case at each size and their ratio are printed; targets: the first page
within 1.5x, and the slowest search within 2x, of the time at 100 customers.

    .venv/bin/python benchmarks/customers_list.py [--rounds 200] [--json]

``--json`` prints the results as one JSON object on stdout (progress goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from urllib.parse import quote

from cryptography.fernet import Fernet
from flask_migrate import upgrade
from sqlalchemy import insert, select

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
WARM_UP_ROUNDS = 5
#: The deep page starts after this many rows (page 200 at 100,000; the last page at 100).
DEEP_PAGE = 200
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
#: Searches by name: in about one name in seven, one in two hundred (and sorting last, where
#: walking the name index finds them late), one name at 100,000 and none at 100, and none.
NAME_SEARCHES = {
    "search common (acme)": "acme",
    "search rare (west west)": "west west",
    "search one row (099999)": "099999",
    "search none (zzqx)": "zzqx",
}


def progress(message: str) -> None:
    """Say what the benchmark is doing, on stderr so --json keeps stdout to itself."""
    print(message, file=sys.stderr, flush=True)


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


def cases_for(size: int) -> dict[str, str]:
    """Return the paths to measure on the database of that size, by case name."""
    deep_rows = min(DEEP_PAGE * customers.PAGE_SIZE, size - customers.PAGE_SIZE - 1)
    deep_after = db.session.scalar(
        select(Customer.id).order_by(Customer.name_key, Customer.id).offset(deep_rows).limit(1)
    )
    # An id typed in part, in lower case: the first two groups of a customer's id.
    some_id = db.session.scalar(select(Customer.public_id).order_by(Customer.id).limit(1))
    paths = {
        "first page": "/connect/",
        "deep page (page 200)": f"/connect/?after={deep_after}",
    }
    for name, term in NAME_SEARCHES.items():
        paths[name] = f"/connect/?q={quote(term)}"
    paths["search id prefix (me-dddd-dd)"] = f"/connect/?q={quote(some_id[:10].lower())}"
    return paths


def build(size: int, folder: str):
    """Return a signed-in test client on a new database of `size` customers, and its cases."""
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
        progress(f"seeded {size:,} customers in {time.perf_counter() - started:.1f} s")
        paths = cases_for(size)
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
    response = client.post(
        "/login", data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, "sign-in failed"
    return app, client, paths


def timed_get(client, path: str) -> float:
    """Request the page once and return the latency in milliseconds."""
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, path
    return elapsed


def rows_shown(client, path: str) -> int:
    """Count the customers the page lists (rendering 25 rows costs more than rendering none)."""
    return client.get(path).get_data(as_text=True).count('<tr id="customer-')


def quartiles(values: list[float]) -> tuple[float, float]:
    """Return the first and third quartiles (the one value twice, after a single round)."""
    if len(values) < 2:
        return values[0], values[0]
    first, _, third = statistics.quantiles(values, n=4)
    return first, third


def measure(rounds: int) -> dict:
    """Seed both sizes, request every case once per round, and return the results."""
    small, large = SIZES
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        built = {size: build(size, folder) for size in SIZES}
        names = list(built[small][2])
        rows = {
            (size, name): rows_shown(client, paths[name])
            for size, (_, client, paths) in built.items()
            for name in names
        }
        timings = {(size, name): [] for size in SIZES for name in names}
        for round_ in range(WARM_UP_ROUNDS + rounds):
            for size, (_, client, paths) in built.items():
                for name in names:
                    elapsed = timed_get(client, paths[name])
                    if round_ >= WARM_UP_ROUNDS:  # the first rounds warm templates and caches
                        timings[(size, name)].append(elapsed)
        for app, _, _ in built.values():
            with app.app_context():
                db.engine.dispose()
    cases = []
    first_page_small = statistics.median(timings[(small, names[0])])
    for name in names:
        lows, highs = timings[(small, name)], timings[(large, name)]
        ratios = [high / low for low, high in zip(lows, highs, strict=True)]
        ms_small, ms_large = statistics.median(lows), statistics.median(highs)
        cases.append(
            {
                "name": name,
                "ms_small": round(ms_small, 3),
                "ms_large": round(ms_large, 3),
                "ratio": round(ms_large / ms_small, 3),
                # Against the first page at 100 (25 rows too): a search that shows one row at
                # 100 customers and 25 at 100,000 also pays for rendering 24 more rows.
                "ratio_to_first_page_small": round(ms_large / first_page_small, 3),
                "rows_small": rows[(small, name)],
                "rows_large": rows[(large, name)],
                # The spread: quartiles of the ratios of the two sizes within one round.
                "ratio_quartiles": [round(value, 3) for value in quartiles(ratios)],
            }
        )
    searches = [case for case in cases if case["name"].startswith("search")]
    slowest = max(searches, key=lambda case: case["ratio"])
    return {
        "sizes": list(SIZES),
        "cases": cases,
        "slowest_search": slowest["name"],
        "slowest_search_ratio": slowest["ratio"],
        "rounds": rounds,
        "warm_up_rounds": WARM_UP_ROUNDS,
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "load_average_before": [round(value, 2) for value in load_before],
    }


def report(results: dict) -> None:
    """Print the results as a table, with the targets."""
    small, large = results["sizes"]
    print(
        f"\n{'case':<30} {small:>9,} {large:>9,}   ratio (quartiles)   rows shown"
        f"   {large:,} / first page at {small}"
    )
    for case in results["cases"]:
        low, high = case["ratio_quartiles"]
        print(
            f"{case['name']:<30} {case['ms_small']:6.2f} ms {case['ms_large']:6.2f} ms"
            f"   {case['ratio']:5.2f} ({low:.2f}-{high:.2f})"
            f"   {case['rows_small']:>4} / {case['rows_large']:>3}"
            f"   {case['ratio_to_first_page_small']:5.2f}"
        )
    first = results["cases"][0]["ratio"]
    slowest = results["slowest_search_ratio"]
    print(
        f"\nfirst page ratio {first:.2f} (target <= 1.5): {'OK' if first <= 1.5 else 'ABOVE'}"
        f"\nslowest search ratio {slowest:.2f}, {results['slowest_search']} (target <= 2): "
        f"{'OK' if slowest <= 2 else 'ABOVE'}"
        f"\n{results['rounds']} rounds after {results['warm_up_rounds']} warm-up rounds, medians;"
        f" load average {' '.join(map(str, results['load_average_before']))} before,"
        f" {' '.join(map(str, results['load_average']))} after"
    )


def main() -> None:
    """Measure, then print a table or, with --json, one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", "--repeat", type=int, default=200, help="measured rounds (every case)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args()
    results = measure(args.rounds)
    if args.json:
        print(json.dumps(results))
    else:
        report(results)


if __name__ == "__main__":
    main()
