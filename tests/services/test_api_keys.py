"""API keys: generated once, stored hashed, authenticated cheaply, refused once deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.core import api_key_tokens as tokens
from portal.extensions import db
from portal.models import ApiKey, AuditEvent, Company
from portal.models.base import utcnow
from portal.schemas.api_keys import ApiKeyInput
from portal.services import api_keys, companies
from portal.services.actor import Actor
from portal.services.api_keys import ApiKeyAuthenticator, ApiKeyRejected
from portal.services.errors import Conflict
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


@pytest.mark.services
def test_generate_stores_only_an_argon2id_hash_and_audits_without_the_key() -> None:
    new = factories.make_api_key("CRM", environment="production")
    key = new.api_key
    assert new.plaintext.startswith("ptl_live_")
    assert key.environment == "production"
    assert key.prefix == "ptl_live_" + key.key_id
    assert key.secret_hash.startswith("$argon2id$")
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
    assert refused_fields(lambda: api_keys.generate_api_key(ACTOR, ApiKeyInput(**data))) == {field}
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
    identity = ApiKeyAuthenticator().authenticate(new.plaintext)
    assert identity.name == "CRM"
    assert identity.company_name == "Default Company"
    assert identity.environment == "sandbox"
    assert identity.id == new.api_key.id


def test_argon2_runs_once_per_key_while_the_cache_holds_it() -> None:
    new = factories.make_api_key()
    authenticator = ApiKeyAuthenticator()
    for _ in range(5):
        authenticator.authenticate(new.plaintext)
    assert authenticator.verifications == 1
    assert authenticator.cache.stats()["hits"] == 4


@pytest.mark.services
def test_a_cached_key_is_refused_as_soon_as_it_is_deleted() -> None:
    new = factories.make_api_key()
    authenticator = ApiKeyAuthenticator()
    authenticator.authenticate(new.plaintext)
    # Deleted elsewhere (another worker): this process's cache still holds the verification.
    api_keys.delete_api_key(ACTOR, api_keys.get_api_key(new.api_key.id))
    assert len(authenticator.cache) == 1
    with pytest.raises(ApiKeyRejected):
        authenticator.authenticate(new.plaintext)


def test_a_cached_row_id_reused_by_another_key_does_not_authenticate_the_old_key() -> None:
    old = factories.make_api_key()
    other = factories.make_api_key()
    authenticator = ApiKeyAuthenticator()
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
        ApiKeyAuthenticator().authenticate(forged)


def test_wrong_secret_and_unknown_keys_are_refused() -> None:
    new = factories.make_api_key()
    body = new.plaintext[: -tokens.CHECKSUM_LENGTH - 1] + (
        "A" if new.plaintext[-tokens.CHECKSUM_LENGTH - 1] != "A" else "B"
    )
    wrong_secret = body + tokens._checksum(body)
    authenticator = ApiKeyAuthenticator()
    with pytest.raises(ApiKeyRejected):
        authenticator.authenticate(wrong_secret)
    with pytest.raises(ApiKeyRejected):
        authenticator.authenticate(tokens.generate("sandbox").plaintext)
    assert authenticator.verifications == 1  # the unknown key id never reached argon2


@pytest.mark.services
def test_last_used_is_written_at_most_once_a_minute_across_workers() -> None:
    new = factories.make_api_key()
    worker_a, worker_b = ApiKeyAuthenticator(), ApiKeyAuthenticator()
    worker_a.authenticate(new.plaintext)
    first = api_keys.get_api_key(new.api_key.id).last_used_at
    assert first is not None
    worker_a.authenticate(new.plaintext)  # throttled in the process
    worker_b.authenticate(new.plaintext)  # another process: the conditional update does nothing
    db.session.expire_all()
    assert api_keys.get_api_key(new.api_key.id).last_used_at == first
