"""``/api/v1/transactions``: copies of the merchants' processed payments, for FlexCharge.

A key sees only the merchants of its company; its environment decides where FlexCharge calls
may go (a Sandbox key never reaches production). Errors use seed 002's envelope and codes.
"""

from __future__ import annotations

from flask import g, jsonify

from portal.api import auth
from portal.api.body import read_json
from portal.api.errors import NOT_FOUND, ApiError, Problem
from portal.api.views import bp
from portal.jobs import job_queue
from portal.schemas.transactions import TransactionInput
from portal.services import transactions
from portal.web.registry import flexcharge

POINTERS = {"merchant": "/merchant", "site_url": "/siteUrl", "descriptor": "/descriptor"}


def _not_found(error: transactions.UnknownMerchant | transactions.UnknownSite) -> ApiError:
    """Return the 1007 refusal of a merchant or site the key cannot see."""
    pointer = POINTERS.get(error.field or "", "")
    message = f"{pointer.lstrip('/')}: {error.message}"
    return ApiError(422, NOT_FOUND, message, [Problem(NOT_FOUND, pointer, message)])


@bp.post("/transactions")
@auth.api_key_required
def create_transaction():
    """Record a processed payment and forward it to FlexCharge as the merchant's settings say."""
    data = read_json(TransactionInput)
    try:
        recorded = transactions.record_transaction(
            g.api_key.company_id,
            g.api_key.environment,
            data,
            flexcharge(),
            job_queue().enqueue_delivery,
        )
    except (transactions.UnknownMerchant, transactions.UnknownSite) as error:
        raise _not_found(error) from None
    return jsonify(success=True, transaction=recorded.answer), 201 if recorded.created else 200


@bp.get("/transactions/<int:transaction_id>")
@auth.api_key_required
def transaction_status(transaction_id: int):
    """Describe where a transaction stands now (delivery, evaluation, webhook status)."""
    found = transactions.get_for_company(g.api_key.company_id, transaction_id)
    if found is None:
        raise ApiError(404, NOT_FOUND, "No transaction with this id for this API key's company.")
    return jsonify(success=True, transaction=transactions.answer_of(found))
