"""The provisioning API end to end: a key from the browser, calls over HTTP, Connect shows it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from playwright.sync_api import Page, expect

from tests.support.e2e import sign_in_as


def call(base_url: str, key: str, path: str, body: dict) -> tuple[int, dict]:
    """POST JSON to the provisioning API as an integrator's system would (no cookies)."""
    request = urllib.request.Request(  # noqa: S310 (the test's own http:// server)
        f"{base_url}/api/provisioning/{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def generate_sandbox_key(page: Page) -> str:
    """Generate a Sandbox key in Account Settings > Integrations and return it."""
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Integrations", exact=True
    ).click()
    page.get_by_role("button", name="Generate API key").click()
    dialog = page.get_by_role("dialog", name="Generate API key")
    dialog.get_by_label("Name").fill("Provisioning robot")
    dialog.get_by_label("Environment").select_option(label="Sandbox")
    dialog.get_by_role("button", name="Generate").click()
    shown = page.get_by_role("dialog", name="API key generated")
    key = shown.get_by_label("API key").input_value()
    shown.get_by_role("button", name="Close").click()
    return key


def test_a_sandbox_key_provisions_a_connector_that_connect_shows_in_test_mode(
    page: Page, make_user, live_server
) -> None:
    sign_in_as(page, make_user("editor"))
    key = generate_sandbox_key(page)

    status, body = call(live_server.url, key, "createMerchant", {"name": "Robot Payments"})
    assert status == 200, body
    merchant = body["merchant"]["guid"]
    status, body = call(
        live_server.url,
        key,
        f"createConnector/{merchant}",
        {
            "network": "Visa",
            "name": "Robot Simulator",
            "adapter": "Simulator",
            "method": "Creditcard",
        },
    )
    assert status == 200, body
    assert body["connector"]["config"]["testMode"] is True

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connect").click()
    page.get_by_role("link", name="Robot Payments").click()
    page.get_by_role("link", name="Visa").first.click()
    expect(page.get_by_role("heading", level=1, name="Visa")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Robot Simulator")
    expect(row).to_contain_text("Test mode")
    expect(row).to_contain_text(body["connector"]["guid"])


def test_the_api_reference_renders_under_the_strict_csp(page: Page, make_user) -> None:
    sign_in_as(page, make_user("viewer"))
    page.goto("/account/integrations/")
    page.get_by_role("link", name="provisioning API reference").click()
    expect(page.get_by_role("heading", level=1, name="Provisioning API reference")).to_be_visible()
    # Every operation, drawn on the server from the served document: follow one from the
    # contents to its section, then to its body's fields (the fixture fails the test on any
    # Content-Security-Policy or accessibility violation).
    contents = page.get_by_role("navigation", name="Endpoints")
    contents.get_by_role("link", name="/api/provisioning/updateConnector/{connectorGuid}").click()
    update = page.get_by_role("region", name="Update a connector")
    expect(update).to_be_in_viewport()
    expect(update.get_by_text("Changes the fields the body sends and nothing else")).to_be_visible()
    expect(update.get_by_role("row").filter(has_text="connectorGuid")).to_contain_text("path")
    update.get_by_role("link", name="ConnectorUpdate").click()
    fields = page.get_by_role("region", name="ConnectorUpdate", exact=True)
    expect(fields).to_be_in_viewport()
    remove = fields.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="removeSettings")
    )
    expect(remove).to_contain_text("array of string or object or null")
    expect(remove).to_contain_text("an array of key names, or an object")
