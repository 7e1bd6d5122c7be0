"""axe-core in every browser test: each page and each state htmx settles into is checked.

axe-core is vendored from npm (``tests/support/vendor/axe-<version>.min.js``, MPL-2.0). It is
installed with ``BrowserContext.add_init_script``, which runs before the page's own scripts and
is not subject to the page's CSP (an injected ``<script>`` tag would be refused by it, and
``bypass_csp`` would hide the CSP violations the suite must catch).

In the page, a small watcher runs ``axe.run`` after the document loads, after every htmx swap
settles and whenever a dialog or popover opens or closes; it reports violations through a
binding into Python. ``AxeWatch.finish`` waits for runs still in flight, checks every open page
once more, and returns what was found, so a fixture can fail the test on any violation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

AXE_VERSION = "4.14.1"
AXE_SOURCE = (Path(__file__).parent / "vendor" / f"axe-{AXE_VERSION}.min.js").read_text(
    encoding="utf-8"
)

# Runs in every document of the context, after axe itself. A run is queued while another is
# in flight (axe refuses to run twice at once) and repeated if the page changed meanwhile.
WATCHER = """
(() => {
  if (window.top !== window || !window.axe) return;
  let running = null, again = false, timer = null;
  const describe = (violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.slice(0, 5).map((node) => node.target.join(" ")),
  });
  async function check(reason) {
    if (running) { again = true; return running; }
    running = (async () => {
      do {
        again = false;
        try {
          const result = await axe.run(document, { resultTypes: ["violations"] });
          if (result.violations.length) {
            await window.__axeReport({
              url: location.pathname + location.search,
              reason: reason,
              violations: result.violations.map(describe),
            });
          }
        } catch (error) {
          // The document changed under axe (a swap removed a node): look again.
          if (document.readyState === "complete") again = true;
        }
      } while (again);
    })();
    try { await running; } finally { running = null; }
  }
  function soon(reason) {
    clearTimeout(timer);
    timer = setTimeout(() => check(reason), 30);
  }
  window.__axeCheck = (reason) => { clearTimeout(timer); return check(reason); };
  window.addEventListener("load", () => soon("load"));
  document.addEventListener("htmx:afterSettle", () => soon("after an htmx swap"));
  const toggled = (event) => soon("a " + event.target.tagName.toLowerCase() + " toggled");
  document.addEventListener("toggle", toggled, true);
  document.addEventListener("close", () => soon("a dialog closed"), true);
})();
"""


def check_now(page: Page, reason: str = "an explicit check") -> None:
    """Run axe on the page now and wait until its violations are reported to the watch."""
    page.wait_for_load_state()
    page.evaluate("(reason) => window.__axeCheck && window.__axeCheck(reason)", reason)


@dataclass
class AxeWatch:
    """Collect axe-core violations from every page of one browser context."""

    found: list[str] = field(default_factory=list)

    def install(self, context: BrowserContext) -> None:
        """Inject axe and the watcher into every document the context loads."""
        context.expose_binding("__axeReport", self._report)
        context.add_init_script(script=AXE_SOURCE)
        context.add_init_script(script=WATCHER)

    def _report(self, source: dict, report: dict) -> None:
        """Keep a readable line per violation reported by a page."""
        for violation in report["violations"]:
            self.found.append(
                f"{report['url']} ({report['reason']}): {violation['id']} "
                f"[{violation['impact']}] {violation['help']} at {violation['targets']}"
            )

    def check(self, page: Page, reason: str = "an explicit check") -> None:
        """Run axe on the page now and wait for the answer."""
        check_now(page, reason)

    def finish(self, context: BrowserContext) -> list[str]:
        """Check every open page once more, then return every violation seen (no repeats)."""
        for open_page in context.pages:
            try:
                self.check(open_page, "at the end of the test")
            except PlaywrightError:
                continue  # the page was navigating or closed: its last state was checked
        return list(dict.fromkeys(self.found))
