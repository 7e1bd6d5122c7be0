"""Connect, driven in Chromium step by step as seed 000 describes it."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Connection, Flow, Integration
from tests import factories
from tests.support.e2e import sign_in_as, wait_for_htmx


def add_integration(page: Page, name: str, network: str) -> None:
    """Click Add Integration, check the Type, fill the form and save."""
    page.get_by_role("button", name="Add Integration").click()
    dialog = page.get_by_role("dialog", name="Add Integration")
    expect(dialog).to_be_visible()
    type_field = dialog.get_by_label("Type")
    expect(type_field).to_be_disabled()
    expect(type_field).to_have_value("design")
    expect(type_field.locator("option:checked")).to_have_text("Design")
    dialog.get_by_label("Integration Name").fill(name)
    dialog.get_by_label("Network").fill(network)
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Integration created.")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/connect/customers/ME-[0-9-]+/integrations/\d+$"))


def add_connection(page: Page, name: str) -> None:
    """Add a connection with the seed's simulator values."""
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog", name="Add Connection")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Adapter").select_option("Simulator")
    dialog.get_by_label("Method").fill("Credit Card")
    dialog.get_by_label("Password").fill("supersecure1")
    dialog.get_by_label("Business country").fill("AT")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Connection created.")).to_be_visible()
    expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()


def add_flow(page: Page, name: str, connection: str) -> None:
    """Add a flow routing initial debits to a connection."""
    page.get_by_role("button", name="Add Flow").click()
    dialog = page.get_by_role("dialog", name="Add Flow")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("initial_debit").check()
    dialog.get_by_label("Default connection").select_option(label=connection)
    dialog.get_by_label("Retries").fill("3")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Flow created.")).to_be_visible()
    expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()


def test_seed_000_customer_integrations_connections_flows_and_cascade_delete(
    page: Page, make_user, app: Flask
) -> None:
    sign_in_as(page, make_user("editor"))

    # Create a customer and land on its page.
    page.get_by_role("link", name="Connect").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    page.get_by_role("button", name="Add customer").click()
    dialog = page.get_by_role("dialog", name="Add customer")
    expect(dialog.get_by_label("Company").locator("option:checked")).to_have_text("Default Company")
    dialog.get_by_label("Name").fill("Acme Payer")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Customer created.")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Acme Payer")).to_be_visible()

    # Add an integration, then another one.
    add_integration(page, "Visa", "Visa")
    add_integration(page, "Mastercard", "Mastercard")

    # Select the first from the left side panel and edit its name.
    panel = page.get_by_role("navigation", name="Integrations of Acme Payer")
    panel.get_by_role("link", name="Visa").click()
    expect(page.get_by_role("heading", level=1, name="Visa")).to_be_visible()
    page.get_by_role("button", name="Edit", exact=True).click()
    dialog = page.get_by_role("dialog", name="Edit Integration")
    dialog.get_by_label("Integration Name").fill("Visa Europe")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Integration updated.")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Visa Europe")).to_be_visible()
    expect(panel.get_by_role("link", name="Visa Europe")).to_be_visible()

    # Add connections and flows inside it.
    for name in ("Simulator A", "Simulator B", "Simulator C"):
        add_connection(page, name)
    add_flow(page, "Debits", "Simulator A")
    add_flow(page, "Fallback", "Simulator B")
    expect(page.get_by_role("cell", name="supersecure1")).to_have_count(0)

    # Delete it: the confirmation counts what goes with it.
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("3 connections and 2 flows will be deleted")
    dialog.get_by_role("button", name="Delete Integration").click()
    expect(page.get_by_text("Integration deleted")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Acme Payer")).to_be_visible()
    expect(panel.get_by_role("link", name="Visa Europe")).to_have_count(0)
    expect(page.get_by_role("link", name="Visa Europe")).to_have_count(0)
    expect(panel.get_by_role("link", name="Mastercard")).to_be_visible()

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Integration)) == 1
        assert db.session.scalar(select(func.count()).select_from(Connection)) == 0
        assert db.session.scalar(select(func.count()).select_from(Flow)) == 0


def test_cancel_a_delete_keeps_the_integration(page: Page, make_user, app: Flask) -> None:
    email = make_user("admin")
    with app.app_context():
        integration = factories.make_integration(
            factories.make_customer("Cancel Payer"), name="Keep me", network="Visa"
        )
        factories.make_connection(integration)
        url = f"/connect/customers/{integration.customer.public_id}/integrations/{integration.id}"
    sign_in_as(page, email)
    page.goto(url)
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("1 connection and 0 flows will be deleted")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", level=1, name="Keep me")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Integration)) == 1


def test_search_customers_as_you_type(page: Page, make_user, app: Flask) -> None:
    email = make_user("viewer")
    with app.app_context():
        factories.make_customer("Alpha Payments")
        beta = factories.make_customer("Beta Bank")
        beta_id = beta.public_id
    sign_in_as(page, email)
    page.goto("/connect/")
    results = page.locator("#customers-results")
    expect(results.get_by_role("link", name="Beta Bank")).to_be_visible()
    search = page.get_by_role("searchbox", name="Search customers")
    search.press_sequentially("alp")
    expect(results.get_by_role("link", name="Beta Bank")).to_have_count(0)
    expect(results.get_by_role("link", name="Alpha Payments")).to_be_visible()
    search.fill(beta_id)
    expect(results.get_by_role("link", name="Alpha Payments")).to_have_count(0)
    expect(results.get_by_role("link", name="Beta Bank")).to_be_visible()
    search.fill("nobody at all")
    expect(results).to_contain_text("No customer matches")
    # Viewers read but do not change.
    expect(page.get_by_role("button", name="Add customer")).to_have_count(0)


