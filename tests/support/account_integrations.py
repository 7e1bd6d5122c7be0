"""Forms and switches the tests of Account Settings > Integrations share."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.support.web import csrf_token

INDEX = "/account/integrations/"
NEW_KEY = "/account/integrations/api-keys/new"
KEYS = "/account/integrations/api-keys/"
RETRIES = "/account/integrations/retries/"
SETTINGS = "/account/settings/"


def company_id(app: Flask) -> int:
    """Return the id of "Default Company"."""
    with app.app_context():
        return factories.default_company().id


def _form(app: Flask, client: FlaskClient, defaults: dict, fields: dict) -> dict[str, str]:
    """Return a form of the section with its token, the default company, and overrides."""
    token = csrf_token(client, INDEX)
    return {"csrf_token": token, "company_id": str(company_id(app)), **defaults, **fields}


def key_form(app: Flask, client: FlaskClient, **fields) -> dict[str, str]:
    """Return a valid "Generate API key" form, with overrides."""
    return _form(app, client, {"name": "CRM", "environment": "sandbox"}, fields)


def retry_form(app: Flask, client: FlaskClient, **fields) -> dict[str, str]:
    """Return a valid "Add auto-retries" form, with overrides."""
    defaults = {"name": "Prod retries", "environment": "production", "status": "active"}
    return _form(app, client, defaults, fields)


def scheduler(app: Flask, enabled: bool = True) -> None:
    """Switch the scheduler on or off."""
    with app.app_context():
        factories.enable_scheduler(enabled)
