"""The provisioning API: seed 002's connector, update semantics, masking, scope, error codes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from portal.core.crypto import mask_secret
from portal.extensions import db
from portal.models import AuditEvent, Connection, Customer, Flow
from portal.web.registry import secret_box
from tests.support.provisioning import (
    SEED_CONNECTOR,
    Api,
    api_key,
    basic,
    problems,
    seed_connector,
)

SECRETS = {"apiKey", "sharedSecret"}
CONFIG_SECRETS = {"password", "apiSecret"}
RESPONSE_ONLY = {"guid", "merchantGuid", "createdAt", "isMetaConnector", "archived", "network"}


@pytest.fixture
def sandbox(app: Flask, client: FlaskClient) -> Api:
    """Return the API called with a Sandbox key of "Default Company"."""
    return Api(client, api_key(app, "sandbox"))


@pytest.fixture
def production(app: Flask, client: FlaskClient) -> Api:
    """Return the API called with a Production key of "Default Company"."""
    return Api(client, api_key(app, "production"))


def events(app: Flask) -> list[AuditEvent]:
    """Return every audit event, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def stored(app: Flask, guid: str) -> Connection:
    """Return the connection row behind a connector guid."""
    with app.app_context():
        connection = db.session.scalar(select(Connection).where(Connection.public_id == guid))
        db.session.expunge(connection)
        return connection


# Merchants -----------------------------------------------------------------------------------


@pytest.mark.services
def test_create_merchant_makes_a_customer_of_the_keys_company_with_one_audit_event(
    app: Flask, sandbox: Api
) -> None:
    before = len(events(app))
    response = sandbox.post(
        "createMerchant",
        {
            "name": "Acme Payments",
            "externalId": "crm-42",
            "homepage": "https://acme.example",
            "country": "AT",
            "defaultCurrency": "EUR",
            "technicalEmail": "tech@acme.example",
        },
    )
    assert response.status_code == 200
    merchant = response.get_json()["merchant"]
    assert merchant["guid"].startswith("ME-")
    assert merchant["timezone"] == "UTC"  # the default
    assert merchant["createdAt"].endswith("+00:00")
    assert (merchant["country"], merchant["defaultCurrency"]) == ("AT", "EUR")
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.public_id == merchant["guid"]))
        assert customer.company.name == "Default Company"
        assert customer.external_id == "crm-42"
    new = events(app)[before:]
    assert [event.action for event in new] == ["customer.create"]
    assert new[0].actor_label == "API key " + sandbox.key[:21]
    assert sandbox.key not in str(new[0].changes) and sandbox.key not in new[0].actor_label


@pytest.mark.parametrize(
    ("body", "pointer", "code"),
    [
        ({"name": "Ac"}, "/name", 1003),
        ({"name": "Acme", "country": "AUT"}, "/country", 1003),
        ({"name": "Acme", "defaultCurrency": "eur"}, "/defaultCurrency", 1003),
        ({"name": "Acme", "timezone": "Mars/Olympus"}, "/timezone", 1003),
        ({"name": "Acme", "homepage": "ftp://acme"}, "/homepage", 1003),
        ({"name": "Acme", "riskAlertEmail": "not-an-address"}, "/riskAlertEmail", 1003),
        ({"name": "Acme\u0007"}, "/name", 1004),
        ({"homepage": "https://acme.example"}, "/name", 1005),
        ({"name": "Acme", "address": "Main St"}, "/address", 1006),
    ],
)
def test_create_merchant_refuses_bad_fields(
    sandbox: Api, body: dict, pointer: str, code: int
) -> None:
    response = sandbox.post("createMerchant", body)
    assert response.status_code == 422
    assert response.get_json()["errorCode"] == code
    assert problems(response) == {pointer: code}


# Seed 002's connector ------------------------------------------------------------------------


def masked(value: str) -> str:
    """Return a secret as the API masks it."""
    return mask_secret(value)


