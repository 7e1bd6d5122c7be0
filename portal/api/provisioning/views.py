"""The provisioning API: createMerchant, createConnector, updateConnector, getConnector,
listConnectors, getConnectorSettings and the OpenAPI document, under /api/provisioning/.

Every endpoint authenticates by API key (Bearer, or Basic with the key as user name), counts
against the key's rate limit, and answers JSON only. POSTs take an `Idempotency-Key`.
Views are thin: read the body with its model, call one service, answer with the response model.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Response, g

from portal.api import auth
from portal.api.blueprint import api_blueprint
from portal.api.body import read_json, read_query
from portal.api.domain import from_domain_error
from portal.api.errors import ApiError, api_error_response
from portal.api.idempotency import idempotent
from portal.api.provisioning import openapi
from portal.api.provisioning.serialize import as_json, connector_out, merchant_out, settings_out
from portal.extensions import db
from portal.schemas.provisioning import (
    ConnectorListResponse,
    ConnectorResponse,
    ConnectorSettingsResponse,
    ConnectorUpdate,
    ListQuery,
    MerchantInput,
    MerchantResponse,
    NewConnectorInput,
    decode_cursor,
    encode_cursor,
)
from portal.services import provisioning
from portal.services.errors import DomainError
from portal.services.provisioning import KeyScope
from portal.web.actor import client_ip
from portal.web.registry import secret_box

F = TypeVar("F", bound=Callable)

bp = api_blueprint("provisioning", __name__, "/api/provisioning")


def answers_errors(view: F) -> F:
    """Answer a refused request with seed 002's envelope; nothing of it is saved."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except ApiError as error:
            db.session.rollback()
            return api_error_response(error)
        except DomainError as error:
            db.session.rollback()
            return api_error_response(from_domain_error(error))

    return wrapper  # type: ignore[return-value]


def reads(view: F) -> F:
    """Make a view a GET endpoint of the API: key, rate limit, JSON errors."""
    return auth.api_key_required(answers_errors(view))


def writes(view: F) -> F:
    """Make a view a POST endpoint of the API: key, rate limit, Idempotency-Key, JSON errors."""
    return auth.api_key_required(idempotent(answers_errors(view)))


def scope() -> KeyScope:
    """Return what the request's API key may see and do."""
    key = g.api_key
    return KeyScope(
        api_key_id=key.id, prefix=key.prefix, company_id=key.company_id, environment=key.environment
    )


def answer(body: str, status: int = 200) -> Response:
    """Return a JSON answer."""
    return Response(body, status, mimetype="application/json")


@bp.post("/createMerchant")
@writes
def create_merchant():
    """Create a merchant (a customer of the key's company)."""
    data = read_json(MerchantInput)
    key_scope = scope()
    customer = provisioning.create_merchant(key_scope.actor(client_ip()), key_scope, data)
    return answer(as_json(MerchantResponse(success=True, merchant=merchant_out(customer))))


def connector_answer(record, box, shown_shared_secret: str | None = None) -> Response:
    """Answer one connector; a shared secret appears only when it was just generated."""
    connector = connector_out(record, box, shown_shared_secret)
    return answer(as_json(ConnectorResponse(success=True, connector=connector)))


def save_connector(guid: str, find: Callable, model: type, save: Callable) -> Response:
    """Check the guid is the key's, read the body with its model, save it, answer the connector.

    The lookup comes first so that an unknown guid answers 404 before the body is validated.
    """
    key_scope = scope()
    find(key_scope, guid)
    data = read_json(model)
    box = secret_box()
    result = save(key_scope.actor(client_ip()), key_scope, guid, data, box)
    return connector_answer(result.record, box, result.shown_shared_secret)


@bp.post("/createConnector/<merchant_guid>")
@writes
def create_connector(merchant_guid: str):
    """Create a connector in the merchant's integration for the body's network."""
    return save_connector(
        merchant_guid, provisioning.get_merchant, NewConnectorInput, provisioning.create_connector
    )


@bp.post("/updateConnector/<connector_guid>")
@writes
def update_connector(connector_guid: str):
    """Change the fields the body sends; absent fields keep their values."""
    return save_connector(
        connector_guid, provisioning.get_connector, ConnectorUpdate, provisioning.update_connector
    )


@bp.get("/getConnector/<connector_guid>")
@reads
def get_connector(connector_guid: str):
    """Answer one connector."""
    return connector_answer(provisioning.get_connector(scope(), connector_guid), secret_box())


@bp.get("/listConnectors/<merchant_guid>")
@reads
def list_connectors(merchant_guid: str):
    """Answer the merchant's connectors: all of them bare, a page with limit and after."""
    key_scope = scope()
    provisioning.get_merchant(key_scope, merchant_guid)
    query = read_query(ListQuery)
    page = provisioning.list_connectors(
        key_scope,
        merchant_guid,
        limit=query.limit,
        after=decode_cursor(query.after) if query.after else None,
    )
    box = secret_box()
    body = ConnectorListResponse(
        success=True, connectors=[connector_out(row, box) for row in page.connectors]
    )
    if query.limit is not None or query.after is not None:
        body.next = encode_cursor(page.next_after) if page.next_after is not None else None
    return answer(as_json(body))


@bp.get("/getConnectorSettings/<adapter_id>")
@reads
def get_connector_settings(adapter_id: str):
    """Answer the configuration an adapter takes in `config.extraData`."""
    adapter = provisioning.adapter_settings(scope(), adapter_id)
    body = ConnectorSettingsResponse(success=True, base_config=settings_out(adapter.base_config))
    return answer(as_json(body))


@bp.get("/getConnectorSettings/<adapter_id>/<merchant_guid>")
@reads
def get_vault_connector_settings(adapter_id: str, merchant_guid: str):
    """Answer an adapter's base configuration and its vault configuration for a merchant."""
    adapter = provisioning.adapter_settings(scope(), adapter_id, merchant_guid)
    body = ConnectorSettingsResponse(
        success=True,
        base_config=settings_out(adapter.base_config),
        vault_config=settings_out(adapter.vault_config),
    )
    return answer(as_json(body))


@bp.get("/openapi.json")
@reads
def openapi_document():
    """Answer the OpenAPI 3.1 document of this API."""
    return answer(openapi.document_json())
