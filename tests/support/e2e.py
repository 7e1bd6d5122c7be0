"""What the browser tests share: the browser's flags, the served app, and page helpers."""

from __future__ import annotations

import os
import shutil
import threading

from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
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

#: The two widths every page is designed and checked at.
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

DUPLICATE_IDS = """() => {
  const seen = new Set(), repeated = new Set();
  for (const node of document.querySelectorAll("[id]")) {
    (seen.has(node.id) ? repeated : seen).add(node.id);
  }
  return [...repeated];
}"""


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


def duplicate_ids(page: Page) -> list[str]:
    """Return the ids used twice on the page, checking the new document if one is loading."""
    for _ in range(3):
        page.wait_for_load_state()
        try:
            return page.evaluate(DUPLICATE_IDS)
        except PlaywrightError:
            continue  # a navigation (an HX-Redirect, say) replaced the document meanwhile
    return page.evaluate(DUPLICATE_IDS)


def assert_fits(page: Page, where: str = "") -> None:
    """Assert that the page does not scroll sideways (nothing wider than the viewport)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{where or page.url} is {width} px wide in a {viewport} px window"


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
    # The top bar is there once signed in, at every width (Sign out is in the Account menu
    # on narrow screens).
    expect(page.locator(".topbar")).to_be_visible()
