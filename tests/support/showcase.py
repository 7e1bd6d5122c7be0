"""A realistic account, and the address of every page and dialog of the portal.

The browser tour (tests/e2e/test_pages.py) walks these pages and dialogs at 1440 and 390 px,
and ``make screenshots`` (tests/support/screenshots.py) photographs them. A page or dialog
added to the portal belongs in ``pages`` or ``dialogs`` below, so both see it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from portal.extensions import db
from portal.models import Customer, Delivery
from portal.schemas.companies import CompanyInput
from portal.schemas.transactions import TransactionInput
from portal.services import companies, transactions
from portal.services import flexcharge_merchants as merchants
from portal.services.actor import Actor
from portal.web.registry import flexcharge
from tests import factories
from tests.support.flexcharge import SYSTEM, onboard, site_of, transaction_body
from tests.support.stripe_app import stripe_key

ADMIN = "ada@example.com"


@dataclass(frozen=True)
class Dialog:
    """A dialog: its own address, the form control emptied before saving, the save button."""

    name: str
    url: str
    clear: str | None
    save: str


@dataclass(frozen=True)
class Showcase:
    """The addresses of the account's pages and dialogs."""

    pages: dict[str, str]
    dialogs: list[Dialog]
    #: Confirmations (and refusals) of destructive actions: (title, address).
    confirms: list[tuple[str, str]]


def seed(app: Flask) -> Showcase:
    """Fill the (empty) database with a small account; the app must verify against FakeStripe."""
    with app.app_context():
        factories.setup_account()
        admin = factories.make_user("admin", ADMIN)
        grace_id = factories.make_user("editor", "grace@example.com").id
        factories.make_user("viewer", "linus@example.com")
        actor = Actor(user=admin, ip="203.0.113.7")
        europe = factories.make_company("EU Payments Ltd")
        companies.rename_company(actor, europe, CompanyInput(name="EU Payments GmbH"))
        factories.enable_scheduler()
        retry = factories.make_auto_retry("Nightly retries", "production")
        crm = factories.make_api_key("CRM production", "production").api_key
        factories.make_api_key("Billing sandbox", "sandbox", company=europe)
        main = factories.make_external_integration("Main", stripe_key(prefix="sk_live_"))
        factories.make_external_integration("Back office", active=False)
        acme = factories.make_customer("Acme Payments")
        for name in ("Globex Retail", "Initech Ltd", "Umbrella Health", "Stark Industries"):
            factories.make_customer(name)
        factories.make_customer("Wayne Enterprises", company=europe)
        visa = factories.make_integration(acme, "Visa Europe", "Visa")
        factories.make_integration(acme, "Mastercard", "Mastercard")
        primary = factories.make_connection(visa, name="Simulator primary")
        backup = factories.make_connection(visa, name="Simulator backup")
        legacy = factories.make_connection(visa, name="Legacy gateway")
        debits = factories.make_flow(
            visa, primary, name="Debits", transaction_types=["initial_debit", "recurring_debit"]
        )
        refunds = factories.make_flow(
            visa, backup, name="Refunds", transaction_types=["refund"], retries=3
        )
        # FlexCharge for Acme: two sites (one off), a transaction, and a delivery that failed.
        flexcharge_site = flexcharge_account(acme, crm.company_id)
        customer = f"/connect/customers/{acme.public_id}"
        site = f"{customer}/flexcharge/sites/{flexcharge_site}"
        integration = f"{customer}/integrations/{visa.id}"
        connection = f"{integration}/connections/{primary.public_id}"
        external = f"/system/external-integrations/{main.id}"
        pages = {
            "connect": "/connect/",
            "customer": customer,
            "flexcharge": f"{customer}/flexcharge",
            "flexcharge-report": "/connect/flexcharge/report",
            "integration": integration,
            "api-keys": "/account/integrations/",
            "api-reference": "/account/integrations/api-reference",
            "flexpay-retries": "/account/integrations/retries/",
            "companies": "/account/companies/",
            "account-settings": "/account/settings/",
            "password": "/account/password",
            "edit-auto-retry": f"/account/integrations/retries/{retry.id}/edit",
            "external-integrations": "/system/external-integrations/",
            "external-integration": external,
            "users": "/system/users/",
            "audit-log": "/system/audit/",
        }
        dialogs = [
            Dialog("Add customer", "/connect/customers/new", "Name", "Save"),
            Dialog("Add Integration", f"{customer}/integrations/new", None, "Save"),
            Dialog("Edit Integration", f"{integration}/edit", "Integration Name", "Save"),
            Dialog("Add Connection", f"{integration}/connections/new", None, "Save"),
            Dialog("Edit Connection", f"{connection}/edit", "Name", "Save"),
            Dialog("Add Flow", f"{integration}/flows/new", None, "Save"),
            Dialog("Edit Flow", f"{integration}/flows/{debits.id}/edit", "Name", "Save"),
            Dialog(
                "Sandbox credentials",
                f"{customer}/flexcharge/credentials/sandbox/edit",
                None,
                "Save",
            ),
            Dialog("Add site", f"{customer}/flexcharge/sites/new", None, "Save"),
            Dialog("Edit site", f"{site}/edit", "Site URL", "Save"),
            Dialog("Generate API key", "/account/integrations/api-keys/new", None, "Generate"),
            Dialog("Add auto-retries", "/account/integrations/retries/new", None, "Add auto-retry"),
            Dialog(
                "Rename “EU Payments GmbH”", f"/account/companies/{europe.id}/edit", "Name", "Save"
            ),
            Dialog(
                "Add Integration", "/system/external-integrations/new", None, "Save Integration"
            ),
            Dialog("Edit “Main”", f"{external}/edit", "Name", "Save Integration"),
            Dialog("Add user", "/system/users/new", None, "Create user"),
        ]
        confirms = [
            ("Delete Integration", f"{integration}/delete"),
            ("Delete connection (used by a flow)", f"{connection}/delete"),
            ("Delete connection", f"{integration}/connections/{legacy.public_id}/delete"),
            ("Delete flow", f"{integration}/flows/{refunds.id}/delete"),
            ("Delete site", f"{site}/delete"),
            ("Delete API key", f"/account/integrations/api-keys/{crm.id}/delete"),
            ("Delete auto-retry", f"/account/integrations/retries/{retry.id}/delete"),
            ("Delete company (in use)", f"/account/companies/{europe.id}/delete"),
            ("Delete external integration", f"{external}/delete"),
            ("Deactivate user", f"/system/users/{grace_id}/deactivate"),
        ]
        return Showcase(pages, dialogs, confirms)


def flexcharge_account(customer: Customer, company_id: int) -> int:
    """Enable FlexCharge for the customer: two sites, a failed delivery; return a site's id."""
    merchant = onboard(
        customer,
        environments=(),
        sites=(
            ("https://shop.acme.example", "ACME SHOP"),
            ("https://outlet.acme.example", "ACME OUTLET"),
        ),
    )
    merchants.set_site_enabled(SYSTEM, site_of(merchant, "https://outlet.acme.example"), False)
    data = TransactionInput.model_validate(
        transaction_body(merchant.public_id, siteUrl="https://shop.acme.example/checkout")
    )
    recorded = transactions.record_transaction(
        company_id, "sandbox", data, flexcharge(), lambda delivery_id: None
    ).transaction
    db.session.add(
        Delivery(
            transaction=recorded,
            kind="transmit",
            environment="sandbox",
            state="failed",
            last_error="FlexCharge did not answer within 10 s.",
        )
    )
    db.session.commit()
    return site_of(merchant, "https://shop.acme.example").id