@pytest.mark.services
def test_the_seed_connector_is_accepted_and_comes_back_with_the_same_values(
    sandbox: Api,
) -> None:
    merchant = sandbox.merchant()
    guid = sandbox.connector(merchant)["guid"]
    response = sandbox.post(f"updateConnector/{guid}", SEED_CONNECTOR)
    assert response.status_code == 200, response.get_json()
    connector = response.get_json()["connector"]
    assert set(connector) == set(SEED_CONNECTOR) | RESPONSE_ONLY | {
        "routingMetaConnector",
        "multiMethodMetaConnector",
    }
    for name, sent in SEED_CONNECTOR.items():
        if name in SECRETS:
            assert connector[name] == masked(sent) != sent
        elif name == "config":
            for key, value in sent.items():
                if key in CONFIG_SECRETS:
                    assert connector["config"][key] == masked(value) != value
                elif key == "extraData":
                    assert connector["config"][key] == {}  # "no values", as null was
                else:
                    assert connector["config"][key] == value, key
        else:
            assert connector[name] == sent, name
    assert connector["guid"] == guid and connector["merchantGuid"] == merchant
    assert connector["isMetaConnector"] is False and connector["archived"] is False
    assert connector["routingMetaConnector"] is None
    assert sandbox.get(f"getConnector/{guid}").get_json()["connector"] == connector


@pytest.mark.services
def test_an_update_of_the_name_alone_changes_nothing_else_secrets_included(
    app: Flask, sandbox: Api
) -> None:
    guid = sandbox.connector(sandbox.merchant())["guid"]
    sandbox.post(f"updateConnector/{guid}", SEED_CONNECTOR)
    before = sandbox.get(f"getConnector/{guid}").get_json()["connector"]
    row_before = stored(app, guid)

    response = sandbox.post(f"updateConnector/{guid}", {"name": "Renamed A"})

    after = response.get_json()["connector"]
    assert after == {**before, "name": "Renamed A"}
    row_after = stored(app, guid)
    for column in (
        "api_key_encrypted",
        "shared_secret_encrypted",
        "password_encrypted",
        "api_secret_encrypted",
    ):
        assert getattr(row_after, column) == getattr(row_before, column), column
    # An update that changes nothing is not a change: no audit event.
    count = len(events(app))
    assert sandbox.post(f"updateConnector/{guid}", {"name": "Renamed A"}).status_code == 200
    assert len(events(app)) == count


@pytest.mark.services
def test_a_client_sending_the_read_object_back_keeps_the_secrets(app: Flask, sandbox: Api) -> None:
    guid = sandbox.connector(sandbox.merchant())["guid"]
    sandbox.post(f"updateConnector/{guid}", SEED_CONNECTOR)
    read = sandbox.get(f"getConnector/{guid}").get_json()["connector"]
    body = {key: value for key, value in read.items() if key not in RESPONSE_ONLY}
    body.pop("routingMetaConnector"), body.pop("multiMethodMetaConnector")
    tokens = stored(app, guid)

    assert sandbox.post(f"updateConnector/{guid}", body).status_code == 200

    with app.app_context():
        row = db.session.scalar(select(Connection).where(Connection.public_id == guid))
        box = secret_box()
        assert box.decrypt(row.shared_secret_encrypted) == SEED_CONNECTOR["sharedSecret"]
        assert box.decrypt(row.password_encrypted) == "supersecure1"
        assert row.api_key_encrypted == tokens.api_key_encrypted


