"""The OpenAPI 3.1 document of the provisioning API, generated from the models that validate it.

Request bodies and answers are the JSON schemas pydantic generates from
``portal.schemas.provisioning`` (the classes the views read and write), so the reference cannot
promise what the API refuses. The paths, parameters and prose are stated here once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from portal.schemas.adapters import ADAPTER_IDS
from portal.schemas.connect import MAPPING_ENTRIES_MAX
from portal.schemas.provisioning import (
    PAGE_LIMIT_MAX,
    ConnectorListResponse,
    ConnectorResponse,
    ConnectorSettingsResponse,
    ConnectorUpdate,
    ErrorResponse,
    MerchantInput,
    MerchantResponse,
    NewConnectorInput,
    RateLimitedResponse,
)

PREFIX = "/api/provisioning"
GUID_PATTERN = r"^{prefix}-[0-9]{{4}}(-[0-9]{{4}}){{5}}$"

ERROR_CODES = (
    (401, 1000, "Missing, malformed or unknown API key (always the same body)."),
    (422, 1001, "Body not JSON, not an object, or a field of the wrong type."),
    (
        422,
        1002,
        "A value outside its predefined values or range (transaction types, "
        "postbackFormat, adapter, retries), or a name already taken.",
    ),
    (422, 1003, "A format is invalid: country, language, currency, lengths, e-mail, URL."),
    (422, 1004, "A value contains invalid characters (control characters, NUL)."),
    (422, 1005, "Mandatory parameters are missing."),
    (
        422,
        1006,
        "Not applicable here: both meta-connector kinds, a meta-connector block on a "
        "non-MetaConnector adapter, config.testMode false with a Sandbox key, an unknown field, "
        "an extraData key the adapter does not take, an Idempotency-Key reused with another "
        "request (409 while its first request still runs).",
    ),
    (
        404,
        1007,
        "The merchant, connector or adapter in the path does not exist in the key's "
        "scope (422 when it is named in the body, e.g. defaultConnector).",
    ),
    (500, 9999, "Anything unexpected; the body carries a requestId to quote to support."),
)

DESCRIPTION = (
    f"""\
Merchants and connectors of the Integrations Portal over JSON, after IXOPAY's provisioning API
(seed 002). A merchant is a Connect customer (`ME-…`), a connector a connection (`CO-…`) of
one of its integrations (one per network); the API key's company is the tenant.

**Authentication**: `Authorization: Bearer <key>`, or `Basic base64(<key>:<anything>)` as
clients written for the vendor send it (the password part is ignored). A Sandbox key creates,
updates and reads test-mode connectors only (`config.testMode` true); a Production key all.
Anything outside the key's company or environment answers 1007, exactly like an unknown guid.

**Updates** (`updateConnector`): a field that is absent keeps its stored value, so an update
changes only what it sends; a client that sends the whole object replaces it. `name`,
`adapter` and `method` must be valid when sent. Secrets: absent or empty keeps the stored one
(for `sharedSecret`, empty generates a new one, answered whole once); a secret sent back exactly
as the API masked it keeps the stored one too. `settings`, when sent, replaces the map; then
`removeSettings` removes keys (an array of names, or an object whose keys are removed); then
`addSettings` (an object) merges its keys in. At most {MAPPING_ENTRIES_MAX} settings. Inside a
meta-connector block, absent fields keep their values too; `null` for a block removes it.

**Answers**: passwords, API secrets, the connector API key and the shared secret come back
masked (`...4O6G`), except a shared secret the request generated, which is returned whole in
that one answer. `config.extraData` is always an object (the vendor sometimes answers `[]`).

**Errors**: `{{"success": false, "errorCode": N, "errorMessage": "field: what is wrong",
"errors": [{{"errorCode": N, "pointer": "/config/language", "message": "…"}}]}}` lists every
problem found, each with a JSON pointer (RFC 6901; for listConnectors' query, `/limit` and
`/after`). Branch on `errorCode`, never on the message.

| HTTP | errorCode | when |
|---|---|---|
"""
    + "\n".join(f"| {status} | {code} | {text} |" for status, code, text in ERROR_CODES)
    + """
| 429 | (none) | The key's rate limit; `Retry-After` says when to retry. |

**Idempotency**: send `Idempotency-Key` (1 to 255 visible ASCII characters) on a POST. The same
key and request within 24 hours replays the first successful answer (status and body, with
`Idempotent-Replayed: true`); the same key with another request is 1006; a second request
while the first still runs waits for its answer. A refused request gives the key back.

