"""End-to-end fixtures: the portal served on 127.0.0.1 and a real headless Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from tests import factories

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM") or shutil.which("chromium") or None
# The machines have no internet: keep Chromium from calling home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

expect.set_options(timeout=10_000)

DUPLICATE_IDS = """() => {
  const seen = new Set(), repeated = new Set();
  for (const node of document.querySelectorAll("[id]")) {
    (seen.has(node.id) ? repeated : seen).add(node.id);
  }
  return [...repeated];
}"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder as end-to-end."""
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Start headless Chromium once: Debian's when installed, else Playwright's."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            headless=True, executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class LiveServer:
    """The app served by werkzeug in a thread on a free port."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve the test app for the browser."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer):
    """Return a factory of pages, each in its own browser context (its own cookies)."""
    contexts = []
    violations: list[str] = []

    def watch(message) -> None:
        # The CSP forbids inline script and style: any violation is a bug in a template.
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(message.text)

    def _new_page() -> Page:
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch)
        return page

    yield _new_page
    duplicates = []
    for context in contexts:
        for open_page in context.pages:
            # A repeated id breaks label-for and aria references for assistive technology.
            duplicates += duplicate_ids(open_page)
        context.close()
    assert not violations, violations
    assert not duplicates, f"duplicate element ids: {duplicates}"


@pytest.fixture
def page(new_page) -> Page:
    """Return a page in a fresh browser context."""
    return new_page()


@pytest.fixture
def make_user(app: Flask):
    """Return a helper that creates a user of a role in the served database."""

    def _make(role: str, email: str | None = None) -> str:
        with app.app_context():
            factories.setup_account()
            return factories.make_user(role=role, email=email).email

    return _make


def duplicate_ids(page: Page) -> list[str]:
    """Return the ids used twice on the page, checking the new document if one is loading."""
    for _ in range(3):
        page.wait_for_load_state()
        try:
            return page.evaluate(DUPLICATE_IDS)
        except PlaywrightError:
            continue  # a navigation (an HX-Redirect, say) replaced the document meanwhile
    return page.evaluate(DUPLICATE_IDS)


def wait_for_htmx(page: Page) -> None:
    """Wait until htmx has no request in flight and no swap settling.

    htmx wires up swapped-in elements when the swap settles; a key pressed before that acts on
    the plain element (a link follows its href, a switch posts nothing).
    """
    expect(page.locator(".htmx-request, .htmx-settling")).to_have_count(0)


def sign_in_as(page: Page, email: str, password: str = factories.PASSWORD) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