@pytest.mark.services
def test_settings_are_replaced_merged_and_pruned(sandbox: Api) -> None:
    guid = sandbox.connector(sandbox.merchant(), settings={"a": "1", "b": "2"})["guid"]

    def update(body: dict) -> dict:
        response = sandbox.post(f"updateConnector/{guid}", body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["connector"]["settings"]

    assert update({"addSettings": {"c": 3}}) == {"a": "1", "b": "2", "c": "3"}
    assert update({"removeSettings": ["a", "missing"]}) == {"b": "2", "c": "3"}
    # The seed types removeSettings as an object: its keys are removed.
    assert update({"removeSettings": {"b": "", "c": None}}) == {}
    assert update({"settings": {"x": "1", "y": "2"}}) == {"x": "1", "y": "2"}
    # settings replaces first, then removeSettings, then addSettings.
    assert update({"settings": {"p": "1"}, "removeSettings": ["p"], "addSettings": {"q": "2"}}) == {
        "q": "2"
    }
    assert update({"name": "Still A"}) == {"q": "2"}


@pytest.mark.services
def test_a_generated_shared_secret_is_shown_whole_once_then_masked(
    app: Flask, sandbox: Api
) -> None:
    created = sandbox.connector(sandbox.merchant())
    secret = created["sharedSecret"]
    assert len(secret) == 30 and secret.isalnum()
    guid = created["guid"]
    assert sandbox.get(f"getConnector/{guid}").get_json()["connector"]["sharedSecret"] == (
        "..." + secret[-4:]
    )
    # Empty generates a new one (seed 002), shown whole in that answer only.
    renewed = sandbox.post(f"updateConnector/{guid}", {"sharedSecret": ""}).get_json()
    new_secret = renewed["connector"]["sharedSecret"]
    assert len(new_secret) == 30 and new_secret != secret
    # A sent secret is stored, never echoed.
    answer = sandbox.post(f"updateConnector/{guid}", {"sharedSecret": "my-own-shared-secret-1"})
    assert answer.get_json()["connector"]["sharedSecret"] == "...et-1"
    with app.app_context():
        row = db.session.scalar(select(Connection).where(Connection.public_id == guid))
        assert secret_box().decrypt(row.shared_secret_encrypted) == "my-own-shared-secret-1"


@pytest.mark.services
def test_the_connector_api_key_is_encrypted_at_rest(app: Flask, sandbox: Api) -> None:
    guid = sandbox.connector(sandbox.merchant(), apiKey="sim-connector-a-secret")["guid"]
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM connections")).all()
        assert "sim-connector-a-secret" not in repr(rows)
        row = db.session.scalar(select(Connection).where(Connection.public_id == guid))
        assert secret_box().decrypt(row.api_key_encrypted) == "sim-connector-a-secret"


# Authentication ------------------------------------------------------------------------------


@pytest.mark.services
def test_basic_with_a_password_part_authenticates_as_vendor_clients_send_it(
    sandbox: Api,
) -> None:
    for header in (basic(sandbox.key, "ignored-password"), basic(sandbox.key)):
        response = sandbox.client.get(
            "/api/provisioning/getConnectorSettings/Simulator", headers={"Authorization": header}
        )
        assert response.status_code == 200


@pytest.mark.services
def test_missing_malformed_or_unknown_keys_get_one_401_body(sandbox: Api) -> None:
    bodies = set()
    mistyped = sandbox.key[:-1] + ("x" if sandbox.key[-1] != "x" else "y")
    for header in (None, "Bearer nope", basic("nope", "pw"), f"Bearer {mistyped}"):
        headers = {"Authorization": header} if header else {}
        response = sandbox.client.post(
            "/api/provisioning/createMerchant", json={"name": "Acme"}, headers=headers
        )
        assert response.status_code == 401
        assert response.get_json()["errorCode"] == 1000
        bodies.add(response.get_data())
    assert len(bodies) == 1


# The error table -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{nope", 1001),
        (b"[1, 2]", 1001),
        (b'{"name": NaN}', 1001),
        (b"[" * 100_000, 1001),
        (b'{"name": "x\\ud800y"}', 1004),
    ],
)
def test_bodies_that_are_not_json_objects_are_refused(sandbox: Api, raw: bytes, code: int) -> None:
    response = sandbox.post("createMerchant", raw=raw)
    assert response.status_code == 422
    assert response.get_json()["errorCode"] == code


def test_a_body_over_the_limit_is_413(sandbox: Api) -> None:
    response = sandbox.post("createMerchant", raw=b'{"name": "' + b"x" * 1024 * 1024 + b'"}')
    assert response.status_code == 413
    assert response.get_json()["errorCode"] == 1001


