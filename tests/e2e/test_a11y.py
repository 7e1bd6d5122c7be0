"""The accessibility watch itself: it sees a violation on load and after a swap."""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.support.a11y import AxeWatch, check_now

PAGE = """<!doctype html><html lang="en"><head><title>Watch</title></head>
<body><main><h1>Watch</h1><p id="slot">Fine so far.</p></main></body></html>"""


def test_the_watch_reports_violations_on_load_and_after_a_change(browser: Browser) -> None:
    watch = AxeWatch()
    context = browser.new_context()
    watch.install(context)
    page = context.new_page()
    page.route(
        "http://watch.test/", lambda route: route.fulfill(body=PAGE, content_type="text/html")
    )
    page.goto("http://watch.test/")
    check_now(page)
    assert watch.found == []

    # An image without a text alternative appears, as an htmx swap would add it.
    page.evaluate(
        """() => {
             document.getElementById("slot").innerHTML = '<img src="data:,">';
             document.dispatchEvent(new Event("htmx:afterSettle"));
           }"""
    )
    found = watch.finish(context)
    context.close()
    assert any("image-alt [critical]" in line for line in found), found
