"""Tell whether Playwright's own Chromium is installed (exit 0) or not (exit 1).

`make test` asks this before it provides a browser; Debian's `chromium` is looked for first.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def playwright_chromium_installed() -> bool:
    """Return whether the Chromium that `playwright install chromium` puts in place exists."""
    with sync_playwright() as playwright:
        return Path(playwright.chromium.executable_path).exists()


if __name__ == "__main__":
    sys.exit(0 if playwright_chromium_installed() else 1)
