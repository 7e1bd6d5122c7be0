"""Small factories that build rows through the services, as users would."""

from __future__ import annotations

import itertools

from portal.extensions import db
from portal.models import Company, Connection, Customer, Flow, Integration, User
from portal.schemas.connect import ConnectionInput, CustomerInput, FlowInput, IntegrationInput
from portal.services import companies, connect, customers, setup, users
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
    return connect.create_integration(Actor.system("test"), customer, data)


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
    return connect.create_connection(
        Actor.system("test"), integration, ConnectionInput.model_validate(data)
    )


def make_flow(integration: Integration, connection: Connection | None = None, **fields) -> Flow:
    """Create a flow of the integration routing to a connection of it."""
    connection = connection or make_connection(integration)
    data = {
        "name": f"Flow {next(_counter)}",
        "transaction_types": ["initial_debit"],
        "default_connection_id": connection.public_id,
        **fields,
    }
    return connect.create_flow(Actor.system("test"), integration, FlowInput.model_validate(data))
