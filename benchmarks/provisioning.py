"""Load the provisioning API against /healthz on gunicorn with 2 workers; print the ratios.

Usage: .venv/bin/python benchmarks/provisioning.py [--requests 3000] [--lists 60]
       [--threads 4] [--rounds 5]

It migrates and seeds a temporary SQLite database through the services (a Production key, a
merchant with one connector, and a merchant with 1,000 connectors), starts gunicorn with
2 workers of 8 threads (as `make run` serves, and as `benchmarks/api_auth.py` does) on a free
127.0.0.1 port (the per-key rate limit raised out of the way), and in each
round loads /healthz, getConnector, updateConnector (each request a real change: one write and
one audit event) and listConnectors of the 1,000-connector merchant, bare and paged
(`limit=50`, a page in the middle), from a few client threads. Ratios are taken within each
round, so load from elsewhere on the machine falls on both sides of a pair; the result is the
median of the rounds' ratios, with their spread and the load average before and after.
Target: getConnector >= 0.6x /healthz.

`--json` adds one JSON object as the last line of the output, for `make bench`
(benchmarks/bench.py): the figures above as table rows.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.api_auth import (  # noqa: E402
    instance_secrets,
    rounds,
    run_clients,
    served_env,
    start_gunicorn,
    wait_ready,
)

LIST_SIZE = 1000


def seed(database_url: str, config: dict[str, str]) -> dict[str, str]:
    """Migrate the database and create the key, merchants and connectors through the services."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.schemas.api_keys import ApiKeyInput
    from portal.schemas.provisioning import MerchantInput, NewConnectorInput
    from portal.services import api_keys, companies, provisioning, setup
    from portal.services.actor import Actor
    from portal.services.provisioning import KeyScope
    from portal.web.registry import secret_box

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, **config})
    with app.app_context():
        upgrade()
        actor = Actor.system("benchmark")
        setup.ensure_account(actor)
        company_id = companies.list_companies()[0].id
        new = api_keys.generate_api_key(
            actor,
            ApiKeyInput(name="Benchmark", company_id=company_id, environment="production"),
            config["API_KEY_PEPPER"].encode(),
        )
        row = new.api_key
        scope = KeyScope(row.id, row.prefix, row.company_id, row.environment)
        box = secret_box()

        def connector(merchant: str, name: str) -> str:
            """Create a connector through the service; return its guid."""
            data = NewConnectorInput.model_validate(
                {
                    "network": "Visa",
                    "name": name,
                    "adapter": "Simulator",
                    "method": "Creditcard",
                    "apiKey": "sim-connector-a",
                    "config": {"username": "asmith", "password": "supersecure1"},
                    "settings": {"tx:expiration-minutes": "900"},
                }
            )
            return provisioning.create_connector(actor, scope, merchant, data, box).record.public_id

        small = provisioning.create_merchant(actor, scope, MerchantInput(name="Small merchant"))
        large = provisioning.create_merchant(actor, scope, MerchantInput(name="Large merchant"))
        single = connector(small.public_id, "Connector A")
        started = time.perf_counter()
        for number in range(LIST_SIZE):
            connector(large.public_id, f"Connector {number:04d}")
        print(f"seeded {LIST_SIZE} connectors in {time.perf_counter() - started:.1f} s")
        return {
            "key": new.plaintext,
            "connector": single,
            "large": large.public_id,
        }


