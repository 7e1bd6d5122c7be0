"""Small factories that build rows through the services, as users would."""

from __future__ import annotations

import itertools

from portal.extensions import db
from portal.models import Company, User
from portal.services import companies, setup, users
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
