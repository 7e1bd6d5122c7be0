"""The body of ``POST /api/v1/transactions``: a copy of one processed payment of a merchant.

Names are camelCase on the wire (``orderId``, ``siteUrl``, ``customerIp``, ``timestampUtc``,
``expMonth``...), as in the provisioning API; errors carry seed 002's codes with a pointer each.
Rules the issue states: amounts in minor units, above zero; ISO 4217 currencies; ``channel`` and
``customerIp`` required for CIT; ``siteUrl`` or ``descriptor``; the card's ``number`` (Luhn)
and ``cvv`` only on a decline, where the number is required. The number and the CVV are
``SecretStr``: no repr, log line or error message shows them.

Limits chosen here: order and transaction ids 1..100 characters, amount at most
99,999,999,999 minor units, descriptor 1..100, site URL 1..255, BIN 6..8 digits, card numbers
12..19 digits, CVV 3..4 digits, expiry year 2000..2100.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from iso4217 import Currency
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from portal.core.public_ids import CUSTOMER_PREFIX, is_public_id
from portal.schemas.base import (
    OPTIONAL,
    REQUIRED,
    SINGLE_LINE,
    InputModel,
    bounded,
    count_between,
    explained,
    matching,
)

ID_MAX = 100
AMOUNT_MAX = 99_999_999_999
DESCRIPTOR_MAX = 100
SITE_URL_MAX = 255


def currency_exponent(code: str) -> int | None:
    """Return the number of minor-unit digits of an ISO 4217 code (None if it has none)."""
    try:
        return Currency(code).exponent
    except ValueError:
        return None


def _currency(value: str) -> str:
    """Refuse a code that is not an ISO 4217 currency with minor units."""
    if currency_exponent(value) is None:
        raise explained("literal_error", f"Unknown currency code {value} (ISO 4217).")
    return value


def _merchant(value: str) -> str:
    """Refuse anything but a merchant's public id."""
    if not is_public_id(value, CUSTOMER_PREFIX):
        raise explained(
            "string_pattern_mismatch",
            f"Merchant must be a customer id like {CUSTOMER_PREFIX}-1234-1234-1234-1234-1234-1234.",
        )
    return value


def _ip(value: str) -> str:
    """Refuse text that is not an IPv4 or IPv6 address."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise explained(
            "string_pattern_mismatch", "Customer IP must be an IPv4 or IPv6 address."
        ) from None


def _optional_ip(value: str | None) -> str | None:
    """Check an IP address when one is given."""
    return _ip(value) if value else value


def _email(value: str) -> str:
    """Refuse text that is not an e-mail address (no network look-up)."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise explained("string_pattern_mismatch", "E-mail must be an e-mail address.") from None


def _timestamp(value: Any) -> datetime:
    """Read an ISO 8601 time with its offset; naive times are refused (which zone?)."""
    message = "timestampUtc must be an ISO 8601 time with its offset, e.g. 2026-05-01T12:30:00Z."
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = None
    elif isinstance(value, str):
        moment = None
    else:
        # Not a string at all: a value of the wrong JSON type (1001).
        raise explained("datetime_type", message)
    if moment is None or moment.tzinfo is None:
        # A string in the wrong format, a naive time among them (which zone?): 1003.
        raise explained("string_pattern_mismatch", message)
    if not 2000 <= moment.year <= 2100:
        raise explained("less_than_equal", "timestampUtc must be between 2000 and 2100.")
    return moment.astimezone(UTC)


def luhn_valid(number: str) -> bool:
    """Tell whether a digit string passes the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _card_number(value: SecretStr | None) -> SecretStr | None:
    """Refuse a card number that is not 12 to 19 digits or fails the Luhn check."""
    if value is None:
        return None
    number = value.get_secret_value()
    if not (number.isascii() and number.isdigit() and 12 <= len(number) <= 19):
        raise explained("string_pattern_mismatch", "The card number must be 12 to 19 digits.")
    if not luhn_valid(number):
        raise explained("string_pattern_mismatch", "The card number fails the Luhn check.")
    return value


def _cvv(value: SecretStr | None) -> SecretStr | None:
    """Refuse a CVV that is not 3 or 4 digits."""
    if value is None:
        return None
    cvv = value.get_secret_value()
    if not (cvv.isascii() and cvv.isdigit() and len(cvv) in (3, 4)):
        raise explained("string_pattern_mismatch", "The CVV must be 3 or 4 digits.")
    return value


def _secret_text(value: Any) -> Any:
    """Strip a secret's spaces; blank is absent."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        # A number sent as a JSON number is refused as such, without echoing it.
        raise explained("string_type", "Send it as a string of digits.")
    return value


Text = Annotated[str, bounded(ID_MAX), SINGLE_LINE, REQUIRED]


def optional_text(max_length: int) -> Any:
    """Return the type of optional one-line text of at most max_length characters."""
    return Annotated[str | None, bounded(max_length), SINGLE_LINE, OPTIONAL]


class TransactionDetails(InputModel):
    """The payment as the processor answered it."""

    id: Text
    amount: count_between(1, AMOUNT_MAX, "Amount")
    currency: Annotated[str, matching(r"^[A-Z]{3}$"), REQUIRED, AfterValidator(_currency)]
    status: Literal["approved", "declined"]
    response_code: optional_text(50) = None
    response_description: optional_text(255) = None
    processor_name: optional_text(100) = None
    timestamp_utc: Annotated[datetime, BeforeValidator(_timestamp)]


