"""Two app nodes and two job workers on one PostgreSQL database and one Redis database.

Started as production starts them: `PORTAL_ENV=production`, `flask db upgrade` as the
release step, then gunicorn with the repository's gunicorn.conf.py and `flask worker`, each
with its own port and nothing shared but PostgreSQL and Redis. Only `make test-nodes`
(`pytest -m nodes`) runs them, with TEST_DATABASE_URL and TEST_REDIS_URL: the schema `public`
of that database is dropped and the Redis database emptied first.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
from flask import Flask
from sqlalchemy import create_engine, text

from portal import close_app, create_app
from tests import factories
from tests.support.apps import ENCRYPTION_KEY, TEST_DATABASE_URL, TEST_REDIS_URL, overrides
from tests.support.fake_flexcharge import FakeFlexCharge
from tests.support.gunicorn import ROOT, Gunicorn
from tests.support.web import token_in
from tests.support.worker import Worker

ADMIN = "owner@example.com"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the two-node tests unless the run asked for them (`-m nodes`, `make test-nodes`)."""
    if "nodes" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="two-node test: run it with `make test-nodes`")
    for item in items:
        if item.get_closest_marker("nodes"):
            item.add_marker(skip)


@dataclass
class Cluster:
    """What the tests reach: the nodes' URLs, the workers, FlexCharge, and an app to seed with."""

    nodes: tuple[str, str]
    servers: tuple[Gunicorn, Gunicorn]
    workers: tuple[Worker, Worker]
    flexcharge: FakeFlexCharge
    app: Flask
    logs: Path

    def show_logs(self) -> str:
        """Return every process's log, to explain a failure."""
        return "\n".join(f"== {p.name}\n{p.read_text()}" for p in sorted(self.logs.glob("*.log")))


class Browser:
    """A person's browser over real HTTP: one cookie jar for every node (same host)."""

    def __init__(self) -> None:
        """Open a session with no cookies."""
        self.session = requests.Session()

    def get(self, url: str, **kwargs) -> requests.Response:
        """GET without following redirects (a redirect to /login is an answer to check)."""
        return self.session.get(url, allow_redirects=False, timeout=30, **kwargs)

    def token(self, url: str) -> str:
        """Read the CSRF token of a page."""
        page = self.get(url)
        assert page.status_code == 200, (url, page.status_code)
        return token_in(page.text, url)

    def post(self, url: str, data: dict[str, str], token_from: str, **kwargs) -> requests.Response:
        """Post a form with the token of the page it is on, as a browser would."""
        form = {"csrf_token": self.token(token_from), **data}
        return self.session.post(url, data=form, allow_redirects=False, timeout=30, **kwargs)

    def sign_in(self, node: str, email: str, password: str = factories.PASSWORD):
        """Post the sign-in form of a node."""
        return self.post(
            f"{node}/login", {"email": email, "password": password}, token_from=f"{node}/login"
        )

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()


def services() -> tuple[str, str]:
    """Return the PostgreSQL and Redis URLs, or skip when the run has none."""
    if not (TEST_DATABASE_URL or "").startswith("postgresql") or not TEST_REDIS_URL:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL")
    return TEST_DATABASE_URL, TEST_REDIS_URL


def reset(database_url: str, redis_url: str) -> None:
    """Start from an empty schema and an empty Redis database."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()


def production_env(database_url: str, redis_url: str, fake: FakeFlexCharge) -> dict[str, str]:
    """Return what every node and worker is started with: the production set-up."""
    return {
        "PORTAL_ENV": "production",
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "PORTAL_JOBS_STORE": redis_url,
        "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "PORTAL_API_KEY_PEPPER": secrets.token_hex(32),
        "PORTAL_TRUSTED_PROXIES": "0",
        "FLEXCHARGE_SANDBOX_API_BASE": fake.base_url("sandbox"),
        "FLEXCHARGE_PRODUCTION_API_BASE": fake.base_url("production"),
    }


def release(env: dict[str, str], log: Path) -> None:
    """Apply the migrations, the release step of every deployment."""
    with log.open("ab") as output:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=120,
        )


def seeding_app(env: dict[str, str]) -> Flask:
    """Return an app in this process with the nodes' settings, to seed rows and read them."""
    return create_app(
        overrides(
            env["DATABASE_URL"],
            ENCRYPTION_KEYS=env["PORTAL_ENCRYPTION_KEYS"],
            API_KEY_PEPPER=env["PORTAL_API_KEY_PEPPER"],
            RATELIMIT_STORAGE_URI=env["RATELIMIT_STORAGE_URI"],
            JOBS_STORE=env["PORTAL_JOBS_STORE"],
            JOBS_QUEUE_NAME="portal",
            FLEXCHARGE_SANDBOX_API_BASE=env["FLEXCHARGE_SANDBOX_API_BASE"],
            FLEXCHARGE_PRODUCTION_API_BASE=env["FLEXCHARGE_PRODUCTION_API_BASE"],
        )
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Start FlexCharge, migrate, then two gunicorn nodes and two workers; set up the admin."""
    database_url, redis_url = services()
    logs = tmp_path_factory.mktemp("nodes")
    reset(database_url, redis_url)
    with FakeFlexCharge() as fake:
        env = production_env(database_url, redis_url, fake)
        release(env, logs / "release.log")
        web = "--workers", "1", "--threads", "4"
        node_a = Gunicorn(env, *web, log=logs / "node-a.log")
        node_b = Gunicorn(env, *web, log=logs / "node-b.log")
        worker_a = Worker(env, logs / "worker-a.log", "--threads", "2")
        worker_b = Worker(env, logs / "worker-b.log", "--threads", "2")
        with ExitStack() as running:
            processes = (node_a, node_b, worker_a, worker_b)
            for process in processes:
                running.push(process.__exit__)
            # Started together: each spends its first seconds importing the portal.
            with ThreadPoolExecutor(len(processes)) as pool:
                for started in [pool.submit(process.__enter__) for process in processes]:
                    started.result()
            app = seeding_app(env)
            cluster = Cluster(
                (node_a.url, node_b.url), (node_a, node_b), (worker_a, worker_b), fake, app, logs
            )
            first_run(node_a.url)
            yield cluster
            close_app(app)


def first_run(node: str) -> None:
    """Create the first administrator through the setup page, as on a fresh install."""
    browser = Browser()
    try:
        done = browser.post(
            f"{node}/setup",
            {"email": ADMIN, "password": factories.PASSWORD, "confirm": factories.PASSWORD},
            token_from=f"{node}/setup",
        )
        assert done.status_code == 303, done.text
    finally:
        browser.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Return a fresh browser (no cookies)."""
    opened = Browser()
    yield opened
    opened.close()