CONNECTOR_REFUSALS: list[tuple[dict[str, Any], str, int]] = [
    ({"disabledTransactionTypes": ["refund", "teleport"]}, "/disabledTransactionTypes/1", 1002),
    ({"postbackFormat": "html"}, "/postbackFormat", 1002),
    ({"adapter": "Stripe"}, "/adapter", 1002),
    ({"multiMethodMetaConnector": {"retries": 10}}, "/multiMethodMetaConnector/retries", 1002),
    ({"scheduleApiAvailable": "sometimes"}, "/scheduleApiAvailable", 1001),
    ({"terminals": "T-1"}, "/terminals", 1001),
    ({"customerProfileContainer": 2**63}, "/customerProfileContainer", 1002),
    ({"businessCountry": "at"}, "/businessCountry", 1003),
    ({"config": {"language": "deu"}}, "/config/language", 1003),
    ({"sharedSecret": "s" * 51}, "/sharedSecret", 1003),
    ({"name": "ab"}, "/name", 1003),
    ({"description": "line\u0000"}, "/description", 1004),
    ({"alias": "a\u001bb"}, "/alias", 1004),
    ({"name": None}, "/name", 1005),
    ({"terminals": [{"disabled": True}]}, "/terminals/0/terminalId", 1005),
    ({"APIKey": "k"}, "/APIKey", 1006),
    (
        {"routingMetaConnector": {}, "multiMethodMetaConnector": {}},
        "/multiMethodMetaConnector",
        1006,
    ),
]


@pytest.mark.parametrize(("changes", "pointer", "code"), CONNECTOR_REFUSALS)
def test_connector_fields_are_refused_with_their_code_and_pointer(
    app: Flask, sandbox: Api, changes: dict, pointer: str, code: int
) -> None:
    merchant = sandbox.merchant()
    body = {"network": "Visa", **seed_connector(**changes)}
    before = len(events(app))
    response = sandbox.post(f"createConnector/{merchant}", body)
    assert response.status_code == 422, response.get_json()
    answer = response.get_json()
    assert answer["success"] is False
    assert problems(response)[pointer] == code
    assert answer["errorMessage"].split(":")[0] in {p.lstrip("/") for p in problems(response)}
    assert len(events(app)) == before  # nothing saved


def test_an_unknown_field_names_the_right_spelling(sandbox: Api) -> None:
    merchant = sandbox.merchant()
    body = seed_connector(network="Visa")
    body["Adapter"] = body.pop("adapter")
    body["config"]["APISecret"] = body["config"].pop("apiSecret")
    response = sandbox.post(f"createConnector/{merchant}", body)
    found = {p["pointer"]: p for p in response.get_json()["errors"]}
    assert found["/Adapter"]["errorCode"] == 1006
    assert "did you mean “adapter”" in found["/Adapter"]["message"]
    assert "did you mean “apiSecret”" in found["/config/APISecret"]["message"]
    assert found["/adapter"]["errorCode"] == 1005  # and the real one is missing


@pytest.mark.services
def test_mandatory_fields_of_create_are_1005(sandbox: Api) -> None:
    response = sandbox.post(f"createConnector/{sandbox.merchant()}", {"description": "x"})
    assert response.get_json()["errorCode"] == 1005
    assert problems(response) == {p: 1005 for p in ("/name", "/adapter", "/method", "/network")}


@pytest.mark.services
def test_meta_blocks_on_a_simulator_and_test_mode_off_with_a_sandbox_key_are_1006(
    sandbox: Api,
) -> None:
    merchant = sandbox.merchant()
    response = sandbox.post(
        f"createConnector/{merchant}",
        seed_connector(
            network="Visa",
            config={"testMode": False},
            multiMethodMetaConnector={"retries": 3},
        ),
    )
    assert response.status_code == 422
    assert problems(response) == {"/config/testMode": 1006, "/multiMethodMetaConnector": 1006}
    guid = sandbox.connector(merchant)["guid"]
    response = sandbox.post(f"updateConnector/{guid}", {"config": {"testMode": False}})
    assert problems(response) == {"/config/testMode": 1006}