def test_page_through_customers_with_the_keyboard(page: Page, make_user, app: Flask) -> None:
    email = make_user("viewer")
    with app.app_context():
        for index in range(60):
            factories.make_customer(f"Customer {index:02d}")
    sign_in_as(page, email)
    page.goto("/connect/")
    results = page.get_by_role("region", name="Customers")
    page.get_by_role("link", name="Next").focus()
    page.keyboard.press("Enter")
    expect(results.get_by_role("link", name="Customer 25")).to_be_visible()
    # The swapped-in Next link keeps the focus, so Enter walks on. htmx wires the new link
    # up when the swap settles; before that, Enter would follow its plain href instead.
    expect(page.get_by_role("link", name="Next")).to_be_focused()
    wait_for_htmx(page)
    page.keyboard.press("Enter")
    expect(results.get_by_role("link", name="Customer 59")).to_be_visible()
    # The last page has no Next link: the results take the focus, not the top of the page.
    expect(results).to_be_focused()
    page.keyboard.press("Tab")
    expect(results.get_by_role("link", name="Name")).to_be_focused()  # the first column's sort
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(results.get_by_role("link", name="Customer 50")).to_be_focused()


def test_editing_a_connection_changes_only_what_the_user_touched(
    page: Page, make_user, app: Flask
) -> None:
    email = make_user("editor")
    with app.app_context():
        integration = factories.make_integration(factories.make_customer("Edit Payer"))
        connection = factories.make_connection(
            integration,
            name="Simulator A",
            config={"password": "supersecure1", "test_mode": True, "language": "de"},
            scheduler_enabled=True,
            disabled_transaction_types=["refund", "payout"],
            terminals=[{"terminal_id": "ID-0001", "disabled": True}],
        )
        public_id, password = connection.public_id, connection.password_encrypted
        url = f"/connect/customers/{integration.customer.public_id}/integrations/{integration.id}"
    sign_in_as(page, email)
    page.goto(url)

    def edit(change) -> None:
        # A row with three actions keeps them in its actions menu.
        page.get_by_role("button", name="Actions for connection").click()
        page.get_by_role("link", name="Edit connection").click()
        dialog = page.get_by_role("dialog", name="Edit Connection")
        change(dialog)
        # The previous edit's toast may still show: wait for this save's own redirect.
        with page.expect_navigation():
            dialog.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Connection updated.").last).to_be_visible()

    edit(lambda dialog: dialog.get_by_label("Name", exact=True).fill("Simulator A2"))
    with app.app_context():
        stored = db.session.scalar(select(Connection).where(Connection.public_id == public_id))
        assert stored.name == "Simulator A2" and stored.password_encrypted == password
        assert stored.test_mode and stored.scheduler_enabled and stored.language == "de"
        assert stored.disabled_transaction_types == ["refund", "payout"]
        assert stored.terminals == [{"terminal_id": "ID-0001", "disabled": True}]

    def uncheck(dialog) -> None:
        dialog.get_by_label("Test mode").uncheck()
        dialog.get_by_label("refund", exact=True).uncheck()

    edit(uncheck)
    with app.app_context():
        stored = db.session.scalar(select(Connection).where(Connection.public_id == public_id))
        assert not stored.test_mode and stored.scheduler_enabled
        assert stored.disabled_transaction_types == ["payout"]


def test_sort_customers_by_a_column_with_the_sort_in_the_url(
    page: Page, make_user, app: Flask
) -> None:
    email = make_user("viewer")
    with app.app_context():
        for index in range(30):
            factories.make_customer(f"Customer {index:02d}")
    sign_in_as(page, email)
    page.goto("/connect/")
    results = page.get_by_role("region", name="Customers", exact=True)
    names = results.locator("tbody td.name")
    expect(names.first).to_have_text("Customer 00")
    header = page.get_by_role("columnheader", name="Name")
    expect(header).to_have_attribute("aria-sort", "ascending")

    # A click on the column sorts the other way; the address says so.
    header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=-name"))
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(names.first).to_have_text("Customer 29")
    # Keyset pages follow the sort, and the search keeps it.
    page.get_by_role("link", name="Next").click()
    expect(names.first).to_have_text("Customer 04")
    page.get_by_role("searchbox", name="Search customers").fill("Customer 1")
    expect(names.first).to_have_text("Customer 19")

    # Newest first, by "Created"; reloading the address shows the same order.
    page.get_by_role("columnheader", name="Created").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=created"))
    page.get_by_role("columnheader", name="Created").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=-created"))
    page.reload()
    expect(names.first).to_have_text("Customer 19")
    expect(page.get_by_role("columnheader", name="Created")).to_have_attribute(
        "aria-sort", "descending"
    )


def test_a_connection_a_flow_uses_offers_no_delete_and_says_why(
    page: Page, make_user, app: Flask
) -> None:
    email = make_user("editor")
    with app.app_context():
        integration = factories.make_integration(factories.make_customer("Flow Payer"))
        used = factories.make_connection(integration, name="Primary")
        factories.make_connection(integration, name="Spare")
        factories.make_flow(integration, used, name="Debits")
        url = f"/connect/customers/{integration.customer.public_id}/integrations/{integration.id}"
    sign_in_as(page, email)
    page.goto(url)
    page.get_by_role("button", name="Actions for connection Primary").click()
    delete = page.get_by_role("button", name="Delete connection Primary")
    expect(delete).to_be_disabled()
    expect(delete).to_have_accessible_description(re.compile("Default connection of “Debits”"))
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Actions for connection Spare").click()
    expect(page.get_by_role("link", name="Delete connection Spare")).to_be_visible()
