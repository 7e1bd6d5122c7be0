"""One model: connectors made by the API are Connect's connections, and the other way round."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import Connection
from tests.support.provisioning import SEED_CONNECTOR, Api, api_key
from tests.support.web import csrf_token


@pytest.mark.services
def test_an_api_connector_is_shown_and_edited_in_connect_and_reads_back(
    app: Flask, client: FlaskClient, login
) -> None:
    api = Api(app.test_client(), api_key(app, "sandbox"))
    merchant = api.merchant("Acme Payments")
    created = api.connector(merchant, network="Visa")
    guid = created["guid"]
    api.post(f"updateConnector/{guid}", {**SEED_CONNECTOR, "name": "From the API"})
    with app.app_context():
        connection = db.session.scalar(select(Connection).where(Connection.public_id == guid))
        base = f"/connect/customers/{merchant}/integrations/{connection.integration_id}"

    login("editor")
    page = client.get(base).get_data(as_text=True)
    assert "From the API" in page and "Test mode" in page
    assert "Visa" in page and "Design" in page  # the integration the API created
    assert SEED_CONNECTOR["sharedSecret"] not in page

    form = client.get(f"{base}/connections/{guid}/edit").get_data(as_text=True)
    assert re.search(r"Stored: \.\.\.or-a\. Leave empty to keep it\.", form)  # the API key
    assert "sim-connector-a" not in form and "supersecure1" not in form

    token = csrf_token(client, "/connect/")
    response = client.post(
        f"{base}/connections/{guid}",
        data={
            "csrf_token": token,
            "name": "Edited in Connect",
            "adapter": "Simulator",
            "method": "Credit Card",
            "description": "Changed on the page",
            "test_mode": ["", "y"],
        },
    )
    assert response.status_code == 303

    connector = api.get(f"getConnector/{guid}").get_json()["connector"]
    assert connector["name"] == "Edited in Connect"
    assert connector["description"] == "Changed on the page"
    # What the page did not touch stays: secrets, settings, flags.
    assert connector["apiKey"] == "...or-a"
    assert connector["config"]["password"] == "...ure1"
    assert connector["settings"] == SEED_CONNECTOR["settings"]
    assert connector["scheduleApiAvailable"] is True


@pytest.mark.services
def test_a_meta_connector_shows_its_routing_among_the_flows(
    app: Flask, client: FlaskClient, login
) -> None:
    api = Api(app.test_client(), api_key(app, "production"))
    merchant = api.merchant("Acme Payments")
    target = api.connector(merchant, name="Target")
    router = api.connector(
        merchant,
        name="Router",
        adapter="MetaConnector",
        method="MetaConnector",
        routingMetaConnector={"defaultConnector": target["guid"]},
    )
    with app.app_context():
        connection = db.session.scalar(
            select(Connection).where(Connection.public_id == router["guid"])
        )
        base = f"/connect/customers/{merchant}/integrations/{connection.integration_id}"
    login("editor")
    page = client.get(base).get_data(as_text=True)
    assert "Routing meta-connector" in page and "Set through the provisioning API" in page
    # The connection it routes to cannot be deleted from under it.
    token = csrf_token(client, "/connect/")
    refused = client.post(
        f"{base}/connections/{target['guid']}/delete",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "meta-connector Router" in refused.get_data(as_text=True)
    assert api.get(f"getConnector/{target['guid']}").status_code == 200
