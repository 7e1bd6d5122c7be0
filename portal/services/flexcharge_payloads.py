"""The bodies of /transmit and /evaluate, built from a stored transaction (reference A.3, A.5).

Field names are FlexCharge's. What the portal fills in where the client sends nothing:
``cardNotPresent`` true, and "NA" for the AVS, CVV and CAVV result codes (reference A.5 asks for
"NA" when unknown). The call-center channel is marked in ``orderSource`` as "call_center" and
the website channel as "ecommerce"; that FlexCharge reads ``orderSource`` for it is an inference
(reference A.10: no documented field), written down in the README.
"""

from __future__ import annotations

from typing import Any

from portal.models import FlexChargeCredentials, Transaction

ORDER_SOURCES = {"website": "ecommerce", "call_center": "call_center"}


def site_fields(transaction: Transaction, credentials: FlexChargeCredentials) -> dict[str, Any]:
    """Return siteId / siteUrl: the site's own Site ID first, else the credentials' one."""
    fields: dict[str, Any] = {}
    site = transaction.site
    site_id = (site.site_id if site else None) or credentials.site_id
    if site_id:
        fields["siteId"] = site_id
    site_url = transaction.site_url or (site.url if site else None)
    if site_url:
        fields["siteUrl"] = site_url
    return fields


def descriptor_of(transaction: Transaction) -> str | None:
    """Return the descriptor: the site's, else the one the client sent."""
    return transaction.site.descriptor if transaction.site else transaction.descriptor


def transmit_body(transaction: Transaction, credentials: FlexChargeCredentials) -> dict[str, Any]:
    """Return the /transmit body of a transaction: a copy, approved or declined."""
    declined = transaction.status == "declined"
    is_mit = transaction.initiator == "MIT"
    details: dict[str, Any] = {
        "id": transaction.external_id,
        "timestampUtc": transaction.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezoneUtcOffset": 0,
        "transactionType": "PURCHASE",
        "amount": transaction.amount,
        "currency": transaction.currency,
        "responseCode": transaction.response_code or ("05" if declined else "00"),
        "responseDescription": transaction.response_description,
        "responseStatus": "DECLINED" if declined else "APPROVED",
        "responseCodeSource": transaction.processor_name or "NA",
        "processorName": transaction.processor_name,
        "avsResultCode": "NA",
        "cvvResultCode": "NA",
        "cavvResultCode": "NA",
        "cardNotPresent": True,
    }
    descriptor = descriptor_of(transaction)
    if descriptor:
        details["dynamicDescriptor"] = descriptor
    body: dict[str, Any] = {
        "mid": credentials.mid,
        "orderId": transaction.order_id,
        "isDeclined": declined,
        "isMIT": is_mit,
        "transaction": {k: v for k, v in details.items() if v is not None},
        "payer": {k: v for k, v in (transaction.payer or {}).items() if v},
        "paymentMethod": _payment_method(transaction),
        **site_fields(transaction, credentials),
    }
    if is_mit:
        body["isRecurring"] = True
    elif transaction.channel in ORDER_SOURCES:
        body["orderSource"] = ORDER_SOURCES[transaction.channel]
    if transaction.billing:
        body["billingInformation"] = _billing(transaction.billing)
    return body


def evaluate_body(
    transaction: Transaction,
    credentials: FlexChargeCredentials,
    payment_token: str,
) -> dict[str, Any]:
    """Return the /evaluate body of a decline: the transmit copy with the token and the key."""
    body = transmit_body(transaction, credentials)
    body["isDeclined"] = True
    body["idempotencyKey"] = transaction.idempotency_key
    # The token stands where the card number would (reference A.4: AM and SC do so).
    body["paymentMethod"] = {**body["paymentMethod"], "Token": True, "cardNumber": payment_token}
    if transaction.initiator == "CIT" and transaction.customer_ip:
        body["customerIp"] = transaction.customer_ip
    return body


def _payment_method(transaction: Transaction) -> dict[str, Any]:
    """Return the last-four form of the card (reference A.3: no card number)."""
    method = {
        "holderName": transaction.card_holder,
        "cardBrand": transaction.card_brand,
        "cardBinNumber": transaction.card_bin,
        "cardLast4Digits": transaction.card_last4,
        "expirationMonth": transaction.card_exp_month,
        "expirationYear": transaction.card_exp_year,
    }
    return {name: value for name, value in method.items() if value is not None}


def _billing(billing: dict[str, Any]) -> dict[str, Any]:
    """Return the billing address in FlexCharge's names."""
    names = {
        "first_name": "firstName",
        "last_name": "lastName",
        "address_line1": "addressLine1",
        "address_line2": "addressLine2",
        "city": "city",
        "state": "state",
        "zipcode": "zipcode",
        "country": "countryCode",
    }
    return {names[key]: value for key, value in billing.items() if key in names and value}