def send(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None) -> int:
    """Send one request on a new connection (gunicorn's sync workers close after each answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def load(port: int, requests: int, threads: int, make: Callable[[int], tuple]) -> float:
    """Send `requests` requests built by `make(n)` from `threads` clients; return requests/s."""
    per_thread = max(1, requests // threads)
    failures: list[int] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        """Send this client's share of the requests."""
        for number in range(per_thread):
            status = send(port, *make(offset * per_thread + number))
            if status != 200:
                with lock:
                    failures.append(status)

    elapsed = run_clients(client, threads, numbered=True)
    if failures:
        raise SystemExit(f"{len(failures)} requests failed: {sorted(set(failures))}")
    return per_thread * threads / elapsed


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per fast endpoint")
    parser.add_argument("--lists", type=int, default=60, help="requests per list endpoint")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds")
    parser.add_argument(
        "--storage",
        default="memory://",
        help="rate-limit storage of the served app (RATELIMIT_STORAGE_URI), e.g. redis://…",
    )
    parser.add_argument("--json", action="store_true", help="end with the figures as JSON")
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'portal.db'}"
        config = instance_secrets()
        seeded = seed(database_url, config)
        env = served_env(database_url, config, RATELIMIT_STORAGE_URI=args.storage)
        process, port = start_gunicorn(ROOT, env)
        try:
            wait_ready(port)
            auth = {"Authorization": f"Bearer {seeded['key']}"}
            post = {**auth, "Content-Type": "application/json"}
            base = "/api/provisioning"
            first_page = f"{base}/listConnectors/{seeded['large']}?limit=50"
            middle = json.loads(_get_body(port, first_page, auth))["next"]
            for _ in range(9):  # walk to the page after the 500th connector
                page = json.loads(_get_body(port, f"{first_page}&after={middle}", auth))
                middle = page["next"]
            endpoints: dict[str, tuple[int, Callable[[int], tuple]]] = {
                "/healthz": (args.requests, lambda n: ("GET", "/healthz", {}, None)),
                "/api/v1/me (auth only, reference)": (
                    args.requests,
                    lambda n: ("GET", "/api/v1/me", auth, None),
                ),
                "getConnector": (
                    args.requests,
                    lambda n: ("GET", f"{base}/getConnector/{seeded['connector']}", auth, None),
                ),
                "updateConnector": (
                    args.requests,
                    lambda n: (
                        "POST",
                        f"{base}/updateConnector/{seeded['connector']}",
                        post,
                        json.dumps({"description": f"Update {n} {time.monotonic()}"}).encode(),
                    ),
                ),
                "listConnectors (1,000, bare)": (
                    args.lists,
                    lambda n: ("GET", f"{base}/listConnectors/{seeded['large']}", auth, None),
                ),
                "listConnectors (limit=50, page 1)": (
                    args.lists,
                    lambda n: ("GET", first_page, auth, None),
                ),
                "listConnectors (limit=50, page 11)": (
                    args.lists,
                    lambda n: ("GET", f"{first_page}&after={middle}", auth, None),
                ),
            }
            runs: dict[str, list[float]] = {name: [] for name in endpoints}
            for _ in range(args.rounds):
                for name, (requests, make) in endpoints.items():
                    runs[name].append(load(port, requests // args.rounds, args.threads, make))
        finally:
            process.terminate()
            process.wait(timeout=10)
    load_after = os.getloadavg()

    print(
        f"{args.rounds} rounds; per round {args.requests // args.rounds} requests to each fast "
        f"endpoint and {args.lists // args.rounds} to each list; client threads: {args.threads}; "
        f"gunicorn: 2 workers of 8 threads (as make run serves); SQLite; "
        f"rate-limit storage {args.storage}"
    )
    print(
        f"load average before {load_before[0]:.2f} / {load_before[1]:.2f}, "
        f"after {load_after[0]:.2f} / {load_after[1]:.2f} (1 / 5 min)"
    )
    health = runs["/healthz"]
    for name, values in runs.items():
        ratios = [value / base_rps for value, base_rps in zip(values, health, strict=True)]
        line = f"{name:36} median {statistics.median(values):8.1f} req/s"
        if name != "/healthz":
            line += (
                f"  ratio to /healthz {statistics.median(ratios):.3f} "
                f"(rounds {rounds(ratios, 3)}; spread {min(ratios):.3f}-{max(ratios):.3f})"
            )
        if name.startswith("listConnectors"):
            line += (
                f"  = {1000 / statistics.median(values):.1f} ms per list at {args.threads} clients"
            )
        print(line)
    print("target: getConnector >= 0.6x /healthz")
    if args.json:
        print(json.dumps(as_json(runs, args, load_before, load_after)))


def as_json(runs: dict[str, list[float]], args, load_before, load_after) -> dict:
    """Return the figures as `make bench` reads them: table rows, the rounds and the load."""
    health = runs["/healthz"]
    rows = []
    for name, values in runs.items():
        row = {"section": "Provisioning API", "case": name, "rps": statistics.median(values)}
        if name != "/healthz":
            ratios = [value / base for value, base in zip(values, health, strict=True)]
            row |= {
                "ratio": statistics.median(ratios),
                "spread": [min(ratios), max(ratios)],
                "note": f"vs /healthz, {args.rounds} rounds",
            }
        rows.append(row)
    return {
        "script": "provisioning",
        "rows": rows,
        "rounds": runs,
        "load_before": load_before,
        "load_after": load_after,
    }


def _get_body(port: int, path: str, headers: dict[str, str]) -> bytes:
    """GET a path and return its body (to follow the list's cursors)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.read()
    finally:
        connection.close()


if __name__ == "__main__":
    main()
