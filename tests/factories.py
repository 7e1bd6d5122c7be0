"""Small factories that build rows through the services, as users would."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from portal.extensions import db
from portal.models import DEFAULT_COMPANY_NAME, AutoRetry, Company, User
from portal.services import account_settings, api_keys, auto_retries, companies, setup, users
from portal.services.actor import Actor

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def setup_account() -> None:
    """Create the account settings row and "Default Company" (idempotent)."""
    setup.ensure_account(Actor.system("test"))
    db.session.commit()


def make_user(role: str = "admin", email: str | None = None, password: str = PASSWORD) -> User:
    """Create a user with a role."""
    email = email or f"{role}{next(_counter)}@example.com"
    return users.create_user(Actor.system("test"), email, password, role)


def make_company(name: str | None = None) -> Company:
    """Create a company."""
    return companies.create_company(Actor.system("test"), name or f"Company {next(_counter)}")


def make_external_integration(
    name: str | None = None, secret: str | None = None, *, active: bool = True
):
    """Add a Stripe integration through the service (the app must point at a FakeStripe)."""
    from portal.services import external_integrations
    from tests.support.stripe_app import stripe_key

    saved = external_integrations.create_integration(
        Actor.system("test"),
        "stripe",
        name or f"Stripe {next(_counter)}",
        secret or stripe_key(),
        active=active,
    )
    return saved.integration


def default_company() -> Company:
    """Return "Default Company", creating the account first when needed."""
    setup_account()
    return db.session.scalar(select(Company).where(Company.name == DEFAULT_COMPANY_NAME))


def make_api_key(
    name: str | None = None, environment: str = "sandbox", company: Company | None = None
) -> api_keys.NewApiKey:
    """Generate an API key; the plaintext is in the result, as the dialog shows it."""
    company = company or default_company()
    return api_keys.generate_api_key(
        Actor.system("test"), name or f"Key {next(_counter)}", company.id, environment
    )


def enable_scheduler(enabled: bool = True) -> None:
    """Switch the account's scheduler on (the FlexPay Retries tab)."""
    setup_account()
    account_settings.set_scheduler_enabled(Actor.system("test"), enabled)


def make_auto_retry(
    name: str | None = None,
    environment: str = "production",
    status: str = "active",
    company: Company | None = None,
) -> AutoRetry:
    """Add an auto-retry."""
    company = company or default_company()
    return auto_retries.add_auto_retry(
        Actor.system("test"), name or f"Retry {next(_counter)}", company.id, environment, status
    )
