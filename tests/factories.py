"""Small factories that build rows through the services, as users would."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    DEFAULT_COMPANY_NAME,
    AutoRetry,
    Company,
    Connection,
    Customer,
    Flow,
    Integration,
    User,
)
from portal.schemas.accounts import NewUser
from portal.schemas.api_keys import ApiKeyInput
from portal.schemas.auto_retries import AutoRetryInput
from portal.schemas.companies import CompanyInput
from portal.schemas.connect import ConnectionInput, CustomerInput, FlowInput, IntegrationInput
from portal.schemas.external_integrations import ExternalIntegrationInput
from portal.services import (
    account_settings,
    api_keys,
    auto_retries,
    companies,
    connections,
    customers,
    external_integrations,
    flows,
    integrations,
    setup,
    users,
)
from portal.services.actor import Actor
from portal.web.registry import api_key_pepper, providers, secret_box
from tests.support.stripe_app import stripe_key

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def setup_account() -> None:
    """Create the account settings row and "Default Company" (idempotent)."""
    setup.ensure_account(Actor.system("test"))
    db.session.commit()


def make_user(role: str = "admin", email: str | None = None, password: str = PASSWORD) -> User:
    """Create a user with a role."""
    email = email or f"{role}{next(_counter)}@example.com"
    data = NewUser(email=email, password=password, role=role)
    return users.create_user(Actor.system("test"), data)


def make_company(name: str | None = None) -> Company:
    """Create a company."""
    data = CompanyInput(name=name or f"Company {next(_counter)}")
    return companies.create_company(Actor.system("test"), data)


def make_external_integration(
    name: str | None = None, secret: str | None = None, *, active: bool = True
):
    """Add a Stripe integration through the service (the app must point at a FakeStripe)."""
    data = ExternalIntegrationInput(
        provider="stripe",
        name=name or f"Stripe {next(_counter)}",
        secret=secret or stripe_key(),
        active=active,
    )
    saved = external_integrations.create_integration(
        Actor.system("test"), data, providers(), secret_box()
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
    data = ApiKeyInput(
        name=name or f"Key {next(_counter)}", company_id=company.id, environment=environment
    )
    return api_keys.generate_api_key(Actor.system("test"), data, api_key_pepper())


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
    data = AutoRetryInput(
        name=name or f"Retry {next(_counter)}",
        company_id=company.id,
        environment=environment,
        status=status,
    )
    return auto_retries.add_auto_retry(Actor.system("test"), data)


def make_customer(name: str | None = None, company: Company | None = None) -> Customer:
    """Create a customer in the given company (default: "Default Company")."""
    setup_account()
    company = company or customers.default_company()
    data = CustomerInput(name=name or f"Customer {next(_counter)}")
    return customers.create_customer(Actor.system("test"), data, company.id)


def make_integration(
    customer: Customer | None = None, name: str | None = None, network: str | None = None
) -> Integration:
    """Create an integration (in Design) for a customer."""
    customer = customer or make_customer()
    number = next(_counter)
    data = IntegrationInput(
        name=name or f"Integration {number}", network=network or f"Net {number}"
    )
    return integrations.create_integration(Actor.system("test"), customer, data)


def connection_input(**fields) -> ConnectionInput:
    """Return a valid connection input with the seed's simulator values."""
    data = {"name": "SimulatorConnector A", "adapter": "Simulator", "method": "Credit Card"}
    return ConnectionInput.model_validate({**data, **fields})


def make_connection(integration: Integration | None = None, **fields) -> Connection:
    """Create an enabled connection with the seed's simulator values unless told otherwise."""
    integration = integration or make_integration()
    data = {
        "name": f"Simulator Connector {next(_counter)}",
        "adapter": "Simulator",
        "method": "Credit Card",
        "api_key": "sim-connector-a",
        **fields,
    }
    return connections.create_connection(
        Actor.system("test"), integration, ConnectionInput.model_validate(data), secret_box()
    )


def flow_data(connection: Connection, **fields) -> dict:
    """Return valid flow input routing to the connection."""
    return {
        "name": "Main flow",
        "transaction_types": ["initial_debit", "refund"],
        "default_connection_id": connection.public_id,
        **fields,
    }


def make_flow(integration: Integration, connection: Connection | None = None, **fields) -> Flow:
    """Create a flow of the integration routing to a connection of it."""
    connection = connection or make_connection(integration)
    data = {
        "name": f"Flow {next(_counter)}",
        "transaction_types": ["initial_debit"],
        "default_connection_id": connection.public_id,
        **fields,
    }
    return flows.create_flow(Actor.system("test"), integration, FlowInput.model_validate(data))