@pytest.mark.services
def test_extra_data_is_checked_against_the_adapter_registry(sandbox: Api) -> None:
    merchant = sandbox.merchant()
    good = {"allowExpiredCards": True, "integrationType": "direct"}
    created = sandbox.connector(merchant, config={"extraData": good})
    assert created["config"]["extraData"] == {
        "allowExpiredCards": "true",
        "integrationType": "direct",
    }
    response = sandbox.post(
        f"updateConnector/{created['guid']}",
        {"config": {"extraData": {"integrationType": "carrier-pigeon", "colour": "red"}}},
    )
    assert problems(response) == {
        "/config/extraData/integrationType": 1002,
        "/config/extraData/colour": 1006,
    }
    response = sandbox.post(
        f"updateConnector/{created['guid']}",
        {"config": {"vault": {"threeDConfig": {"acquirers": [{"scheme": "visa"}]}}}},
    )
    assert problems(response) == {"/config/vault/threeDConfig/enabled": 1005}


@pytest.mark.services
@pytest.mark.parametrize(
    "path",
    [
        "getConnector/CO-1234-1234-1234-1234-1234-1234",
        "getConnector/CO-12",
        "getConnector/%00",
        "listConnectors/ME-1234-1234-1234-1234-1234-1234",
        "getConnectorSettings/Teleporter",
        "getConnectorSettings/Simulator/ME-1234-1234-1234-1234-1234-1234",
    ],
)
def test_entities_in_the_path_that_do_not_exist_are_404_1007(sandbox: Api, path: str) -> None:
    response = sandbox.get(path)
    assert response.status_code == 404
    assert response.get_json()["errorCode"] == 1007


@pytest.mark.services
@pytest.mark.parametrize(
    "path",
    [
        "createConnector/ME-1234-1234-1234-1234-1234-1234",
        "updateConnector/CO-1234-1234-1234-1234-1234-1234",
    ],
)
def test_an_unknown_guid_is_404_before_the_body_is_validated(sandbox: Api, path: str) -> None:
    response = sandbox.post(path, {"name": 7})
    assert response.status_code == 404
    assert response.get_json()["errorCode"] == 1007


@pytest.mark.services
def test_a_default_connector_outside_the_scope_is_422_1007(sandbox: Api) -> None:
    merchant = sandbox.merchant()
    other_network = sandbox.connector(merchant, network="Mastercard")["guid"]
    body = {
        "network": "Visa",
        "name": "Router",
        "adapter": "MetaConnector",
        "method": "MetaConnector",
        "routingMetaConnector": {"defaultConnector": other_network},
    }
    response = sandbox.post(f"createConnector/{merchant}", body)
    assert response.status_code == 422
    assert problems(response) == {"/routingMetaConnector/defaultConnector": 1007}


@pytest.mark.services
def test_an_unexpected_failure_is_9999_with_a_request_id_and_no_trace(
    app: Flask, sandbox: Api
) -> None:
    guid = sandbox.connector(sandbox.merchant())["guid"]
    with app.app_context():
        # A row the portal never writes (settings that are not a map) breaks the answer.
        db.session.execute(
            text("UPDATE connections SET settings = '[1]' WHERE public_id = :g"), {"g": guid}
        )
        db.session.commit()
    response = sandbox.get(f"getConnector/{guid}")
    assert response.status_code == 500
    body = response.get_json()
    assert body["errorCode"] == 9999 and body["success"] is False
    assert body["requestId"] in body["errorMessage"]
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.services
def test_a_secret_that_cannot_be_decrypted_is_named_never_shown(app: Flask, sandbox: Api) -> None:
    guid = sandbox.connector(sandbox.merchant())["guid"]
    with app.app_context():
        db.session.execute(
            text("UPDATE connections SET shared_secret_encrypted = 'x' WHERE public_id = :g"),
            {"g": guid},
        )
        db.session.commit()
    connector = sandbox.get(f"getConnector/{guid}").get_json()["connector"]
    assert connector["sharedSecret"] == "cannot be decrypted"