**Rate limit**: per API key over every endpoint (default 50 requests per second). Every
answer carries `RateLimit-Limit`; a 429 adds `RateLimit-Remaining: 0`, `RateLimit-Reset` and
`Retry-After` (seconds).
"""
)


@dataclass(frozen=True)
class Operation:
    """One endpoint of the API as the document describes it."""

    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    response: type[BaseModel]
    body: type[BaseModel] | None = None
    path_parameters: tuple[str, ...] = ()
    query: bool = False


OPERATIONS = (
    Operation(
        "post",
        "/createMerchant",
        "createMerchant",
        "Create a merchant",
        "Creates a customer of the API key's company. `timezone` defaults to UTC.",
        MerchantResponse,
        body=MerchantInput,
    ),
    Operation(
        "post",
        "/createConnector/{merchantGuid}",
        "createConnector",
        "Create a connector",
        "Creates a connection in the merchant's integration for `network` (created in type "
        "Design when the merchant has none for that network). `sharedSecret` is generated when "
        "empty or absent and answered whole this once. A Sandbox key's connector is in test "
        "mode (`config.testMode` defaults to true; false is 1006). `config.extraData` and "
        "`config.vault` are checked against getConnectorSettings.",
        ConnectorResponse,
        body=NewConnectorInput,
        path_parameters=("merchantGuid",),
    ),
    Operation(
        "post",
        "/updateConnector/{connectorGuid}",
        "updateConnector",
        "Update a connector",
        "Changes the fields the body sends and nothing else (see Updates above). Concurrent "
        "updates of one connector are applied one after the other; none is lost.",
        ConnectorResponse,
        body=ConnectorUpdate,
        path_parameters=("connectorGuid",),
    ),
    Operation(
        "get",
        "/getConnector/{connectorGuid}",
        "getConnector",
        "Get a connector",
        "Answers one connector, secrets masked.",
        ConnectorResponse,
        path_parameters=("connectorGuid",),
    ),
    Operation(
        "get",
        "/listConnectors/{merchantGuid}",
        "listConnectors",
        "List a merchant's connectors",
        "Called bare, answers all of them (as the vendor does). With `limit` (and `after`, the "
        "`next` of the previous page) it answers a page in creation order and adds `next` "
        "(null on the last page).",
        ConnectorListResponse,
        path_parameters=("merchantGuid",),
        query=True,
    ),
    Operation(
        "get",
        "/getConnectorSettings/{adapterId}",
        "getConnectorSettings",
        "Get an adapter's settings",
        "Lists the values an adapter takes in `config.extraData`.",
        ConnectorSettingsResponse,
        path_parameters=("adapterId",),
    ),
    Operation(
        "get",
        "/getConnectorSettings/{adapterId}/{merchantGuid}",
        "getVaultConnectorSettings",
        "Get an adapter's settings for a merchant",
        "Lists the values an adapter takes in `config.extraData` (`baseConfig`) and in "
        "`config.vault` (`vaultConfig`).",
        ConnectorSettingsResponse,
        path_parameters=("adapterId", "merchantGuid"),
    ),
)

PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "merchantGuid": {
        "description": "Identifier of the merchant.",
        "schema": {"type": "string", "pattern": GUID_PATTERN.format(prefix="ME")},
    },
    "connectorGuid": {
        "description": "Identifier of the connector.",
        "schema": {"type": "string", "pattern": GUID_PATTERN.format(prefix="CO")},
    },
    "adapterId": {
        "description": "Adapter identifier (the adapter registry's).",
        "schema": {"type": "string", "enum": list(ADAPTER_IDS)},
    },
}

QUERY_PARAMETERS = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "Page size; without it every connector is answered.",
        "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_LIMIT_MAX},
    },
    {
        "name": "after",
        "in": "query",
        "required": False,
        "description": "The `next` of the previous page.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
    },
]

IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Replays the first successful answer of the same request for 24 hours.",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
}

RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {
        "description": "Requests allowed per window.",
        "schema": {"type": "integer"},
    }
}
REFUSAL_HEADERS = {
    name: {"description": text, "schema": {"type": "integer"}}
    for name, text in (
        ("Retry-After", "Seconds to wait before retrying."),
        ("RateLimit-Limit", "Requests allowed per window."),
        ("RateLimit-Remaining", "Requests left in this window (0)."),
        ("RateLimit-Reset", "Seconds until the window resets."),
    )
}


def _json(schema_name: str) -> dict[str, Any]:
    """Return a JSON content entry referring to a component schema."""
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _error(description: str) -> dict[str, Any]:
    """Return an error response entry."""
    return {"description": description, "content": _json("ErrorResponse")}


def _operation(op: Operation) -> dict[str, Any]:
    """Return the OpenAPI operation object of an endpoint."""
    responses: dict[str, Any] = {
        "200": {
            "description": "Success.",
            "headers": RATE_LIMIT_HEADERS,
            "content": _json(op.response.__name__),
        },
        "401": _error("Unauthorized (1000)."),
        "422": _error("Unprocessable entity (1001-1007)."),
        "429": {
            "description": "The API key's rate limit.",
            "headers": REFUSAL_HEADERS,
            "content": _json("RateLimitedResponse"),
        },
        "500": _error("Internal server error (9999)."),
    }
    if op.path_parameters:
        responses["404"] = _error("The entity in the path does not exist in scope (1007).")
    parameters = [
        {"name": name, "in": "path", "required": True, **PATH_PARAMETERS[name]}
        for name in op.path_parameters
    ]
    if op.query:
        parameters += QUERY_PARAMETERS
    operation: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "description": op.description,
        "parameters": parameters,
        "responses": responses,
    }
    if op.body is not None:
        parameters.append(IDEMPOTENCY_PARAMETER)
        responses["409"] = _error("A request with this Idempotency-Key is still running (1006).")
        responses["413"] = _error("The body is larger than the API takes (1001).")
        operation["requestBody"] = {"required": True, "content": _json(op.body.__name__)}
    return operation


@cache
def document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document (built once per process)."""
    models: list[tuple[type[BaseModel], str]] = [
        (op.body, "validation") for op in OPERATIONS if op.body is not None
    ]
    models += [(op.response, "serialization") for op in OPERATIONS]
    models += [(ErrorResponse, "serialization"), (RateLimitedResponse, "serialization")]
    _, schemas = models_json_schema(
        list(dict.fromkeys(models)), ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(PREFIX + op.path, {})[op.method] = _operation(op)
    paths[PREFIX + "/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "401": _error("Unauthorized (1000)."),
                "429": {
                    "description": "The API key's rate limit.",
                    "content": _json("RateLimitedResponse"),
                },
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Integrations Portal provisioning API",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"basicAuth": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "basicAuth": {"type": "http", "scheme": "basic"},
            },
        },
    }


@cache
def document_json() -> str:
    """Return the document as JSON text."""
    return json.dumps(document(), separators=(",", ":"))
