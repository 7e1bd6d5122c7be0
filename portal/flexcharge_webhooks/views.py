"""``POST /api/flexcharge/webhooks/<merchant ME-id>``: FlexCharge's order events.

The request proves itself with its ``x-fc-authorization`` HMAC signature (reference A.7), made
with the merchant's webhook signing key: it needs no session and no API key, and a request
without a valid signature gets a JSON 401 like every API.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from portal.api.errors import INVALID_REQUEST, UNAUTHORIZED, ApiError
from portal.extensions import csrf
from portal.services import flexcharge_webhooks as webhooks
from portal.services.actor import Actor
from portal.web.access import authenticates_itself
from portal.web.registry import secret_box

bp = Blueprint("flexcharge_webhooks", __name__, url_prefix="/api/flexcharge/webhooks")
# FlexCharge cannot hold a CSRF token; the signature is what authenticates the request.
csrf.exempt(bp)

HEADERS = ("x-fc-nonce", "x-fc-date", "x-fc-content-sha512", "x-fc-authorization")


@bp.post("/<customer_id>")
@authenticates_itself
def receive(customer_id: str):
    """Verify a FlexCharge webhook's signature and apply its order event."""
    if (request.content_length or 0) > webhooks.MAX_BODY:
        raise ApiError(413, INVALID_REQUEST, "body: the webhook is too large")
    body = request.get_data(cache=False)[: webhooks.MAX_BODY + 1]
    if len(body) > webhooks.MAX_BODY:
        raise ApiError(413, INVALID_REQUEST, "body: the webhook is too large")
    headers = {name: request.headers.get(name, "") for name in HEADERS}
    actor = Actor(user=None, ip=request.remote_addr, label_override="FlexCharge webhook")
    try:
        result = webhooks.receive(actor, customer_id, body, headers, request.host, secret_box())
    except webhooks.WebhookRefused as error:
        raise ApiError(401, UNAUTHORIZED, error.message) from None
    except webhooks.WebhookInvalid as error:
        raise ApiError(400, INVALID_REQUEST, f"body: {error.message}") from None
    response = jsonify(
        success=True, event=result.event, applied=result.applied, detail=result.detail
    )
    response.headers["Cache-Control"] = "no-store"
    return response
