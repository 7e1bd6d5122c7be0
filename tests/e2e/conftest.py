"""End-to-end fixtures: the portal served on 127.0.0.1 and a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright

from tests import factories
from tests.support.a11y import AxeWatch
from tests.support.e2e import CHROMIUM, CHROMIUM_ARGS, DESKTOP, LiveServer, duplicate_ids


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


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve the test app for the browser."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer):
    """Return a factory of pages, each in its own browser context (its own cookies).

    Pages are 1440 x 900 in the light colour scheme unless a test asks otherwise
    (``new_page(viewport=PHONE, color_scheme="dark")``).
    Every page is checked by axe-core after it loads and after every htmx swap or dialog
    change (tests/support/a11y.py): any violation fails the test, as does a CSP violation or
    an id used twice.
    """
    contexts = []
    violations: list[str] = []
    axe = AxeWatch()

    def watch(message) -> None:
        # The CSP forbids inline script and style: any violation is a bug in a template.
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(message.text)

    def _new_page(viewport: dict[str, int] | None = None, color_scheme: str = "light") -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport or DESKTOP,
            color_scheme=color_scheme,
            # No transitions: axe measures colour contrast on the final colours.
            reduced_motion="reduce",
        )
        context.set_default_timeout(10_000)
        axe.install(context)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch)
        return page

    yield _new_page
    duplicates = []
    inaccessible = []
    for context in contexts:
        inaccessible += axe.finish(context)
        for open_page in context.pages:
            # A repeated id breaks label-for and aria references for assistive technology.
            duplicates += duplicate_ids(open_page)
        context.close()
    assert not violations, violations
    assert not duplicates, f"duplicate element ids: {duplicates}"
    assert not inaccessible, "axe-core violations:\n" + "\n".join(inaccessible)


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