def test_unknown_routes_and_methods_under_api_answer_json(sandbox: Api) -> None:
    assert sandbox.get("noSuchEndpoint").get_json()["errorCode"] == 1007
    response = sandbox.call("DELETE", "getConnector/CO-1234-1234-1234-1234-1234-1234")
    assert response.status_code == 405
    assert response.get_json()["success"] is False


# Scope ---------------------------------------------------------------------------------------


@pytest.mark.services
def test_a_key_sees_only_its_own_companys_merchants(
    app: Flask, client: FlaskClient, sandbox: Api
) -> None:
    merchant = sandbox.merchant()
    guid = sandbox.connector(merchant)["guid"]
    stranger = Api(client, api_key(app, "sandbox", company="Other Company"))
    unknown = stranger.get("getConnector/CO-1234-1234-1234-1234-1234-1234")
    for response in (
        stranger.get(f"getConnector/{guid}"),
        stranger.get(f"listConnectors/{merchant}"),
        stranger.post(f"updateConnector/{guid}", {"name": "Mine now"}),
        stranger.post(f"createConnector/{merchant}", seed_connector(network="Visa")),
        stranger.get(f"getConnectorSettings/Simulator/{merchant}"),
    ):
        assert response.status_code == 404
        assert response.get_json()["errorCode"] == unknown.get_json()["errorCode"] == 1007
    assert sandbox.get(f"getConnector/{guid}").get_json()["connector"]["name"] == "Simulator A"


@pytest.mark.services
def test_sandbox_keys_work_on_test_mode_connectors_only(sandbox: Api, production: Api) -> None:
    merchant = production.merchant()
    live = production.connector(merchant, name="Live A", config={"testMode": False})
    test = production.connector(merchant, name="Test A", config={"testMode": True})
    assert live["config"]["testMode"] is False
    # A Sandbox key's connector is a test-mode one even when it does not say so.
    assert sandbox.connector(merchant, name="Sandbox A")["config"]["testMode"] is True

    assert sandbox.get(f"getConnector/{live['guid']}").status_code == 404
    assert sandbox.post(f"updateConnector/{live['guid']}", {"name": "x" * 5}).status_code == 404
    assert sandbox.get(f"getConnector/{test['guid']}").status_code == 200
    listed = sandbox.get(f"listConnectors/{merchant}").get_json()["connectors"]
    assert sorted(c["name"] for c in listed) == ["Sandbox A", "Test A"]
    listed = production.get(f"listConnectors/{merchant}").get_json()["connectors"]
    assert sorted(c["name"] for c in listed) == ["Live A", "Sandbox A", "Test A"]
    # Production keys may switch test mode off.
    switched = production.post(f"updateConnector/{test['guid']}", {"config": {"testMode": False}})
    assert switched.get_json()["connector"]["config"]["testMode"] is False
    assert sandbox.get(f"getConnector/{test['guid']}").status_code == 404


# Listing and settings ------------------------------------------------------------------------


@pytest.mark.services
def test_list_connectors_bare_or_by_pages(sandbox: Api) -> None:
    merchant = sandbox.merchant()
    names = [f"Connector {n}" for n in range(5)]
    for number, name in enumerate(names):
        sandbox.connector(merchant, network=f"Net {number % 2}", name=name)

    bare = sandbox.get(f"listConnectors/{merchant}").get_json()
    assert bare["success"] is True and "next" not in bare
    assert [c["name"] for c in bare["connectors"]] == names

    seen, after, pages = [], None, 0
    while True:
        query = "limit=2" + (f"&after={after}" if after else "")
        page = sandbox.get(f"listConnectors/{merchant}?{query}").get_json()
        seen += [c["name"] for c in page["connectors"]]
        pages += 1
        after = page["next"]
        if after is None:
            break
    assert (seen, pages) == (names, 3)

    for query, pointer in (("limit=0", "/limit"), ("limit=x", "/limit"), ("after=zz", "/after")):
        response = sandbox.get(f"listConnectors/{merchant}?{query}")
        assert response.status_code == 422
        assert pointer in problems(response)


