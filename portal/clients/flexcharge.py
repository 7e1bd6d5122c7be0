"""FlexCharge's API (reference A): access tokens, /transmit, /tokenize and /evaluate.

One client serves both environments; each call goes to that environment's base URL
(``FLEXCHARGE_SANDBOX_API_BASE``, ``FLEXCHARGE_PRODUCTION_API_BASE``) with connect and read
timeouts of ``PORTAL_FLEXCHARGE_TIMEOUT`` seconds and a total deadline per call
(``PORTAL_FLEXCHARGE_DEADLINE``): connecting, waiting and reading the answer all count against
it. Every failure is a ``FlexChargeError`` whose message says what happened (refused, timed out,
an answer that is not what FlexCharge sends, a 4xx or 5xx) and never holds a secret or card data.
"""

from __future__ import annotations

import enum
import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from portal.core.metrics import observe_outbound

logger = logging.getLogger(__name__)
# urllib3 logs each request line at DEBUG, query string included, and /tokenize carries the
# Tokenization key there (reference A.4): its debug lines never reach a log.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)

#: FlexCharge's access tokens last 10 minutes (reference A.2).
TOKEN_LIFETIME = timedelta(minutes=10)
#: An answer larger than this is not one of FlexCharge's.
MAX_ANSWER_BYTES = 1_000_000
_CHUNK = 16_384
#: 4xx answers worth another attempt: expired token, idempotent request in progress, throttled.
RETRYABLE_STATUSES = frozenset({401, 409, 429})

#: The provider label of FlexCharge's calls in /metrics (Stripe's is "stripe").
PROVIDER = "flexcharge"
ENVIRONMENT_LABELS = {"sandbox": "FlexCharge Sandbox", "production": "FlexCharge Production"}


class Failure(enum.Enum):
    """What went wrong with a call."""

    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    SERVER_ERROR = "server_error"
    REJECTED = "rejected"
    BAD_ANSWER = "bad_answer"


class FlexChargeError(Exception):
    """A call that did not succeed; the message is safe to show and to store."""

    def __init__(self, failure: Failure, message: str, status: int | None = None) -> None:
        """Keep what went wrong, the message to show, and FlexCharge's status if it answered."""
        super().__init__(message)
        self.failure = failure
        self.message = message
        self.status = status

    @property
    def retryable(self) -> bool:
        """Tell whether another attempt may succeed (not a 4xx other than 401/409/429)."""
        if self.failure is Failure.REJECTED:
            return self.status in RETRYABLE_STATUSES
        return True

    @property
    def unauthorized(self) -> bool:
        """Tell whether FlexCharge refused the access token (fetch a new one)."""
        return self.status == 401


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and when it expires."""

    value: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class Evaluation:
    """FlexCharge's answer to /evaluate."""

    status: str
    order_session_key: str | None


@dataclass(frozen=True)
class Card:
    """The card of a decline, held in memory for the one /tokenize call, never printed."""

    number: str = field(repr=False)
    cvv: str | None = field(repr=False)
    month: int
    year: int
    first_name: str
    last_name: str


