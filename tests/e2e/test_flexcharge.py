"""FlexCharge end to end in Chromium: onboard a merchant, send transactions, read the report."""

from __future__ import annotations

import requests
from flask import Flask
from playwright.sync_api import Page, expect

from tests import factories
from tests.support.e2e import sign_in_as, wait_for_htmx
from tests.support.fake_flexcharge import APPROVING_CARD, FakeFlexCharge
from tests.support.flexcharge import (
    WEBHOOK_KEY,
    app_on_fake_flexcharge,  # noqa: F401 (a fixture)
    bearer,
    declined_body,
    fake_flexcharge,  # noqa: F401 (a fixture)
    run_jobs,
    transaction_body,
)

MID = "0ba84f6e-1b2c-4d5e-8f90-123456789abc"


def enter_credentials(page: Page, environment: str) -> None:
    """Fill and save one environment's credentials (verified against the fake)."""
    page.get_by_role("button", name=f"Edit {environment} credentials").click()
    dialog = page.get_by_role("dialog", name=f"{environment} credentials")
    dialog.get_by_label("MID").fill(MID)
    dialog.get_by_label("App key").fill(f"{environment.lower()}-app-key")
    dialog.get_by_label("App secret").fill(f"{environment.lower()}-app-secret-0123456789")
    dialog.get_by_label("Tokenization key").fill(f"{environment.lower()}-tokenization-key")
    dialog.get_by_label("Webhook signing key").fill(WEBHOOK_KEY)
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"{environment} credentials verified and saved.")).to_be_visible()
    row = page.locator(f"#credentials-{environment.lower()}")
    expect(row).to_contain_text(MID)
    expect(row).to_contain_text("...6789")
    expect(row).not_to_contain_text("app-secret-0123456789")


def add_site(page: Page, url: str, descriptor: str) -> None:
    """Add a site through its dialog."""
    page.get_by_role("button", name="Add site").click()
    dialog = page.get_by_role("dialog", name="Add site")
    dialog.get_by_label("Site URL").fill(url)
    dialog.get_by_label("Descriptor").fill(descriptor)
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Site {url} added.")).to_be_visible()
    expect(page.get_by_role("cell", name=url, exact=True)).to_be_visible()


def test_onboard_send_transactions_report_and_retry_a_failed_delivery(
    page: Page, make_user, app: Flask, live_server, fake: FakeFlexCharge
) -> None:
    email = make_user("editor")
    with app.app_context():
        merchant = factories.make_customer("Acme Merchant").public_id
        sandbox_key = factories.make_api_key("Shop test", "sandbox").plaintext
        production_key = factories.make_api_key("Shop live", "production").plaintext
    sign_in_as(page, email)

    # Connect > the customer > "FlexCharge" tab: enable it; the tab says who and when.
    page.goto(f"/connect/customers/{merchant}")
    page.get_by_role("tab", name="FlexCharge").click()
    expect(page.get_by_role("tab", name="FlexCharge")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("recorded but not sent to FlexCharge")).to_be_visible()
    page.get_by_role("button", name="Enable FlexCharge").click()
    expect(page.get_by_text("FlexCharge enabled for Acme Merchant.")).to_be_visible()
    expect(page.locator("#flexcharge-status")).to_contain_text(f"Enabled by {email}")

    # Credentials for both environments, each verified by /oauth2/token on save.
    enter_credentials(page, "Sandbox")
    enter_credentials(page, "Production")
    assert [call.environment for call in fake.calls("/oauth2/token")] == ["sandbox", "production"]

    # Two sites, one switched off.
    add_site(page, "https://shop.example.com", "ACME SHOP")
    add_site(page, "https://outlet.example.com", "ACME OUTLET")
    wait_for_htmx(page)
    page.get_by_role("button", name="Switch off site https://outlet.example.com").click()
    expect(page.locator("#sites-table tr", has_text="outlet.example.com")).to_contain_text("Off")
    expect(page.get_by_text("Site https://outlet.example.com switched off.")).to_be_visible()

    # MIT in Production, CIT website in Sandbox, CIT call center Off.
    page.get_by_label("MIT").select_option(label="Production")
    page.get_by_label("CIT - website").select_option(label="Sandbox")
    page.get_by_label("CIT - call center").select_option(label="Off")
    page.get_by_role("button", name="Save profiles").click()
    expect(page.get_by_text("Profiles saved.")).to_be_visible()
    expect(page.get_by_label("MIT")).to_have_value("production")

    # The merchant's systems send transactions over HTTP.
    api = f"{live_server.url}/api/v1/transactions"
    mit = {"initiator": "MIT", "channel": None, "customerIp": None}
    sends = [
        (sandbox_key, transaction_body(merchant, transaction={"amount": 1000})),  # sent
        (sandbox_key, transaction_body(merchant, channel="call_center")),  # profile Off
        (sandbox_key, transaction_body(merchant, siteUrl="https://outlet.example.com")),  # site off
        (production_key, transaction_body(merchant, **mit, transaction={"amount": 5000})),  # sent
        (
            production_key,
            declined_body(merchant, APPROVING_CARD, **mit, transaction={"amount": 1500}),
        ),
    ]
    for key, body in sends:
        answer = requests.post(api, json=body, headers=bearer(key), timeout=10)
        assert answer.status_code == 201, answer.text
    assert answer.json()["transaction"]["flexcharge"]["evaluate"]["status"] == "APPROVED"
    fake.fail("/transmit", 400)  # the first delivery the worker makes is refused for good
    run_jobs(app)

    # The report shows them with the right totals.
    page.get_by_role("link", name="FlexCharge report").click()
    expect(page.get_by_role("heading", level=1, name="FlexCharge report")).to_be_visible()
    total = page.locator("#report-total")
    expect(total.locator('td[data-category="all"]')).to_contain_text("5")
    expect(total.locator('td[data-category="all"]')).to_contain_text("USD")
    expect(total.locator('td[data-category="not_sent"] strong')).to_have_text("2")
    expect(total.locator('td[data-category="transmitted"] strong')).to_have_text("2")
    expect(total.locator('td[data-category="failed"] strong')).to_have_text("1")
    expect(total.locator('td[data-category="evaluated"] strong')).to_have_text("1")
    expect(total.locator('td[data-category="approved_by_flexcharge"] strong')).to_have_text("1")
    not_sent = page.locator("#report-not-sent")
    expect(not_sent).to_contain_text("The profile “CIT - call center” is Off.")
    expect(page.locator("#report-chart")).to_be_visible()
    expect(page.locator("#report-transactions tbody tr")).to_have_count(5)

    # Narrow to the failed delivery and retry it now.
    page.get_by_label("Status").select_option(label="Failed")
    expect(page.locator("#report-transactions tbody tr")).to_have_count(1)
    failed_row = page.locator("#report-transactions tbody tr").first
    expect(failed_row).to_contain_text(
        "Transmit failed: FlexCharge Sandbox refused the request (400"
    )
    failed_row.get_by_role("button", name="Retry now").click()
    expect(page.get_by_text("was queued again.")).to_be_visible()
    run_jobs(app)
    page.reload()
    expect(page.locator("#report-transactions tbody")).to_contain_text("No transactions match")
    page.get_by_role("button", name="Clear filters").click()
    expect(page.locator('#report-total td[data-category="transmitted"] strong')).to_have_text("3")
    expect(page.locator('#report-total td[data-category="failed"] strong')).to_have_text("0")
