"""API keys in Chromium: generated, seen once, copied, used, deleted; dialogs by keyboard."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from playwright.sync_api import Page, expect

from tests.support.e2e import sign_in_as, wait_for_htmx


def call_me(base_url: str, key: str) -> tuple[int, dict]:
    """Call GET /api/v1/me with the key, as an integrator's system would (no cookies)."""
    request = urllib.request.Request(  # noqa: S310 (the test's own http:// server)
        f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_generate_an_api_key_see_it_once_copy_it_use_it_and_delete_it(
    page: Page, make_user, live_server
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in_as(page, make_user("editor"))
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Integrations", exact=True
    ).click()
    expect(page.get_by_role("tab", name="API keys")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="FlexPay Retries")).to_have_count(0)

    page.get_by_role("button", name="Generate API key").click()
    dialog = page.get_by_role("dialog", name="Generate API key")
    dialog.get_by_label("Name").fill("CRM sandbox")
    dialog.get_by_label("Company").select_option(label="Default Company")
    dialog.get_by_label("Environment").select_option(label="Sandbox")
    dialog.get_by_role("button", name="Generate").click()

    shown = page.get_by_role("dialog", name="API key generated")
    expect(shown).to_be_visible()
    expect(shown.get_by_text("It cannot be shown again")).to_be_visible()
    field = shown.get_by_label("API key")
    expect(field).to_have_value(re.compile(r"^ptl_test_\w{51}$"))
    key = field.input_value()

    shown.get_by_role("button", name="Copy").click()
    expect(shown.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key

    status, body = call_me(live_server.url, key)
    assert status == 200
    assert body["name"] == "CRM sandbox"
    assert body["company"]["name"] == "Default Company"
    assert body["environment"] == "sandbox"

    shown.get_by_role("button", name="Close").click()
    row = page.get_by_role("row").filter(has_text="CRM sandbox")
    expect(row).to_contain_text("Default Company")
    expect(row).to_contain_text("Sandbox")
    expect(row).to_contain_text(key[:21])
    assert key not in page.content()
    page.reload()
    expect(row).to_be_visible()
    assert key not in page.content()

    row.get_by_role("button", name="Delete CRM sandbox").click()
    confirm = page.get_by_role("dialog", name="Delete API key “CRM sandbox”?")
    expect(confirm).to_contain_text("used in the last 7 days")
    confirm.get_by_role("button", name="Delete API key").click()
    expect(page.get_by_text("API key “CRM sandbox” deleted.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="CRM sandbox")).to_have_count(0)

    status, body = call_me(live_server.url, key)
    assert status == 401
    assert body["errorCode"] == 1000


def test_dialogs_take_focus_and_close_with_escape_leaving_no_key_behind(
    page: Page, make_user
) -> None:
    sign_in_as(page, make_user("admin"))
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Integrations", exact=True
    ).click()

    page.get_by_role("button", name="Generate API key").click()
    dialog = page.get_by_role("dialog", name="Generate API key")
    expect(dialog.get_by_label("Name")).to_be_focused()
    wait_for_htmx(page)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.get_by_role("button", name="Generate API key").click()
    dialog = page.get_by_role("dialog", name="Generate API key")
    expect(dialog.get_by_label("Name")).to_be_focused()
    page.keyboard.type("Keyboard only")
    dialog.get_by_label("Environment").select_option(label="Production")
    dialog.get_by_role("button", name="Generate").press("Enter")
    shown = page.get_by_role("dialog", name="API key generated")
    key = shown.get_by_label("API key").input_value()
    assert key.startswith("ptl_live_")
    wait_for_htmx(page)
    page.keyboard.press("Escape")
    # Hidden ones included: a closed dialog leaves the DOM on its (asynchronous) close event.
    expect(page.locator("dialog")).to_have_count(0)
    # The list refreshed behind the dialog; the key left the page with the dialog.
    expect(page.get_by_role("row").filter(has_text="Keyboard only")).to_contain_text("Production")
    assert key not in page.content()

    row = page.get_by_role("row").filter(has_text="Keyboard only")
    row.get_by_role("button", name="Delete Keyboard only").click()
    expect(page.get_by_role("dialog", name="Delete API key “Keyboard only”?")).to_be_visible()
    wait_for_htmx(page)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(row).to_be_visible()