class FlexChargeClient:
    """FlexCharge's API at configured base URLs, with timeouts and a deadline per call."""

    def __init__(self, bases: Mapping[str, str], timeout: float, deadline: float) -> None:
        """Remember where each environment is and how long to wait for it."""
        self.bases = {env: base.rstrip("/") for env, base in bases.items()}
        self.timeout = float(timeout)
        self.deadline = float(deadline)
        # One keep-alive session per thread: requests sessions are not shared across threads.
        self._local = threading.local()

    def base(self, environment: str) -> str:
        """Return the base URL of an environment ("sandbox" or "production")."""
        return self.bases[environment]

    def fetch_token(self, environment: str, app_key: str, app_secret: str) -> AccessToken:
        """Exchange the App key and App secret for an access token (POST /oauth2/token)."""
        answer = self._post(
            environment, "/oauth2/token", {"AppKey": app_key, "AppSecret": app_secret}
        )
        value = answer.get("accessToken")
        if not isinstance(value, str) or not value:
            raise _bad_answer(environment, "gave no access token")
        return AccessToken(value, _expiry(answer.get("expires")))

    def transmit(self, environment: str, token: str, body: Mapping[str, Any]) -> str | None:
        """Send the copy of a transaction (POST /transmit); return FlexCharge's transmitId."""
        answer = self._post(environment, "/transmit", body, token=token)
        transmit_id = answer.get("transmitId")
        return str(transmit_id)[:100] if transmit_id else None

    def tokenize(
        self,
        environment: str,
        token: str,
        mid: str,
        tokenization_key: str | None,
        card: Card,
    ) -> str:
        """Turn the card into FlexCharge's payment-method token (POST /tokenize)."""
        credit_card = {
            "first_name": card.first_name,
            "last_name": card.last_name,
            "number": card.number,
            "month": f"{card.month:02d}",
            "year": f"{card.year:04d}",
        }
        if card.cvv:
            credit_card["verification_value"] = card.cvv
        params = {"mid": mid}
        if tokenization_key:
            # The documented form: the Tokenization key is the `environment` parameter.
            params["environment"] = tokenization_key
        answer = self._post(
            environment,
            "/tokenize",
            {"payment_method": {"credit_card": credit_card}},
            token=token,
            params=params,
        )
        method = (answer.get("transaction") or {}).get("payment_method") or {}
        value = method.get("token") if isinstance(method, dict) else None
        if not isinstance(value, str) or not value:
            raise _bad_answer(environment, "gave no payment-method token")
        return value

    def evaluate(self, environment: str, token: str, body: Mapping[str, Any]) -> Evaluation:
        """Ask FlexCharge to evaluate a decline (POST /evaluate)."""
        answer = self._post(environment, "/evaluate", body, token=token)
        status = answer.get("status")
        if not isinstance(status, str) or not status:
            raise _bad_answer(environment, "gave no evaluation status")
        key = answer.get("orderSessionKey")
        return Evaluation(status.upper()[:32], str(key)[:100] if key else None)

    def _session(self) -> requests.Session:
        """Return this thread's session."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _post(
        self,
        environment: str,
        path: str,
        body: Mapping[str, Any],
        *,
        token: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST JSON and return the JSON object answered, within the deadline."""
        where = ENVIRONMENT_LABELS[environment]
        started = time.monotonic()
        deadline = started + self.deadline
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        wait = min(self.timeout, self.deadline)
        status = None
        # What /metrics records: the answer's status class, or how the call failed.
        outcome = "error"
        try:
            response = self._session().post(
                self.base(environment) + path,
                data=json.dumps(body, separators=(",", ":")).encode(),
                headers=headers,
                params=params,
                timeout=(wait, wait),
                stream=True,
                allow_redirects=False,
            )
            status = response.status_code
            with response:
                raw = _read_within(response, deadline)
            outcome = f"{status // 100}xx"
        except DeadlineExceeded:
            outcome = "deadline"
            raise FlexChargeError(
                Failure.TIMEOUT, f"{where} did not answer within {self.deadline:g} s"
            ) from None
        except requests.RequestException as error:
            failure = _connection_failure(error, where, self.timeout)
            outcome = failure.failure.value
            raise failure from None
        finally:
            elapsed = time.monotonic() - started
            observe_outbound(PROVIDER, outcome, elapsed)
            # The path only: query strings may hold the Tokenization key.
            logger.info(
                "%s POST %s: %s in %.0f ms", where, path, status or "no answer", elapsed * 1000
            )
        return _answer(where, response.status_code, raw)


class DeadlineExceeded(Exception):
    """The call's total deadline passed while the answer was being read."""


