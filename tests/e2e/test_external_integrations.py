"""Seed 004, External Integration: every scenario driven in Chromium as an admin would."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import ExternalIntegration
from tests import factories
from tests.support.e2e import sign_in_as, wait_for_htmx
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_app import stripe_app, stripe_key


@pytest.fixture
def app(database_url: str, fake: FakeStripe) -> Iterator[Flask]:
    """Serve the portal with STRIPE_API_BASE pointing at the fake Stripe."""
    yield from stripe_app(database_url, fake.base_url)


def add_integration(app: Flask, name: str, secret: str | None = None, *, active: bool) -> str:
    """Store an integration through the service; return its key."""
    secret = secret or stripe_key()
    with app.app_context():
        factories.make_external_integration(name, secret, active=active)
    return secret


def stored(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ExternalIntegration))


def open_external_integrations(page: Page, make_user) -> None:
    """Sign in as a user with system configuration privileges and open the page."""
    sign_in_as(page, make_user("admin"))
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="External Integrations"
    ).click()
    expect(page.get_by_role("heading", name="External Integrations")).to_be_visible()


def row_of(page: Page, name: str):
    return page.locator("#external-integrations-table tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def open_add_dialog(page: Page):
    page.get_by_role("button", name="Add Integration").click()
    dialog = page.get_by_role("dialog", name="Add Integration")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Integration").select_option(label="Stripe")
    return dialog


def test_viewing_external_integrations(app: Flask, page: Page, make_user) -> None:
    test_key = add_integration(app, "Payments", active=True)
    live_key = add_integration(app, "Payouts", stripe_key(prefix="sk_live_"), active=False)
    open_external_integrations(page, make_user)

    payments, payouts = row_of(page, "Payments"), row_of(page, "Payouts")
    expect(payments).to_contain_text("Stripe")
    expect(payments).to_contain_text("Test")
    expect(payments).to_contain_text(f"sk_test_...{test_key[-4:]}")
    expect(payments.get_by_text("Active", exact=True)).to_be_visible()
    expect(payouts).to_contain_text("Live")
    expect(payouts).to_contain_text(f"sk_live_...{live_key[-4:]}")
    expect(payouts.get_by_text("Inactive", exact=True)).to_be_visible()
    content = page.content()
    assert test_key not in content and live_key not in content


def test_adding_a_stripe_integration(app: Flask, page: Page, make_user) -> None:
    open_external_integrations(page, make_user)
    dialog = open_add_dialog(page)
    dialog.get_by_label("Name").fill("Main Stripe account")
    secret = stripe_key()
    dialog.get_by_label("Secret key").fill(secret)
    dialog.get_by_role("switch", name="Active").check()
    dialog.get_by_role("button", name="Save Integration").click()

    expect(page.get_by_text("Stripe integration “Main Stripe account” added.")).to_be_visible()
    row = row_of(page, "Main Stripe account")
    expect(row.get_by_text("Active", exact=True)).to_be_visible()
    expect(row.get_by_role("switch", name="Active")).to_be_checked()
    expect(row).to_contain_text(f"sk_test_...{secret[-4:]}")
    assert secret not in page.content()


def test_editing_a_stripe_integration(app: Flask, page: Page, make_user) -> None:
    add_integration(app, "Main", active=True)
    open_external_integrations(page, make_user)
    page.get_by_role("link", name="Main", exact=True).click()
    page.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog", name="Edit “Main”")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill("Main (live)")
    new_secret = stripe_key(prefix="sk_live_")
    dialog.get_by_label("Secret key").fill(new_secret)
    dialog.get_by_role("switch", name="Active").uncheck()
    dialog.get_by_role("button", name="Save Integration").click()

    expect(page.get_by_text("Stripe integration “Main (live)” updated.")).to_be_visible()
    # Edited from its details page, the integration comes back to that page.
    expect(page.get_by_role("heading", level=1, name="Main (live)")).to_be_visible()
    details = page.locator("#external-integration-details")
    expect(details).to_contain_text("Live")
    expect(details.get_by_text("Inactive", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="External Integrations"
    ).click()
    row = row_of(page, "Main (live)")
    expect(row).to_contain_text("Live")
    expect(row).to_contain_text(f"sk_live_...{new_secret[-4:]}")
    expect(row.get_by_text("Inactive", exact=True)).to_be_visible()


def test_deleting_a_stripe_integration(app: Flask, page: Page, make_user) -> None:
    add_integration(app, "Main", active=True)
    open_external_integrations(page, make_user)
    page.get_by_role("link", name="Main", exact=True).click()
    expect(page.get_by_role("heading", name="Main", level=1)).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete “Main”?")
    expect(dialog).to_contain_text("stored secret key are deleted")
    dialog.get_by_role("button", name="Delete integration").click()

    expect(page.get_by_text("Stripe integration “Main” deleted.")).to_be_visible()
    expect(row_of(page, "Main")).to_have_count(0)
    assert stored(app) == 0


def test_dismissing_the_delete_confirmation_keeps_the_integration(
    app: Flask, page: Page, make_user
) -> None:
    add_integration(app, "Main", active=True)
    open_external_integrations(page, make_user)
    row_of(page, "Main").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete “Main”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    row_of(page, "Main").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("dialog", name="Delete “Main”?")).to_be_visible()
    wait_for_htmx(page)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(row_of(page, "Main")).to_be_visible()
    assert stored(app) == 1


def test_activating_a_stripe_integration_in_place(app: Flask, page: Page, make_user) -> None:
    add_integration(app, "Main", active=False)
    open_external_integrations(page, make_user)
    page.evaluate("window.portalPageMarker = 'same page'")
    row = row_of(page, "Main")
    expect(row.get_by_text("Inactive", exact=True)).to_be_visible()

    row.get_by_role("switch", name="Active").check()
    expect(page.get_by_text("Stripe integration “Main” activated.")).to_be_visible()
    expect(row.get_by_text("Active", exact=True)).to_be_visible()
    expect(row.get_by_role("switch", name="Active")).to_be_checked()
    # Swapped by htmx, not a page load: the marker set on the page survives.
    assert page.evaluate("window.portalPageMarker") == "same page"

    row.get_by_role("switch", name="Active").uncheck()
    expect(page.get_by_text("Stripe integration “Main” deactivated.")).to_be_visible()
    expect(row.get_by_text("Inactive", exact=True)).to_be_visible()


def test_deactivating_a_stripe_integration_in_place(app: Flask, page: Page, make_user) -> None:
    add_integration(app, "Main", active=True)
    open_external_integrations(page, make_user)
    page.evaluate("window.portalPageMarker = 'same page'")
    row = row_of(page, "Main")
    row.get_by_role("switch", name="Active").uncheck()
    expect(page.get_by_text("Stripe integration “Main” deactivated.")).to_be_visible()
    expect(row.get_by_text("Inactive", exact=True)).to_be_visible()
    expect(row.get_by_role("switch", name="Active")).not_to_be_checked()
    assert page.evaluate("window.portalPageMarker") == "same page"


def test_the_switch_keeps_keyboard_focus_across_toggles(app: Flask, page: Page, make_user) -> None:
    add_integration(app, "Main", active=False)
    open_external_integrations(page, make_user)
    switch = row_of(page, "Main").get_by_role("switch", name="Active")
    switch.focus()
    page.keyboard.press("Space")
    expect(page.get_by_text("Stripe integration “Main” activated.")).to_be_visible()
    # The row is swapped in place; focus must come back to the new switch, not fall to <body>.
    expect(switch).to_be_focused()
    expect(switch).to_be_checked()
    wait_for_htmx(page)
    page.keyboard.press("Space")
    expect(page.get_by_text("Stripe integration “Main” deactivated.")).to_be_visible()
    expect(switch).to_be_focused()
    expect(switch).not_to_be_checked()


def test_viewing_integration_details(app: Flask, page: Page, make_user) -> None:
    secret = add_integration(app, "Main", stripe_key(prefix="sk_live_"), active=True)
    open_external_integrations(page, make_user)
    page.get_by_role("link", name="Main", exact=True).click()

    expect(page.get_by_role("heading", name="Main", level=1)).to_be_visible()
    details = page.locator("#external-integration-details")
    expect(details).to_contain_text("Name")
    expect(details.get_by_text("Active", exact=True)).to_be_visible()
    expect(details).to_contain_text("Live")
    expect(details).to_contain_text(f"sk_live_...{secret[-4:]}")
    expect(details).to_contain_text("by system")
    history = page.locator("#external-integration-history")
    expect(history.get_by_role("cell", name="Stripe integration added")).to_be_visible()
    assert secret not in page.content()


def test_cancelling_adding_an_integration(app: Flask, page: Page, make_user) -> None:
    open_external_integrations(page, make_user)
    dialog = open_add_dialog(page)
    dialog.get_by_label("Name").fill("Never saved")
    dialog.get_by_label("Secret key").fill(stripe_key())
    dialog.get_by_role("button", name="Cancel").click()

    expect(dialog).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/system/external-integrations/$"))
    expect(page.get_by_text("No external integrations yet")).to_be_visible()
    assert stored(app) == 0


def test_escape_closes_the_add_and_edit_dialogs_without_changes(
    app: Flask, page: Page, make_user
) -> None:
    add_integration(app, "Main", active=True)
    open_external_integrations(page, make_user)
    dialog = open_add_dialog(page)
    dialog.get_by_label("Name").fill("Never saved")
    wait_for_htmx(page)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    row_of(page, "Main").get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog", name="Edit “Main”")
    expect(dialog.get_by_label("Name")).to_be_focused()
    dialog.get_by_label("Name").fill("Renamed")
    wait_for_htmx(page)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(row_of(page, "Main").get_by_text("Active", exact=True)).to_be_visible()
    assert stored(app) == 1

    # A dialog re-rendered with errors still closes with Escape.
    dialog = open_add_dialog(page)
    dialog.get_by_role("button", name="Save Integration").click()
    expect(dialog.get_by_text("Enter a name.")).to_be_visible()
    wait_for_htmx(page)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert stored(app) == 1


def test_an_invalid_secret_key_is_refused(app: Flask, page: Page, make_user, fake) -> None:
    open_external_integrations(page, make_user)
    dialog = open_add_dialog(page)
    dialog.get_by_label("Secret key").fill("sk_test_not-a-real-key")
    dialog.get_by_role("button", name="Save Integration").click()

    expect(dialog.get_by_text("The secret key is invalid.")).to_be_visible()
    expect(dialog.get_by_label("Secret key")).to_have_value("")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("No external integrations yet")).to_be_visible()
    assert stored(app) == 0
    assert fake.requests == []


def test_a_key_stripe_rejects_is_refused(app: Flask, page: Page, make_user) -> None:
    open_external_integrations(page, make_user)
    dialog = open_add_dialog(page)
    dialog.get_by_label("Name").fill("Main")
    dialog.get_by_label("Secret key").fill(stripe_key("denied"))
    dialog.get_by_role("button", name="Save Integration").click()
    expect(
        dialog.get_by_text("The secret key is invalid. Stripe rejected the key.")
    ).to_be_visible()
    assert stored(app) == 0


def test_stripe_unreachable_keeps_the_form_except_the_secret(
    app: Flask, page: Page, make_user
) -> None:
    open_external_integrations(page, make_user)
    dialog = open_add_dialog(page)
    dialog.get_by_label("Name").fill("Main")
    dialog.get_by_label("Secret key").fill(stripe_key("boom"))
    dialog.get_by_role("switch", name="Active").check()
    dialog.get_by_role("button", name="Save Integration").click()

    expect(dialog.get_by_role("alert")).to_have_text(
        "Stripe could not be reached to verify the key (Stripe answered 500). "
        "The integration was not saved."
    )
    expect(dialog.get_by_label("Name")).to_have_value("Main")
    expect(dialog.get_by_label("Integration")).to_have_value("stripe")
    expect(dialog.get_by_role("switch", name="Active")).to_be_checked()
    expect(dialog.get_by_label("Secret key")).to_have_value("")
    assert stored(app) == 0


def test_a_restricted_key_is_saved_with_a_warning(app: Flask, page: Page, make_user) -> None:
    open_external_integrations(page, make_user)
    dialog = open_add_dialog(page)
    dialog.get_by_label("Name").fill("Restricted")
    dialog.get_by_label("Secret key").fill(stripe_key("noperm", prefix="rk_test_"))
    dialog.get_by_role("button", name="Save Integration").click()

    expect(page.get_by_text("Stripe integration “Restricted” added.")).to_be_visible()
    expect(
        page.get_by_text("Warning: this restricted key lacks the “rak_balance_read” permission.")
    ).to_be_visible()
    expect(row_of(page, "Restricted")).to_contain_text("rk_test_...")
    assert stored(app) == 1
