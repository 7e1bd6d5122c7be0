"""Calling FlexCharge as a merchant: its credentials, and access tokens shared by every worker.

Reference A.2: "Do not request a new token for each API request ... use the current token until
you receive a 401". The token of each (merchant, environment) lives, encrypted, on its
credentials row, so every worker and host uses the same one until it expires (10 minutes) or
FlexCharge answers 401; then one is fetched again. Callers hold no database transaction open
while FlexCharge is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update

from portal.clients.flexcharge import FlexChargeClient, FlexChargeError
from portal.core.crypto import SecretBox, SecretDecryptError
from portal.extensions import db
from portal.models import FlexChargeCredentials
from portal.models.base import utcnow
from portal.services.errors import DomainError

T = TypeVar("T")

#: A token this close to its expiry is not used: a call might outlive it.
TOKEN_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How deliveries retry: attempts, backoff, and when a row counts as forgotten."""

    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    stale_seconds: float = 120.0
    #: How long a worker's claim on a row lasts; longer than any call can take.
    lease_seconds: float = 120.0


@dataclass(frozen=True)
class FlexCharge:
    """What the FlexCharge services need: the client, the secret box, the delivery policy."""

    client: FlexChargeClient
    box: SecretBox
    policy: DeliveryPolicy


class CredentialsUnusable(DomainError):
    """The merchant's stored credentials cannot be used (missing, or not decryptable)."""


def credentials_of(customer_id: int, environment: str) -> FlexChargeCredentials | None:
    """Return a merchant's credential set of one environment, if saved."""
    query = select(FlexChargeCredentials).where(
        FlexChargeCredentials.customer_id == customer_id,
        FlexChargeCredentials.environment == environment,
    )
    return db.session.scalar(query)


def reveal(box: SecretBox, token: str | None, what: str) -> str | None:
    """Decrypt a stored secret, or fail closed saying which one."""
    if token is None:
        return None
    try:
        return box.decrypt(token)
    except SecretDecryptError:
        raise CredentialsUnusable(
            f"The stored {what} cannot be decrypted with the configured encryption keys; "
            "enter the credentials again."
        ) from None


def remember_token(box: SecretBox, credentials_id: int, value: str, expires_at: datetime) -> None:
    """Store a fetched token for every worker and host, in its own short transaction."""
    db.session.execute(
        update(FlexChargeCredentials)
        .where(FlexChargeCredentials.id == credentials_id)
        .values(access_token_encrypted=box.encrypt(value), access_token_expires_at=expires_at)
        # Not an edit of the credentials: "updated" keeps its meaning.
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _fresh_token(fc: FlexCharge, credentials: FlexChargeCredentials) -> str:
    """Fetch a new token with the merchant's App key and App secret, and share it."""
    environment, app_key, credentials_id = (
        credentials.environment,
        credentials.app_key,
        credentials.id,
    )
    secret = reveal(fc.box, credentials.app_secret_encrypted, "App secret") or ""
    # End the read: no database transaction stays open while FlexCharge is called.
    db.session.commit()
    token = fc.client.fetch_token(environment, app_key, secret)
    remember_token(fc.box, credentials_id, token.value, token.expires_at)
    return token.value


def _forget_token(credentials_id: int, stale: str) -> None:
    """Drop a token FlexCharge refused, unless another worker replaced it already."""
    db.session.execute(
        update(FlexChargeCredentials)
        .where(
            FlexChargeCredentials.id == credentials_id,
            FlexChargeCredentials.access_token_encrypted == stale,
        )
        .values(access_token_encrypted=None, access_token_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def current_token(fc: FlexCharge, credentials_id: int) -> tuple[str, str | None]:
    """Return a usable token (and its stored form) from the row, fetching one if needed."""
    credentials = db.session.get(FlexChargeCredentials, credentials_id, populate_existing=True)
    if credentials is None:
        raise CredentialsUnusable("The merchant's FlexCharge credentials were removed.")
    expires = credentials.access_token_expires_at
    if credentials.access_token_encrypted and expires and expires - TOKEN_MARGIN > utcnow():
        stored = credentials.access_token_encrypted
        value = reveal(fc.box, stored, "access token") or ""
        db.session.commit()
        return value, stored
    return _fresh_token(fc, credentials), None


def with_token(fc: FlexCharge, credentials_id: int, call: Callable[[str], T]) -> T:
    """Run a call with the shared token; on a 401, fetch a new token once and call again."""
    token, stored = current_token(fc, credentials_id)
    try:
        return call(token)
    except FlexChargeError as error:
        if not error.unauthorized:
            raise
    if stored is not None:
        _forget_token(credentials_id, stored)
    credentials = db.session.get(FlexChargeCredentials, credentials_id, populate_existing=True)
    if credentials is None:
        raise CredentialsUnusable("The merchant's FlexCharge credentials were removed.")
    return call(_fresh_token(fc, credentials))