class Payer(InputModel):
    """Who paid."""

    email: Annotated[str, bounded(254), SINGLE_LINE, REQUIRED, AfterValidator(_email)]
    phone: optional_text(30) = None


class BillingAddress(InputModel):
    """The billing address (optional; FlexCharge uses it for risk)."""

    first_name: optional_text(100) = None
    last_name: optional_text(100) = None
    address_line1: optional_text(200) = None
    address_line2: optional_text(200) = None
    city: optional_text(100) = None
    state: optional_text(100) = None
    zipcode: optional_text(20) = None
    country: Annotated[str | None, matching(r"^[A-Z]{2}$"), OPTIONAL] = None


class CardInput(InputModel):
    """The card: brand, BIN, last four, expiry, holder; number and CVV on a decline only."""

    # A refused body never echoes what was sent (the number, the CVV) in an error's text.
    model_config = ConfigDict(hide_input_in_errors=True)

    brand: Annotated[str, bounded(30), SINGLE_LINE, REQUIRED]
    bin: Annotated[str, matching(r"^[0-9]{6,8}$"), REQUIRED]
    last4: Annotated[str, matching(r"^[0-9]{4}$"), REQUIRED]
    exp_month: count_between(1, 12, "expMonth")
    exp_year: count_between(2000, 2100, "expYear")
    holder_name: optional_text(100) = None
    number: Annotated[
        SecretStr | None, BeforeValidator(_secret_text), AfterValidator(_card_number)
    ] = None
    cvv: Annotated[SecretStr | None, BeforeValidator(_secret_text), AfterValidator(_cvv)] = None


def _rules(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the errors of the rules that tie fields together (CIT, site, card on decline)."""
    errors: list[dict[str, Any]] = []

    def add(kind: str, loc: tuple, message: str) -> None:
        """Record one error at a location."""
        errors.append(
            {
                "type": PydanticCustomError(kind, message, {"explained": True}),
                "loc": loc,
                "input": None,
            }
        )

    def given(mapping: Any, *names: str) -> bool:
        """Tell whether any of the names has a value in the mapping."""
        return isinstance(mapping, dict) and any(
            mapping.get(name) not in (None, "") for name in names
        )

    if data.get("initiator") == "CIT":
        if not given(data, "channel"):
            add("missing", ("channel",), "Required for CIT: website or call_center.")
        if not given(data, "customerIp", "customer_ip"):
            add("missing", ("customer_ip",), "Required for CIT: the IP captured at checkout.")
    if not given(data, "siteUrl", "site_url", "descriptor"):
        add("missing", ("site_url",), "Send the siteUrl, or the descriptor without a URL.")
    transaction, card = data.get("transaction"), data.get("card")
    status = transaction.get("status") if isinstance(transaction, dict) else None
    if isinstance(card, dict):
        if status == "declined" and not given(card, "number"):
            add("missing", ("card", "number"), "Required on a decline, to evaluate the card.")
        if status == "approved":
            for name in ("number", "cvv"):
                if given(card, name):
                    add(
                        "extra_forbidden",
                        ("card", name),
                        "Only sent on a decline (to tokenize the card); leave it out.",
                    )
    return errors


def _as_line_error(error: dict[str, Any]) -> dict[str, Any]:
    """Turn a reported validation error back into one that can be raised again."""
    context = error.get("ctx") or {}
    return {
        "type": PydanticCustomError(
            error["type"], error["msg"].replace("{", "(").replace("}", ")"), context
        ),
        "loc": error["loc"],
        "input": None,
    }


class TransactionInput(InputModel):
    """One processed payment of a merchant, approved or declined."""

    model_config = ConfigDict(hide_input_in_errors=True)

    merchant: Annotated[str, bounded(32), REQUIRED, AfterValidator(_merchant)]
    order_id: Text
    transaction: TransactionDetails
    initiator: Literal["CIT", "MIT"]
    channel: Literal["website", "call_center"] | None = None
    site_url: Annotated[str | None, bounded(SITE_URL_MAX), SINGLE_LINE, OPTIONAL] = None
    descriptor: optional_text(DESCRIPTOR_MAX) = None
    customer_ip: Annotated[str | None, bounded(45), OPTIONAL, AfterValidator(_optional_ip)] = None
    payer: Payer
    billing: BillingAddress | None = None
    card: CardInput

    @model_validator(mode="wrap")
    @classmethod
    def _tied_fields(cls, data: Any, handler):
        """Add the cross-field rules' errors to the fields' own, so all come back at once."""
        extra = _rules(data) if isinstance(data, dict) else []
        try:
            model = handler(data)
        except ValidationError as exc:
            if not extra:
                raise
            reported = {tuple(error["loc"]) for error in exc.errors()}
            line_errors = [_as_line_error(error) for error in exc.errors()]
            line_errors += [error for error in extra if error["loc"] not in reported]
            raise ValidationError.from_exception_data(cls.__name__, line_errors) from None
        if extra:
            raise ValidationError.from_exception_data(cls.__name__, extra)
        if model.card.number is not None:
            number = model.card.number.get_secret_value()
            if not number.startswith(model.card.bin) or not number.endswith(model.card.last4):
                raise ValidationError.from_exception_data(
                    cls.__name__,
                    [
                        {
                            "type": PydanticCustomError(
                                "literal_error",
                                "bin and last4 must be the start and end of the card number.",
                                {"explained": True},
                            ),
                            "loc": ("card", "bin"),
                            "input": None,
                        }
                    ],
                )
        return model
