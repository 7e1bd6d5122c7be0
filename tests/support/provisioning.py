"""What the provisioning API tests share: a client bound to an API key, and seed 002's connector."""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.extensions import db
from portal.models import Company
from tests import factories

PREFIX = "/api/provisioning"

#: Seed 002's first example connector, without its response-only fields and its two
#: meta-connector blocks (which the rules refuse on a Simulator adapter).
SEED_CONNECTOR: dict[str, Any] = {
    "name": "SimulatorConnector A",
    "adapter": "Simulator",
    "method": "Credit Card",
    "apiKey": "sim-connector-a",
    "publicIntegrationKey": "4nhDxztY3bBeozkyd7Zs",
    "sharedSecret": "OsEPpNrSr8hxYR3BO0F73YXMvMdDsM",
    "businessCountry": "AT",
    "config": {
        "username": "asmith",
        "password": "supersecure1",
        "apiSecret": "ljkllLkklmKLlk3",
        "extraData": None,
        "language": "de",
        "testMode": True,
        "vault": {},
    },
    "customerProfileContainer": 0,
    "defaultRiskRuleSet": 0,
    "description": "string",
    "disabled": False,
    "disabledTransactionTypes": ["initial_debit"],
    "postbackFormat": "inherit",
    "provider": "string",
    "scheduleApiAvailable": True,
    "virtualTerminalAvailable": True,
    "vtRiskRuleSet": 0,
    "settings": {"tx:expiration-minutes": "900", "refund:ui-enabled": "1"},
    "alias": "string",
    "terminals": [{"terminalId": "string", "disabled": True}],
}


def seed_connector(**changes: Any) -> dict[str, Any]:
    """Return a copy of the seed's connector with top-level changes."""
    return {**copy.deepcopy(SEED_CONNECTOR), **changes}


def basic(username: str, password: str = "") -> str:
    """Return an HTTP Basic Authorization value."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class Api:
    """A test client calling the provisioning API with one API key."""

    client: FlaskClient
    key: str
    headers: dict[str, str] = field(default_factory=dict)

    def call(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **headers
    ) -> TestResponse:
        """Send a request under /api/provisioning/ with the key as a Bearer token."""
        sent = {"Authorization": f"Bearer {self.key}", **self.headers, **headers}
        kwargs: dict[str, Any] = {"headers": sent}
        if raw is not None:
            kwargs.update(data=raw, content_type="application/json")
        elif body is not None:
            kwargs["json"] = body
        return self.client.open(f"{PREFIX}/{path}", method=method, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs) -> TestResponse:
        """POST to the API."""
        return self.call("POST", path, body, **kwargs)

    def get(self, path: str, **headers) -> TestResponse:
        """GET from the API."""
        return self.call("GET", path, **headers)

    def merchant(self, name: str = "Acme Payments", **fields: Any) -> str:
        """Create a merchant and return its guid."""
        response = self.post("createMerchant", {"name": name, **fields})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["merchant"]["guid"]

    def connector(self, merchant: str, network: str = "Visa", **fields: Any) -> dict:
        """Create a connector and return it as answered."""
        body = {"name": "Simulator A", "adapter": "Simulator", "method": "Creditcard", **fields}
        response = self.post(f"createConnector/{merchant}", {"network": network, **body})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["connector"]


def api_key(app: Flask, environment: str = "sandbox", company: str | None = None) -> str:
    """Generate an API key (of "Default Company", or of a company by name) and return it."""
    with app.app_context():
        owner = None
        if company is not None:
            factories.setup_account()
            owner = db.session.scalar(select(Company).where(Company.name == company))
            owner = owner or factories.make_company(company)
        return factories.make_api_key(environment=environment, company=owner).plaintext


def problems(response: TestResponse) -> dict[str, int]:
    """Return an error answer's problems as {pointer: errorCode}."""
    return {problem["pointer"]: problem["errorCode"] for problem in response.get_json()["errors"]}
