"""FlexCharge in tests: an app pointed at the fake, onboarding helpers, bodies, the job loop."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from portal.extensions import db
from portal.jobs import job_queue
from portal.models import Customer, FlexChargeSite
from portal.schemas.flexcharge import CredentialsInput, ProfilesInput, SiteInput
from portal.schemas.transactions import TransactionInput
from portal.services import flexcharge_merchants as merchants
from portal.services.actor import Actor
from portal.services.transactions import record_transaction
from portal.web.registry import flexcharge
from tests import factories
from tests.support.apps import fresh_app
from tests.support.fake_flexcharge import FakeFlexCharge

# Short enough that a slow answer times out quickly, long enough for a loaded machine.
TIMEOUT = 1.0
DEADLINE = 2.0
SYSTEM = Actor.system("test")
WEBHOOK_KEY = base64.b64encode(b"webhook-signing-key-of-the-test-merchant").decode()


def flexcharge_app(database_url: str, fake: FakeFlexCharge, **extra) -> Iterator[Flask]:
    """Yield an app whose FlexCharge calls go to the fake, retrying at once (no backoff)."""
    settings = {
        **fake.config,
        "FLEXCHARGE_TIMEOUT": TIMEOUT,
        "FLEXCHARGE_DEADLINE": DEADLINE,
        "DELIVERY_BACKOFF_SECONDS": 0.0,
        "DELIVERY_MAX_ATTEMPTS": 3,
        **extra,
    }
    yield from fresh_app(database_url, **settings)


# The fixtures every FlexCharge test module uses: a module imports them by these names (pytest
# finds fixtures among a module's names) and its tests ask for `fake` and `app`.
@pytest.fixture(name="fake")
def fake_flexcharge() -> Iterator[FakeFlexCharge]:
    """Serve a FlexCharge-like API on 127.0.0.1."""
    with FakeFlexCharge() as server:
        yield server


@pytest.fixture(name="app")
def app_on_fake_flexcharge(database_url: str, fake: FakeFlexCharge) -> Iterator[Flask]:
    """Return an app whose FlexCharge calls go to the fake."""
    yield from flexcharge_app(database_url, fake)


def run_jobs(app: Flask, rounds: int = 50) -> int:
    """Run the worker loop in this process until the queue is empty; return tasks executed.

    What a worker does: move due scheduled tasks (retries) to the queue, then execute what is
    queued. Retries in tests have no backoff, so they are due at once.
    """
    with app.app_context():
        huey = job_queue().huey
    executed = 0
    for _ in range(rounds):
        for task in huey.read_schedule():
            huey.enqueue(task)
        task = huey.dequeue()
        if task is None:
            if not huey.scheduled():
                return executed
            continue
        huey.execute(task)
        executed += 1
    return executed


def record(app: Flask, count: int = 1, enqueue=None) -> list[int]:
    """Record approved Sandbox transactions of an onboarded merchant; return delivery ids."""
    with app.app_context():
        merchant = onboard()
        ids = []
        for _ in range(count):
            data = TransactionInput.model_validate(transaction_body(merchant.public_id))
            recorded = record_transaction(
                merchant.company_id,
                "sandbox",
                data,
                flexcharge(),
                enqueue or job_queue().enqueue_delivery,
            )
            ids.extend(d.id for d in recorded.transaction.deliveries)
        return ids


def queued(app: Flask) -> int:
    """Return how many tasks wait in the queue (scheduled ones included)."""
    with app.app_context():
        huey = job_queue().huey
        return huey.pending_count() + huey.scheduled_count()


def onboard(
    customer: Customer | None = None,
    *,
    cit_website: str = "sandbox",
    cit_call_center: str = "off",
    mit: str = "production",
    environments: tuple[str, ...] = ("sandbox", "production"),
    sites: tuple[tuple[str, str], ...] = (("https://shop.example.com", "SHOP EXAMPLE"),),
) -> Customer:
    """Enable FlexCharge for a merchant with profiles, verified credentials and sites."""
    customer = customer or factories.make_customer("FlexCharge Merchant")
    merchants.set_enabled(SYSTEM, customer, True)
    merchants.set_profiles(
        SYSTEM,
        customer,
        ProfilesInput(cit_website=cit_website, cit_call_center=cit_call_center, mit=mit),
    )
    for environment in environments:
        merchants.save_credentials(SYSTEM, customer, environment, credentials_input(), flexcharge())
    for url, descriptor in sites:
        merchants.add_site(SYSTEM, customer, SiteInput(url=url, descriptor=descriptor))
    return customer


def credentials_input(**fields: Any) -> CredentialsInput:
    """Return a valid credential set (the fake accepts any secret without "denied")."""
    data = {
        "mid": "0ba84f6e-1b2c-4d5e-8f90-123456789abc",
        "app_key": "app-key-" + secrets.token_hex(4),
        "app_secret": "app-secret-" + secrets.token_hex(8),
        "tokenization_key": "tok-key-" + secrets.token_hex(8),
        "webhook_key": WEBHOOK_KEY,
        **fields,
    }
    return CredentialsInput.model_validate(data)


def site_of(customer: Customer, url: str) -> FlexChargeSite:
    """Return the merchant's site with this URL."""
    return next(site for site in merchants.list_sites(customer) if site.url == url)


def transaction_body(merchant: str, **overrides: Any) -> dict[str, Any]:
    """Return a valid approved CIT website transaction; keyword arguments replace fields."""
    body: dict[str, Any] = {
        "merchant": merchant,
        "orderId": "order-" + secrets.token_hex(4),
        "transaction": {
            "id": "tx-" + secrets.token_hex(4),
            "amount": 1999,
            "currency": "USD",
            "status": "approved",
            "responseCode": "00",
            "responseDescription": "Approved",
            "processorName": "NMI",
            "timestampUtc": "2026-05-01T12:30:00Z",
        },
        "initiator": "CIT",
        "channel": "website",
        "siteUrl": "https://shop.example.com/checkout",
        "customerIp": "203.0.113.7",
        "payer": {"email": "payer@example.com", "phone": "+15555550100"},
        "card": {
            "brand": "VISA",
            "bin": "411111",
            "last4": "1111",
            "expMonth": 12,
            "expYear": 2030,
            "holderName": "Cure Tester",
        },
    }
    for name, value in overrides.items():
        if isinstance(value, dict) and isinstance(body.get(name), dict):
            body[name] = {**body[name], **value}
        elif value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def declined_body(merchant: str, number: str = "4111111111111111", **overrides: Any) -> dict:
    """Return a declined transaction carrying the card's number and CVV (to tokenize)."""
    overrides.setdefault("transaction", {})
    overrides["transaction"] = {
        "status": "declined",
        "responseCode": "05",
        "responseDescription": "Do not honor",
        **overrides["transaction"],
    }
    card = {"bin": number[:6], "last4": number[-4:], "number": number, "cvv": "837"}
    overrides["card"] = {**card, **overrides.get("card", {})}
    return transaction_body(merchant, **overrides)


def bearer(key: str) -> dict[str, str]:
    """Return the Authorization header of an API key."""
    return {"Authorization": f"Bearer {key}"}


def refresh(row):
    """Reload a row from the database (another session may have changed it)."""
    db.session.refresh(row)
    return row
