"""Serve a FlexCharge-like API over real HTTP, modelled on the sandbox (reference A.12).

One server answers for both environments under ``/sandbox/v1`` and ``/production/v1`` so tests
can point both base URLs at it and still tell which environment a call reached. Switches make
it refuse connections, answer slowly, or answer a given status to the next calls of a path.
It also signs webhooks the way the vendor's sample validates them (reference A.7).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

#: Upper bound of a "slow" answer, so a forgotten stop() never hangs a run.
SLOW_SECONDS = 3.0
TOKEN_SECONDS = 600
#: Sandbox test cards (reference A.12).
APPROVING_CARD = "4000002760003184"
CHALLENGE_CARD = "4111111111111111"
DECLINED_CARD = "4000300011112220"
ENVIRONMENTS = ("sandbox", "production")
#: A forced "status" that answers 200 with a body that is not JSON.
GARBLED = 0


@dataclass(frozen=True)
class Call:
    """One request the fake answered: environment, endpoint, JSON body, and its status."""

    environment: str
    path: str
    body: Any
    status: int
    bearer: bool
    query: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Card:
    """What the fake remembers of a tokenized card (the real FlexCharge vaults it)."""

    number: str
    has_cvv: bool


def luhn_valid(number: str) -> bool:
    """Tell whether a digit string passes the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return number.isdigit() and total % 10 == 0


class _Server(ThreadingHTTPServer):
    """Carry the fake to its request handlers."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: FakeFlexCharge, port: int) -> None:
        """Listen on 127.0.0.1 at the port (0: a free one)."""
        self.owner = owner
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    """Answer FlexCharge's endpoints."""

    server: _Server
    # HTTP/1.0: one request per connection, so refusing connections takes effect at once.
    timeout = 5

    def do_POST(self) -> None:
        """Route a POST to the endpoint it names."""
        owner = self.server.owner
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        environment, _, endpoint = parts.path.strip("/").partition("/v1/")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        query = parse_qs(parts.query)
        status, answer = owner._answer(environment, "/" + endpoint, body, token, query)
        owner._record(
            Call(environment, "/" + endpoint, _redacted(body), status, bool(token), query)
        )
        delay = owner._delay_for("/" + endpoint)
        if delay:
            owner._stopping.wait(delay)
        self._reply(status, answer)

    def _reply(self, status: int, answer: Any) -> None:
        """Send a JSON answer, tolerating a client that already gave up."""
        payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


def _redacted(body: Any) -> Any:
    """Return the body as recorded: a card's number and CVV never enter the call log."""
    if isinstance(body, dict) and isinstance(body.get("payment_method"), dict):
        card = dict(body["payment_method"].get("credit_card") or {})
        if "number" in card:
            card["number"] = "…" + str(card["number"])[-4:]
        card.pop("verification_value", None)
        return {**body, "payment_method": {**body["payment_method"], "credit_card": card}}
    return body


def _problem(errors: dict[str, list[str]]) -> dict[str, Any]:
    """Return an ASP.NET ProblemDetails body, as FlexCharge validates (reference A.8)."""
    return {
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "traceId": "00-" + secrets.token_hex(16) + "-" + secrets.token_hex(8) + "-00",
        "errors": errors,
    }


def _envelope(**fields: Any) -> dict[str, Any]:
    """Return FlexCharge's success envelope with the given fields."""
    return {
        "success": True,
        "result": "Success",
        "status": None,
        "statusCode": None,
        "errors": [],
        "customProperties": {},
        **fields,
    }


