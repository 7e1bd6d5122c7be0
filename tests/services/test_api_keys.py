"""API keys: generated once, stored hashed, authenticated cheaply, refused once deleted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask import current_app
from prometheus_client import REGISTRY
from sqlalchemy import event, func, select

from portal.core import api_key_tokens as tokens
from portal.extensions import db
from portal.models import ApiKey, AuditEvent, Company
from portal.models.base import utcnow
from portal.schemas.api_keys import ApiKeyInput
from portal.services import api_keys, companies
from portal.services.actor import Actor
from portal.services.api_keys import ApiKeyAuthenticator, ApiKeyRejected, ApiKeyThrottled
from portal.services.errors import Conflict
from portal.web.registry import api_key_pepper, build
from tests import factories
from tests.support.refusals import refused_fields

pytestmark = pytest.mark.usefixtures("app_context")

ACTOR = Actor.system("test")


def count_keys() -> int:
    """Return how many API keys exist."""
    return db.session.scalar(select(func.count()).select_from(ApiKey)) or 0


def every_stored_value() -> str:
    """Return every value of every API-key and audit row, as one text to search."""
    values = []
    for model in (ApiKey, AuditEvent):
        for row in db.session.scalars(select(model)):
            values.extend(str(getattr(row, column.key)) for column in model.__table__.columns)
    return "\n".join(values)


def worker(**config) -> ApiKeyAuthenticator:
    """Return a fresh authenticator, as another worker process would build it."""
    return build({**current_app.config, **config}).api_key_authenticator


def throttled_count(held: str) -> float:
    """Return how many throttled refusals this process held ("yes") or sent at once ("no")."""
    return REGISTRY.get_sample_value("portal_api_key_throttled_total", {"held": held}) or 0


@pytest.mark.services
def test_generate_stores_only_a_keyed_hash_and_audits_without_the_key() -> None:
    new = factories.make_api_key("CRM", environment="production")
    key = new.api_key
    assert new.plaintext.startswith("ptl_live_")
    assert key.environment == "production"
    assert key.prefix == "ptl_live_" + key.key_id
    assert key.secret_hash == tokens.hash_secret(
        tokens.parse(new.plaintext).secret, api_key_pepper()
    )
    assert key.secret_hash.startswith("hmac-sha256$")
    secret = tokens.parse(new.plaintext).secret
    stored = every_stored_value()
    assert new.plaintext not in stored
    assert secret not in stored
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_key.generate"))
    assert event.object_label == "CRM"
    assert event.changes == {
        "name": "CRM",
        "company": "Default Company",
        "environment": "production",
        "key_id": key.prefix,
    }


def test_the_environment_comes_from_its_column_and_sandbox_keys_say_test() -> None:
    new = factories.make_api_key(environment="sandbox")
    assert new.plaintext.startswith("ptl_test_")
    assert new.api_key.environment == "sandbox"


@pytest.mark.parametrize(
    ("name", "company_id", "environment", "field"),
    [
        ("", None, "sandbox", "name"),
        ("   ", None, "sandbox", "name"),
        ("x" * 101, None, "sandbox", "name"),
        ("CRM", 999_999, "sandbox", "company_id"),
        ("CRM", "not-a-number", "sandbox", "company_id"),
        ("CRM", "", "sandbox", "company_id"),
        ("CRM", "²", "sandbox", "company_id"),
        ("CRM", "9" * 30, "sandbox", "company_id"),
        ("CRM", None, "staging", "environment"),
        ("CRM", None, "", "environment"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(name, company_id, environment, field) -> None:
    company = factories.default_company()
    data = {
        "name": name,
        "company_id": company.id if company_id is None else company_id,
        "environment": environment,
    }
    pepper = api_key_pepper()
    refused = refused_fields(lambda: api_keys.generate_api_key(ACTOR, ApiKeyInput(**data), pepper))
    assert refused == {field}
    assert count_keys() == 0


def test_delete_audits_the_key_id_not_the_key() -> None:
    new = factories.make_api_key("Old CRM")
    prefix = new.api_key.prefix
    api_keys.delete_api_key(ACTOR, new.api_key)
    assert count_keys() == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_key.delete"))
    assert event.object_label == "Old CRM"
    assert event.changes == {"key_id": prefix}
    assert new.plaintext not in every_stored_value()


@pytest.mark.services
def test_a_company_with_api_keys_cannot_be_deleted() -> None:
    company = factories.make_company("Acme")
    factories.make_api_key(company=company)
    with pytest.raises(Conflict, match="in use"):
        companies.delete_company(ACTOR, company)
    assert db.session.scalar(select(Company).where(Company.name == "Acme")) is not None


def test_used_recently_means_the_last_seven_days() -> None:
    key = factories.make_api_key().api_key
    now = utcnow()
    assert not api_keys.used_recently(key, now)
    key.last_used_at = now - timedelta(days=6, hours=23)
    assert api_keys.used_recently(key, now)
    key.last_used_at = now - timedelta(days=8)
    assert not api_keys.used_recently(key, now)


def test_authenticate_returns_the_company_and_environment() -> None:
    new = factories.make_api_key("CRM", environment="sandbox")
    identity = worker().authenticate(new.plaintext)
    assert identity.name == "CRM"
    assert identity.company_name == "Default Company"
    assert identity.environment == "sandbox"
    assert identity.id == new.api_key.id


def test_a_key_is_verified_once_while_the_cache_holds_it() -> None:
    new = factories.make_api_key()
    authenticator = worker()
    for _ in range(5):
        authenticator.authenticate(new.plaintext)
    assert authenticator.verifications == 1
    assert authenticator.cache.stats()["hits"] == 4


@pytest.mark.services
def test_a_cached_key_is_refused_as_soon_as_it_is_deleted() -> None:
    new = factories.make_api_key()
    authenticator = worker()
    authenticator.authenticate(new.plaintext)
    # Deleted elsewhere (another worker): this process's cache still holds the verification.
    api_keys.delete_api_key(ACTOR, api_keys.get_api_key(new.api_key.id))
    assert len(authenticator.cache) == 1
    with pytest.raises(ApiKeyRejected):
        authenticator.authenticate(new.plaintext)


def test_a_cached_row_id_reused_by_another_key_does_not_authenticate_the_old_key() -> None:
    old = factories.make_api_key()
    other = factories.make_api_key()
    authenticator = worker()
    # As if the old row was deleted and its id handed to a new key (SQLite reuses row ids).
    authenticator.cache.put(old.plaintext, other.api_key.id)
    with pytest.raises(ApiKeyRejected):
        authenticator.authenticate(old.plaintext)


def test_a_key_presented_with_the_other_environment_prefix_is_refused() -> None:
    new = factories.make_api_key(environment="sandbox")
    body = "ptl_live_" + new.plaintext[len("ptl_test_") : -tokens.CHECKSUM_LENGTH]
    forged = body + tokens._checksum(body)
    assert tokens.parse(forged).environment == "production"
    with pytest.raises(ApiKeyRejected):
        worker().authenticate(forged)


def test_wrong_secret_and_unknown_keys_are_refused() -> None:
    new = factories.make_api_key()
    body = new.plaintext[: -tokens.CHECKSUM_LENGTH - 1] + (
        "A" if new.plaintext[-tokens.CHECKSUM_LENGTH - 1] != "A" else "B"
    )
    wrong_secret = body + tokens._checksum(body)
    authenticator = worker()
    with pytest.raises(ApiKeyRejected):
        authenticator.authenticate(wrong_secret)
    with pytest.raises(ApiKeyRejected):
        authenticator.authenticate(tokens.generate("sandbox").plaintext)
    assert authenticator.verifications == 1  # the unknown key id had no row to check


@pytest.mark.services
def test_last_used_is_written_at_most_once_a_minute_across_workers() -> None:
    new = factories.make_api_key()
    worker_a, worker_b = worker(), worker()
    worker_a.authenticate(new.plaintext)
    first = api_keys.get_api_key(new.api_key.id).last_used_at
    assert first is not None
    worker_a.authenticate(new.plaintext)  # throttled in the process
    worker_b.authenticate(new.plaintext)  # another process: the conditional update does nothing
    db.session.expire_all()
    assert api_keys.get_api_key(new.api_key.id).last_used_at == first


def wrong_secret_of(plaintext: str, variant: int = 0) -> str:
    """Return the key with the end of its secret changed (and a valid checksum).

    Each variant is another wrong key, so none is refused from the failure memory alone.
    """
    cut = -tokens.CHECKSUM_LENGTH - 2
    ending = tokens.BASE62_ALPHABET[variant // 62] + tokens.BASE62_ALPHABET[variant % 62]
    if ending == plaintext[cut : -tokens.CHECKSUM_LENGTH]:
        ending = "zz"
    body = plaintext[:cut] + ending
    return body + tokens._checksum(body)


@pytest.mark.services
def test_failed_verifications_are_limited_per_key_id_but_the_owner_still_gets_in() -> None:
    new = factories.make_api_key()
    authenticator = worker()
    answers = []
    for n in range(12):
        try:
            # Many clients, one key id.
            authenticator.authenticate(wrong_secret_of(new.plaintext, n), f"10.0.0.{n}")
        except ApiKeyThrottled as error:
            answers.append(("429", error.retry_after > 0))
        except ApiKeyRejected:
            answers.append(("401", True))
    assert answers[:10] == [("401", True)] * 10
    assert set(answers[10:]) == {("429", True)}
    # A keyed hash costs microseconds: the real owner is checked, and let in.
    assert authenticator.authenticate(new.plaintext, "10.0.1.1").id == new.api_key.id


@pytest.mark.services
def test_a_noisy_client_is_refused_before_any_work() -> None:
    keys = [factories.make_api_key() for _ in range(4)]
    authenticator = worker()
    statuses = []
    for n in range(35):
        try:
            authenticator.authenticate(wrong_secret_of(keys[n % 4].plaintext, n), "10.9.9.9")
        except ApiKeyThrottled:
            statuses.append(429)
        except ApiKeyRejected:
            statuses.append(401)
    assert statuses.count(401) == 30 and statuses[-1] == 429
    before = authenticator.verifications
    with pytest.raises(ApiKeyThrottled):
        authenticator.authenticate(keys[0].plaintext, "10.9.9.9")
    assert authenticator.verifications == before  # refused before the database or a hash


def test_throttled_refusals_are_held_before_they_are_sent_and_counted() -> None:
    new = factories.make_api_key()
    authenticator = worker(API_KEY_THROTTLED_HOLD=0.2, API_KEY_THROTTLED_HOLD_SLOTS=2)
    held, sent_at_once = throttled_count("yes"), throttled_count("no")
    for n in range(10):  # refused 401, each at once: failures under the limit are not held
        with pytest.raises(ApiKeyRejected):
            authenticator.authenticate(wrong_secret_of(new.plaintext, n), f"10.0.0.{n}")
    assert throttled_count("yes") == held
    started = time.monotonic()
    with pytest.raises(ApiKeyThrottled):
        authenticator.authenticate(wrong_secret_of(new.plaintext, 11), "10.0.0.11")
    assert time.monotonic() - started >= 0.2
    assert throttled_count("yes") == held + 1
    assert throttled_count("no") == sent_at_once
    # The owner's key is never throttled, so never held.
    assert authenticator.authenticate(new.plaintext, "10.0.0.12").id == new.api_key.id
    assert throttled_count("yes") == held + 1


def test_a_failure_is_remembered_so_a_repeat_costs_nothing() -> None:
    new = factories.make_api_key()
    authenticator = worker()
    forged = wrong_secret_of(new.plaintext)
    with pytest.raises(ApiKeyRejected):
        authenticator.authenticate(forged)
    for _ in range(5):
        with pytest.raises(ApiKeyRejected):
            authenticator.authenticate(forged)
    assert authenticator.verifications == 1


def test_a_legacy_argon2_key_still_works_and_is_moved_to_the_keyed_hash() -> None:
    new = factories.make_api_key()
    row = api_keys.get_api_key(new.api_key.id)
    row.secret_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(
        tokens.parse(new.plaintext).secret
    )
    db.session.commit()
    assert worker().authenticate(new.plaintext).id == row.id
    db.session.expire_all()
    assert api_keys.get_api_key(row.id).secret_hash.startswith("hmac-sha256$")


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Record the SQL statements that the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def throttle_key_id(authenticator: ApiKeyAuthenticator, plaintext: str) -> int:
    """Spend the key id's failure limit from many clients; return the last Retry-After."""
    for n in range(11):
        try:
            authenticator.authenticate(wrong_secret_of(plaintext, n), f"10.0.0.{n}")
        except ApiKeyThrottled as error:
            return error.retry_after
        except ApiKeyRejected:
            pass
    raise AssertionError("the key id was never throttled")


