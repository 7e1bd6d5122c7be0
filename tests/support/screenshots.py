"""Photograph the main pages at 1440 and 390 px for README.md: ``make screenshots``.

Serves the portal on a temporary SQLite database filled by ``tests/support/showcase.py`` (with
a fake Stripe on 127.0.0.1), signs in with headless Chromium and writes
``docs/screenshots/<page>-<width>.png``. Viewport-sized PNGs keep each file small.

    .venv/bin/python -m tests.support.screenshots [--out docs/screenshots] [--dark]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright

from portal import create_app
from tests.support.apps import overrides
from tests.support.e2e import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, LiveServer, sign_in_as
from tests.support.fake_stripe import FakeStripe
from tests.support.showcase import ADMIN, seed
from tests.support.stripe_app import STRIPE_TIMEOUT

#: The pages README.md shows, and the dialog shown over the integration page.
SHOTS = (
    "connect",
    "customer",
    "integration",
    "flexcharge",
    "flexcharge-report",
    "api-keys",
    "external-integrations",
    "audit-log",
)
WIDTHS = {"1440": DESKTOP, "390": PHONE}


def main() -> None:
    """Seed a temporary account, serve it, and write one PNG per page and width."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screenshots", type=Path)
    parser.add_argument("--dark", action="store_true", help="use the dark colour scheme")
    options = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, FakeStripe() as fake:
        url = f"sqlite:///{folder}/portal.db"
        app = create_app(
            overrides(url, STRIPE_API_BASE=fake.base_url, STRIPE_TIMEOUT=STRIPE_TIMEOUT)
        )
        with app.app_context():
            upgrade()
        showcase = seed(app)
        with LiveServer(app) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for width, viewport in WIDTHS.items():
                context = browser.new_context(
                    base_url=server.url,
                    viewport=viewport,
                    color_scheme="dark" if options.dark else "light",
                    reduced_motion="reduce",
                )
                page = context.new_page()
                sign_in_as(page, ADMIN)
                suffix = "-dark" if options.dark else ""
                for name in SHOTS:
                    page.goto(showcase.pages[name])
                    page.wait_for_load_state("networkidle")
                    target = options.out / f"{name}-{width}{suffix}.png"
                    page.screenshot(path=str(target))
                    print(f"{target} ({target.stat().st_size // 1024} KB)")
                page.goto(showcase.pages["integration"])
                page.get_by_role("button", name="Add Connection").click()
                page.get_by_role("dialog", name="Add Connection").wait_for()
                target = options.out / f"dialog-{width}{suffix}.png"
                page.screenshot(path=str(target))
                print(f"{target} ({target.stat().st_size // 1024} KB)")
                context.close()
            browser.close()


if __name__ == "__main__":
    main()