class FakeFlexCharge:
    """A local FlexCharge for tests: both environments, switches for failures."""

    def __init__(self) -> None:
        """Start serving on 127.0.0.1 at a free port."""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._calls: list[Call] = []
        self._tokens: dict[str, tuple[str, float]] = {}
        self._cards: dict[str, _Card] = {}
        self._evaluations: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, list[int]] = {}
        self._delays: dict[str, float] = {}
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._start()

    def _start(self) -> None:
        """Listen (again) on the fake's port."""
        self._server = _Server(self, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-flexcharge",
            daemon=True,
        )
        self._thread.start()

    def base_url(self, environment: str) -> str:
        """Return the base URL to configure for an environment."""
        return f"http://127.0.0.1:{self.port}/{environment}/v1"

    @property
    def config(self) -> dict[str, str]:
        """Return the app settings that point both environments at this fake."""
        return {
            "FLEXCHARGE_SANDBOX_API_BASE": self.base_url("sandbox"),
            "FLEXCHARGE_PRODUCTION_API_BASE": self.base_url("production"),
        }

    # Switches ----------------------------------------------------------------------------

    def fail(self, path: str, status: int, times: int = 1) -> None:
        """Answer `status` to the next `times` calls of an endpoint ("/transmit", ...)."""
        with self._lock:
            self._failures.setdefault(path, []).extend([status] * times)

    def garble(self, path: str, times: int = 1) -> None:
        """Answer 200 with a body that is not JSON to the next `times` calls of an endpoint."""
        self.fail(path, GARBLED, times)

    def slow(self, path: str, seconds: float = SLOW_SECONDS) -> None:
        """Answer an endpoint only after `seconds` (0 to stop being slow)."""
        with self._lock:
            self._delays[path] = min(seconds, SLOW_SECONDS)

    def refuse_connections(self) -> None:
        """Stop listening: every connection is refused until `accept_connections`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accept_connections(self) -> None:
        """Listen again on the same port."""
        if self._server is None:
            self._start()

    def expire_tokens(self) -> None:
        """Make every access token issued so far answer 401, as an expired one does."""
        with self._lock:
            self._tokens.clear()

    # What happened -----------------------------------------------------------------------

    def calls(self, path: str | None = None, environment: str | None = None) -> list[Call]:
        """Return the calls answered so far, optionally of one endpoint or environment."""
        with self._lock:
            return [
                call
                for call in self._calls
                if (path is None or call.path == path)
                and (environment is None or call.environment == environment)
            ]

    def _record(self, call: Call) -> None:
        """Remember a call; handler threads call it."""
        with self._lock:
            self._calls.append(call)

    def _delay_for(self, path: str) -> float:
        """Return how long an endpoint's answers wait."""
        with self._lock:
            return self._delays.get(path, 0.0)

    # Endpoints ---------------------------------------------------------------------------

    def _answer(
        self, environment: str, path: str, body: Any, token: str, query: dict
    ) -> tuple[int, Any]:
        """Return the status and answer of one call."""
        if environment not in ENVIRONMENTS:
            return 404, {"title": "Not Found"}
        with self._lock:
            forced = self._failures.get(path)
            status = forced.pop(0) if forced else None
        if status is not None:
            if status == GARBLED:
                return 200, b"<html>Service Unavailable</html>"
            if status >= 500:
                return status, {"title": "An error occurred while processing your request."}
            if status == 401:
                return 401, b""
            if status == 409:
                return 409, {"title": "An idempotent request is still in progress"}
            return status, _problem({"Request": [f"Refused with {status} by the test."]})
        if path == "/oauth2/token":
            return self._token(environment, body)
        if path == "/tokenize":
            if not (self._authorized(environment, token) or ("environment" in query)):
                return 401, b""
            return self._tokenize(body)
        if not self._authorized(environment, token):
            return 401, b""
        if path == "/transmit":
            return self._transmit(body)
        if path == "/evaluate":
            return self._evaluate(body)
        return 404, {"title": "Not Found"}

    def _authorized(self, environment: str, token: str) -> bool:
        """Tell whether a bearer token was issued for the environment and is still valid."""
        with self._lock:
            issued = self._tokens.get(token)
        return issued is not None and issued[0] == environment and issued[1] > time.time()

    def _token(self, environment: str, body: Any) -> tuple[int, Any]:
        """Answer /oauth2/token: any App key, any App secret without "denied" in it."""
        body = body if isinstance(body, dict) else {}
        key = body.get("AppKey") or body.get("appKey")
        secret = body.get("AppSecret") or body.get("appSecret")
        if not key or not secret or "denied" in str(secret):
            return 400, {
                "success": False,
                "errors": [{"item1": "Invalid AppKey or AppSecret", "item2": "400"}],
            }
        value = "eyJ" + secrets.token_urlsafe(24)
        expires = time.time() + TOKEN_SECONDS
        with self._lock:
            self._tokens[value] = (environment, expires)
        return 200, _envelope(
            accessToken=value,
            refreshToken="AQAA" + secrets.token_urlsafe(12),
            expires=int(expires * 1000),
            id=str(uuid.uuid4()),
            session=None,
            result=None,
        )

    def _tokenize(self, body: Any) -> tuple[int, Any]:
        """Answer /tokenize: vault a Luhn-valid card, return its token."""
        card = ((body or {}).get("payment_method") or {}).get("credit_card") or {}
        number = str(card.get("number") or "")
        missing = [
            name
            for name in ("number", "month", "year", "first_name", "last_name")
            if not card.get(name)
        ]
        if missing:
            return 400, _problem(
                {f"CreditCard.{n}": [f"The {n} field is required."] for n in missing}
            )
        if not luhn_valid(number):
            return 400, _problem({"CreditCard.Number": ["The card number is invalid."]})
        token = str(uuid.uuid4())
        with self._lock:
            self._cards[token] = _Card(number, bool(card.get("verification_value")))
        method = {
            "token": token,
            "last_four_digits": number[-4:],
            "first_six_digits": number[:6],
            "first_name": card["first_name"],
            "last_name": card["last_name"],
            "month": int(card["month"]),
            "year": int(card["year"]),
        }
        return 200, _envelope(
            transaction={"succeeded": True, "payment_method": method}, cardBinInfo=None
        )

    def _transmit(self, body: Any) -> tuple[int, Any]:
        """Answer /transmit: check the required fields, return a transmitId."""
        body = body if isinstance(body, dict) else {}
        transaction = body.get("transaction") or {}
        errors = {}
        if not body.get("orderId"):
            errors["OrderId"] = ["The OrderId field is required."]
        if not transaction.get("id"):
            errors["Transaction.Id"] = ["The Id field is required."]
        if "isDeclined" not in body:
            errors["IsDeclined"] = ["The IsDeclined field is required."]
        if errors:
            return 400, _problem(errors)
        return 200, _envelope(result="success", transmitId=str(uuid.uuid4()))

    def _evaluate(self, body: Any) -> tuple[int, Any]:
        """Answer /evaluate: idempotent per key; decide as the sandbox does."""
        body = body if isinstance(body, dict) else {}
        key = body.get("idempotencyKey")
        if not key:
            return 400, {
                "TraceId": ["00-" + secrets.token_hex(16) + "-00"],
                "IdempotencyKey": ["The IdempotencyKey field is required."],
            }
        with self._lock:
            earlier = self._evaluations.get(key)
        if earlier is not None:
            return 200, earlier
        transaction = body.get("transaction") or {}
        required = {
            "OrderId": body.get("orderId"),
            "Transaction.Id": transaction.get("id"),
            "Transaction.ResponseCode": transaction.get("responseCode"),
            "Transaction.AvsResultCode": transaction.get("avsResultCode"),
            "Transaction.CvvResultCode": transaction.get("cvvResultCode"),
            "Transaction.CavvResultCode": transaction.get("cavvResultCode"),
            "Transaction.ResponseCodeSource": transaction.get("responseCodeSource"),
        }
        errors = {name: [f"The {name} field is required."] for name, v in required.items() if not v}
        amount = transaction.get("amount")
        if not errors and not (isinstance(amount, int) and 10 < amount < 20000):
            errors["Transaction.Amount"] = ["Test amounts must be >10 and <20000 (cents)."]
        if errors:
            return 400, _problem(errors)
        method = body.get("paymentMethod") or {}
        with self._lock:
            card = self._cards.get(str(method.get("cardNumber")))
        if card is None:
            return 400, _problem({"PaymentMethod.CardNumber": ["Unknown payment token."]})
        status = self._decision(body, card)
        key_value = str(uuid.uuid4())
        answer = _envelope(
            orderSessionKey=key_value, senseKey=None, orderId=key_value, status=status
        )
        with self._lock:
            self._evaluations[key] = answer
        return 200, answer

    @staticmethod
    def _decision(body: dict[str, Any], card: _Card) -> str:
        """Decide like the sandbox does for its test cards (reference A.12)."""
        transaction_type = str(body.get("transactionType") or "").lower()
        if card.number == APPROVING_CARD and transaction_type == "authorization":
            return "CAPTUREREQUIRED"
        if card.number == APPROVING_CARD:
            return "APPROVED"
        if body.get("isMIT") or card.number == DECLINED_CARD:
            return "DECLINED"
        has_phone = bool((body.get("payer") or {}).get("phone"))
        return "CHALLENGE" if has_phone and card.has_cvv else "DECLINED"

    # Life cycle --------------------------------------------------------------------------

    def stop(self) -> None:
        """Release slow answers, stop serving and close the socket."""
        self._stopping.set()
        self.refuse_connections()

    def __enter__(self) -> Self:
        """Return the running fake."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the fake."""
        self.stop()


def sign_webhook(
    key: str,
    body: bytes,
    host: str,
    *,
    date: str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Return the headers FlexCharge sends with a webhook, signed with the subscriber key.

    Written from the vendor sample's ValidateWebhook (reference A.7), independently of the
    portal's own check so a test does not grade the code with itself.
    """
    nonce = nonce or secrets.token_hex(16)
    date = date or formatdate(usegmt=True)
    content_hash = base64.b64encode(hashlib.sha512(body).digest()).decode()
    to_sign = f"POST\n{nonce};{date};{host};{content_hash}"
    signature = base64.b64encode(
        hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha512).digest()
    ).decode()
    return {
        "Content-Type": "text/plain",
        "x-fc-nonce": nonce,
        "x-fc-date": date,
        "x-fc-content-sha512": content_hash,
        "x-fc-signature": signature,
        "x-fc-authorization": (
            "HMAC-SHA512 SignedHeaders=x-fc-nonce;x-fc-date;host;x-fc-content-sha512"
            f"&Signature={signature}"
        ),
    }