@pytest.mark.services
def test_a_throttled_key_id_refuses_new_wrong_secrets_without_reading_the_database(
    statements: list[str],
) -> None:
    new = factories.make_api_key()
    authenticator = worker()
    retry_after = throttle_key_id(authenticator, new.plaintext)
    statements.clear()
    for n in range(20, 30):
        with pytest.raises(ApiKeyThrottled) as refused:
            authenticator.authenticate(wrong_secret_of(new.plaintext, n), f"10.0.1.{n}")
        assert 0 < refused.value.retry_after <= retry_after
    assert statements == []
    # The same wrong key again is remembered as failed, as on the full path.
    with pytest.raises(ApiKeyRejected):
        authenticator.authenticate(wrong_secret_of(new.plaintext, 20), "10.0.1.20")
    # A re-prefixed key (the other environment) is a wrong key too.
    other = "ptl_live_" + new.plaintext.removeprefix("ptl_test_")[: -tokens.CHECKSUM_LENGTH]
    with pytest.raises(ApiKeyThrottled):
        authenticator.authenticate(other + tokens._checksum(other), "10.0.1.99")
    assert statements == []
    # The owner's key takes the full path: the row is read again, and the owner gets in.
    assert authenticator.authenticate(new.plaintext, "10.0.2.1").id == new.api_key.id
    assert statements


@pytest.mark.services
def test_a_throttled_key_id_deleted_meanwhile_refuses_its_own_key() -> None:
    new = factories.make_api_key()
    authenticator = worker()
    throttle_key_id(authenticator, new.plaintext)
    api_keys.delete_api_key(ACTOR, api_keys.get_api_key(new.api_key.id))
    # Remembered as it was, the row matches: the full path reads it again and finds it gone.
    with pytest.raises(ApiKeyThrottled):
        authenticator.authenticate(new.plaintext, "10.0.2.1")


@pytest.mark.services
def test_an_unknown_key_id_past_its_limit_is_refused_without_reading_the_database(
    statements: list[str],
) -> None:
    new = factories.make_api_key()
    authenticator = worker()
    unknown = new.plaintext[:9] + "Zz" * 6 + new.plaintext[21 : -tokens.CHECKSUM_LENGTH]
    unknown += tokens._checksum(unknown)
    throttle_key_id(authenticator, unknown)
    statements.clear()
    with pytest.raises(ApiKeyThrottled):
        authenticator.authenticate(wrong_secret_of(unknown, 40), "10.0.3.1")
    assert statements == []