def _read_within(response: requests.Response, deadline: float) -> bytes:
    """Read the answer's body, giving up at the deadline or past the size limit."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_CHUNK):
        if time.monotonic() > deadline:
            raise DeadlineExceeded
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            break
    if time.monotonic() > deadline:
        raise DeadlineExceeded
    return b"".join(chunks)


def _answer(where: str, status: int, raw: bytes) -> dict[str, Any]:
    """Return the JSON object of a 2xx answer, or raise what the status means."""
    if status >= 500:
        raise FlexChargeError(Failure.SERVER_ERROR, f"{where} answered {status}", status)
    if status >= 400:
        detail = _problem_summary(raw)
        message = f"{where} refused the request ({status}{': ' + detail if detail else ''})"
        raise FlexChargeError(Failure.REJECTED, message, status)
    if not 200 <= status < 300:
        raise FlexChargeError(Failure.BAD_ANSWER, f"{where} answered {status}", status)
    if len(raw) > MAX_ANSWER_BYTES:
        raise FlexChargeError(Failure.BAD_ANSWER, f"{where} sent an answer that is too large")
    try:
        answer = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise FlexChargeError(
            Failure.BAD_ANSWER, f"{where} sent an answer that is not JSON", status
        ) from None
    if not isinstance(answer, dict):
        raise FlexChargeError(Failure.BAD_ANSWER, f"{where} sent an unexpected answer", status)
    if answer.get("success") is False:
        detail = _problem_summary(raw)
        message = f"{where} did not accept the request{': ' + detail if detail else ''}"
        raise FlexChargeError(Failure.REJECTED, message, 422)
    return answer


def _bad_answer(environment: str, what: str) -> FlexChargeError:
    """Return the error of a 2xx answer that lacks what FlexCharge always sends."""
    return FlexChargeError(Failure.BAD_ANSWER, f"{ENVIRONMENT_LABELS[environment]} {what}")


def _expiry(expires: Any) -> datetime:
    """Read `expires` (milliseconds since the epoch); assume the documented 10 minutes."""
    now = datetime.now(UTC)
    if isinstance(expires, int | float) and not isinstance(expires, bool):
        try:
            moment = datetime.fromtimestamp(expires / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return now + TOKEN_LIFETIME
        if now < moment <= now + timedelta(days=1):
            return moment
    return now + TOKEN_LIFETIME


def _problem_summary(raw: bytes, limit: int = 200) -> str:
    """Summarise FlexCharge's validation errors (ProblemDetails or the flat variant)."""
    try:
        answer = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(answer, dict):
        return ""
    errors = answer.get("errors", answer)
    messages: list[str] = []
    if isinstance(errors, dict):
        for name, value in errors.items():
            if str(name).lower() == "traceid":
                continue
            texts = value if isinstance(value, list) else [value]
            messages.extend(str(text) for text in texts if isinstance(text, str))
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict):
                text = item.get("item1") or item.get("message") or item.get("error")
                if isinstance(text, str):
                    messages.append(text)
            elif isinstance(item, str):
                messages.append(item)
    if not messages and isinstance(answer.get("title"), str):
        messages.append(answer["title"])
    summary = " ".join(messages)
    # Control characters from a third party never reach a page or a log line.
    summary = "".join(ch if ch.isprintable() else " " for ch in summary)
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


def _causes(error: BaseException) -> Iterator[BaseException]:
    """Yield the error and every error it wraps."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked.extend(current.args)
        pending.extend(item for item in linked if isinstance(item, BaseException))


def _connection_failure(
    error: requests.RequestException, where: str, timeout: float
) -> FlexChargeError:
    """Describe, in a few words, why FlexCharge could not be asked."""
    causes = list(_causes(error))
    if any(isinstance(cause, requests.Timeout | TimeoutError) for cause in causes) or any(
        "timed out" in str(cause).lower() for cause in causes
    ):
        return FlexChargeError(Failure.TIMEOUT, f"{where} did not answer within {timeout:g} s")
    if any(isinstance(cause, requests.exceptions.SSLError) for cause in causes):
        return FlexChargeError(
            Failure.UNREACHABLE, f"{where}'s TLS certificate could not be verified"
        )
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return FlexChargeError(Failure.REFUSED, f"{where} refused the connection")
    return FlexChargeError(Failure.UNREACHABLE, f"{where} could not be reached")