@pytest.mark.services
def test_connector_settings_describe_the_adapter(sandbox: Api) -> None:
    base = sandbox.get("getConnectorSettings/Simulator").get_json()
    assert base["success"] is True and "vaultConfig" not in base
    names = {prop["name"]: prop for prop in base["baseConfig"]}
    assert names["integrationType"]["enum"] == ["direct", "redirect"]
    assert set(names["allowExpiredCards"]) == {"name", "type", "required", "description"}
    vault = sandbox.get(f"getConnectorSettings/Simulator/{sandbox.merchant()}").get_json()
    three_d = next(prop for prop in vault["vaultConfig"] if prop["name"] == "threeDConfig")
    assert three_d["properties"][1]["items"]["properties"][0]["name"] == "scheme"
    assert sandbox.get("getConnectorSettings/MetaConnector").get_json()["baseConfig"] == []


# Meta-connectors -----------------------------------------------------------------------------


@pytest.mark.services
def test_meta_connectors_are_flows_of_their_integration(app: Flask, sandbox: Api) -> None:
    merchant = sandbox.merchant()
    target = sandbox.connector(merchant)["guid"]
    meta = {"adapter": "MetaConnector", "method": "MetaConnector"}
    router = sandbox.connector(
        merchant,
        name="Router",
        routingMetaConnector={"defaultConnector": target, "reRouteRecurring": True},
        **meta,
    )
    assert router["isMetaConnector"] is True
    assert router["routingMetaConnector"] == {"defaultConnector": target, "reRouteRecurring": True}
    assert router["multiMethodMetaConnector"] is None
    with app.app_context():
        flow = db.session.scalar(select(Flow).where(Flow.meta_kind == "routing"))
        assert flow.default_connection.public_id == target and flow.re_route_recurring

    guid = router["guid"]
    # A block's absent fields keep their values.
    kept = sandbox.post(f"updateConnector/{guid}", {"routingMetaConnector": {}}).get_json()
    assert kept["connector"]["routingMetaConnector"]["defaultConnector"] == target
    switched = sandbox.post(
        f"updateConnector/{guid}",
        {"routingMetaConnector": None, "multiMethodMetaConnector": {"retries": 9, "expiry": 24}},
    ).get_json()["connector"]
    assert switched["routingMetaConnector"] is None
    assert switched["multiMethodMetaConnector"] == {
        "defaultActionDisableConnector": False,
        "retries": 9,
        "expiry": 24,
    }
    # Leaving MetaConnector while the block stays is refused.
    response = sandbox.post(f"updateConnector/{guid}", {"adapter": "Simulator"})
    assert problems(response) == {"/adapter": 1006}
    removed = sandbox.post(f"updateConnector/{guid}", {"multiMethodMetaConnector": None})
    assert removed.get_json()["connector"]["multiMethodMetaConnector"] is None
    with app.app_context():
        assert db.session.scalar(select(Flow).where(Flow.meta_connection_id.is_not(None))) is None


@pytest.mark.services
def test_a_name_the_integration_already_has_is_1002(app: Flask, sandbox: Api) -> None:
    merchant = sandbox.merchant()
    sandbox.connector(merchant, name="Simulator A")
    other = sandbox.connector(merchant, name="Simulator B")["guid"]
    before = len(events(app))
    taken = sandbox.post(
        f"createConnector/{merchant}", seed_connector(network="Visa", name="Simulator A")
    )
    renamed = sandbox.post(f"updateConnector/{other}", {"name": "Simulator A"})
    for response in (taken, renamed):
        assert response.status_code == 422
        assert problems(response) == {"/name": 1002}
    assert len(events(app)) == before
    # Another network is another integration: the name is free there.
    assert sandbox.connector(merchant, network="Amex", name="Simulator A")["network"] == "Amex"
