"""External-integration services: verification outcomes, secrets at rest, rotation, audit."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from pydantic import ValidationError
from sqlalchemy import func, select, text

from portal import create_app
from portal.core.crypto import SecretBox
from portal.extensions import db
from portal.models import AuditEvent, ExternalIntegration
from portal.schemas.base import field_errors
from portal.schemas.external_integrations import (
    ExternalIntegrationChange,
    ExternalIntegrationInput,
)
from portal.services import external_integrations as service
from portal.services import secrets as secret_service
from portal.services.actor import Actor
from portal.services.errors import Conflict, InvalidInput
from portal.web.registry import providers, secret_box
from tests import factories
from tests.support.apps import ENCRYPTION_KEY, overrides
from tests.support.fake_stripe import FakeStripe
from tests.support.stripe_app import closed_port_url, stripe_app, stripe_key

ACTOR = Actor.system("test")


@pytest.fixture
def app(database_url: str, fake: FakeStripe) -> Iterator[Flask]:
    """Return an app whose key checks go to the fake Stripe."""
    yield from stripe_app(database_url, fake.base_url)


@pytest.fixture(autouse=True)
def _context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def rows() -> list[ExternalIntegration]:
    return list(db.session.scalars(select(ExternalIntegration)))


def events(action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_type == service.OBJECT_TYPE)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def create(
    name: str = "Main", secret: str | None = None, *, active: bool = True, provider="stripe"
):
    data = ExternalIntegrationInput(
        provider=provider, name=name, secret=secret or stripe_key(), active=active
    )
    return service.create_integration(ACTOR, data, providers(), secret_box())


def update(integration, name: str, secret: str, *, active: bool):
    data = ExternalIntegrationChange(name=name, secret=secret, active=active)
    return service.update_integration(ACTOR, integration, data, providers(), secret_box())


def reveal(integration) -> str:
    return service.reveal_secret(integration, secret_box())


# Verification outcomes ---------------------------------------------------------------------


def test_a_valid_key_is_saved_encrypted_with_its_mode_mask_and_verification_time(fake) -> None:
    key = stripe_key()
    saved = create("Main", key, active=True)
    integration = saved.integration
    assert saved.warning is None
    assert integration.active is True
    assert integration.mode == "Test"
    assert integration.secret_mask == f"sk_test_...{key[-4:]}"
    assert integration.last_verified_at is not None
    assert key not in integration.secret_ciphertext
    assert reveal(integration) == key
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/v1/balance")]


def test_a_live_key_shows_live_mode() -> None:
    integration = create(secret=stripe_key(prefix="sk_live_")).integration
    assert integration.mode == "Live"


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("pk_test_" + "a" * 24, "It must start with sk_ or rk_."),
        ("sk_prod_" + "a" * 24, "It must be followed by test_ or live_."),
        ("sk_test_short", "It must have at least 24 letters or digits after the prefix."),
        ("sk_test_" + "a" * 23 + "-", "It may contain only letters and digits after the prefix."),
    ],
)
def test_a_malformed_key_is_refused_without_calling_stripe(fake, key: str, reason: str) -> None:
    with pytest.raises(service.SecretKeyInvalid) as raised:
        create("Main", key)
    assert raised.value.message == f"The secret key is invalid. {reason}"
    assert raised.value.field == "secret"
    assert rows() == []
    assert fake.requests == []
    # The one check of the key's shape is the service's, and it audits the refusal.
    assert [(e.action, e.outcome, e.changes["verification"]) for e in events()] == [
        ("external_integration.create", "failure", "malformed")
    ]


def test_a_key_stripe_rejects_is_invalid_and_nothing_is_saved() -> None:
    key = stripe_key("denied")
    with pytest.raises(service.SecretKeyInvalid) as raised:
        create("Main", key)
    assert raised.value.message == "The secret key is invalid. Stripe rejected the key."
    assert rows() == []
    (event,) = events("external_integration.create")
    assert (event.outcome, event.changes["verification"]) == ("failure", "invalid")
    assert event.object_label == "Main"
    assert event.changes["secret"] == "[redacted]"
    assert key not in str(event.changes) and key[8:] not in str(event.changes)


def test_a_restricted_key_without_a_permission_is_saved_with_a_warning() -> None:
    key = stripe_key("noperm", prefix="rk_test_")
    saved = create("Restricted", key)
    assert saved.integration.id is not None
    assert saved.warning is not None
    assert "rak_balance_read" in saved.warning
    assert key not in saved.warning
    (event,) = events()
    assert (event.outcome, event.changes["verification"]) == ("success", "restricted")


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("boom", "Stripe answered 500"), ("slow", "timed out after 1 s")],
)
def test_stripe_unreachable_saves_nothing_and_says_why(kind: str, reason: str) -> None:
    with pytest.raises(service.ProviderUnreachable) as raised:
        create("Main", stripe_key(kind))
    assert raised.value.message == (
        f"Stripe could not be reached to verify the key ({reason}). The integration was not saved."
    )
    assert rows() == []
    (event,) = events()
    assert (event.outcome, event.changes["verification"]) == ("failure", "unreachable")


def test_connection_refused_is_unreachable(database_url: str) -> None:
    for refused_app in stripe_app(database_url, closed_port_url()):
        with refused_app.app_context():
            with pytest.raises(service.ProviderUnreachable) as raised:
                create("Main")
            assert "(connection refused)" in raised.value.message
            assert rows() == []


# Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Enter a name."), ("x" * 101, "Name must be at most 100 characters.")],
)
def test_bad_names_are_refused_before_calling_stripe(fake, name: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        create(name)
    assert field_errors(raised.value) == {"name": message}
    assert rows() == []
    assert fake.requests == []


def test_an_unknown_provider_is_refused(fake) -> None:
    with pytest.raises(InvalidInput) as raised:
        create("Main", stripe_key(), provider="paypal")
    assert (raised.value.field, raised.value.message) == (
        "provider",
        "Choose an integration from the list.",
    )
    assert rows() == []
    assert fake.requests == []


@pytest.mark.services
def test_names_are_unique_regardless_of_case() -> None:
    create("Main")
    with pytest.raises(Conflict) as raised:
        create("  MAIN ")
    assert raised.value.field == "name"
    assert len(rows()) == 1
    assert len(events("external_integration.create")) == 1


@pytest.mark.services
def test_concurrent_duplicate_creates_give_one_success(app: Flask) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        with app.app_context():
            barrier.wait()
            try:
                create("Same name")
                outcomes.append("created")
            except Conflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "created"]
    assert db.session.scalar(select(func.count()).select_from(ExternalIntegration)) == 1


# Edit, switch, delete ----------------------------------------------------------------------


def test_editing_without_a_key_keeps_the_stored_one_and_does_not_call_stripe(fake) -> None:
    integration = create("Main", active=True).integration
    ciphertext = integration.secret_ciphertext
    calls = len(fake.requests)
    update(integration, "Renamed", "", active=False)
    assert (integration.name, integration.active) == ("Renamed", False)
    assert integration.secret_ciphertext == ciphertext
    assert len(fake.requests) == calls
    (event,) = events("external_integration.update")
    assert event.changes == {"name": ["Main", "Renamed"], "active": [True, False]}


def test_editing_with_a_new_key_verifies_it_and_redacts_it(fake) -> None:
    integration = create("Main").integration
    new_key = stripe_key(prefix="sk_live_")
    update(integration, "Main", new_key, active=True)
    assert reveal(integration) == new_key
    assert integration.mode == "Live"
    assert len(fake.requests) == 2
    (event,) = events("external_integration.update")
    assert event.changes["secret"] == "[redacted]"
    assert event.changes["mode"] == ["Test", "Live"]
    assert new_key not in str(event.changes)


def test_an_invalid_new_key_changes_nothing() -> None:
    old_key = stripe_key()
    integration = create("Main", old_key).integration
    with pytest.raises(service.SecretKeyInvalid):
        update(integration, "Other", stripe_key("denied"), active=False)
    db.session.expire_all()
    (row,) = rows()
    assert (row.name, row.active, reveal(row)) == ("Main", True, old_key)
    (event,) = events("external_integration.update")
    assert event.outcome == "failure"


def test_activate_and_deactivate_write_one_event_each_and_repeat_as_no_ops() -> None:
    integration = create("Main", active=False).integration
    service.set_active(ACTOR, integration, True)
    service.set_active(ACTOR, integration, True)
    assert integration.active is True
    service.set_active(ACTOR, integration, False)
    service.set_active(ACTOR, integration, False)
    assert integration.active is False
    assert [e.action for e in events()] == [
        "external_integration.create",
        "external_integration.activate",
        "external_integration.deactivate",
    ]


def test_delete_removes_the_row_and_audits_it() -> None:
    integration = create("Main").integration
    service.delete_integration(ACTOR, integration)
    assert rows() == []
    (event,) = events("external_integration.delete")
    assert event.object_label == "Main"


# Secrets at rest ---------------------------------------------------------------------------


def test_no_plaintext_key_in_the_database(database_url: str) -> None:
    keys = [stripe_key(), stripe_key(prefix="sk_live_"), stripe_key("noperm", prefix="rk_test_")]
    for number, key in enumerate(keys):
        create(f"Integration {number}", key)
    raw = db.session.execute(text("SELECT * FROM external_integrations")).all()
    audit_rows = db.session.execute(text("SELECT * FROM audit_events")).all()
    dump = repr(raw) + repr(audit_rows)
    for key in keys:
        assert key not in dump
        assert key[8:] not in dump
    if database_url.startswith("sqlite:///"):
        db.session.remove()
        db.engine.dispose()
        path = Path(database_url.removeprefix("sqlite:///"))
        data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for key in keys:
            assert key[8:].encode() not in data


def test_a_secret_encrypted_with_a_removed_key_fails_closed(database_url, fake) -> None:
    create("Main")
    other = _app_with_keys(database_url, fake, Fernet.generate_key().decode())
    with other.app_context():
        (row,) = rows()
        with pytest.raises(service.SecretUnreadable) as raised:
            reveal(row)
        assert "cannot be decrypted" in raised.value.message
        with pytest.raises(service.SecretUnreadable):
            service.verify_stored_secret(ACTOR, row, providers(), secret_box())
        assert len(fake.requests) == 1  # only the original create
        db.session.remove()
        db.engine.dispose()


def test_every_encrypted_column_is_registered_for_rotation() -> None:
    labels = [pair.label for pair in secret_service.encrypted_columns()]
    assert "external_integrations.secret_ciphertext" in labels


def _app_with_keys(database_url: str, fake: FakeStripe, keys: str) -> Flask:
    return create_app(overrides(database_url, ENCRYPTION_KEYS=keys, STRIPE_API_BASE=fake.base_url))


def test_rotation_keeps_every_secret_readable_after_the_old_key_is_removed(
    database_url: str, fake: FakeStripe
) -> None:
    keys = [stripe_key(), stripe_key(prefix="sk_live_")]
    for number, key in enumerate(keys):
        create(f"Integration {number}", key)
    before = {row.id: (row.secret_ciphertext, row.updated_at) for row in rows()}
    new = Fernet.generate_key().decode()

    rotating = _app_with_keys(database_url, fake, f"{new},{ENCRYPTION_KEY}")
    with rotating.app_context():
        report = secret_service.rotate_secrets(ACTOR, secret_box())
        assert report.rewritten["external_integrations.secret_ciphertext"] == 2
        assert secret_service.rotate_secrets(ACTOR, secret_box()).total == 0
        rotated = {row.id: (row.secret_ciphertext, row.updated_at) for row in rows()}
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "secrets.rotate")
        )
        assert event.changes["rows_rewritten"]["external_integrations.secret_ciphertext"] == 2
        db.session.remove()
        db.engine.dispose()
    for row_id, (token, updated_at) in before.items():
        assert rotated[row_id][0] != token
        assert rotated[row_id][1] == updated_at

    only_new = _app_with_keys(database_url, fake, new)
    with only_new.app_context():
        assert sorted(reveal(row) for row in rows()) == sorted(keys)
        db.session.remove()
        db.engine.dispose()


def test_rotation_refuses_and_rewrites_nothing_when_a_secret_cannot_be_decrypted(
    database_url: str, fake: FakeStripe
) -> None:
    create("Main")
    tokens = [row.secret_ciphertext for row in rows()]
    unrelated = Fernet.generate_key().decode()
    wrong = _app_with_keys(database_url, fake, unrelated)
    with wrong.app_context():
        with pytest.raises(secret_service.RotationFailed, match="nothing was rewritten"):
            secret_service.rotate_secrets(ACTOR, SecretBox([unrelated]))
        db.session.remove()
        db.engine.dispose()
    db.session.expire_all()
    assert [row.secret_ciphertext for row in rows()] == tokens


def test_the_rotate_keys_command_reports_the_rows_it_rewrote(database_url, fake) -> None:
    factories.make_external_integration("One")
    factories.make_external_integration("Two")
    new = Fernet.generate_key().decode()
    rotating = _app_with_keys(database_url, fake, f"{new},{ENCRYPTION_KEY}")
    with rotating.app_context():
        result = rotating.test_cli_runner().invoke(args=["rotate-keys"])
        assert result.exit_code == 0, result.output
        assert "external_integrations.secret_ciphertext: 2 rewritten" in result.output
        assert "Re-encrypted 2 row(s) with the newest encryption key." in result.output
        again = rotating.test_cli_runner().invoke(args=["rotate-keys"])
        assert "Re-encrypted 0 row(s)" in again.output
        db.session.remove()
        db.engine.dispose()


def test_the_rotate_keys_command_fails_clearly_without_the_old_key(database_url, fake) -> None:
    factories.make_external_integration("One")
    wrong = _app_with_keys(database_url, fake, Fernet.generate_key().decode())
    with wrong.app_context():
        result = wrong.test_cli_runner().invoke(args=["rotate-keys"])
        assert result.exit_code == 1
        assert "cannot be decrypted with any configured key" in result.output
        db.session.remove()
        db.engine.dispose()


# Logs --------------------------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_no_log_line_contains_a_secret() -> None:
    handler = _Collect()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    keys = [stripe_key(), stripe_key("denied"), stripe_key("noperm", prefix="rk_test_")]
    try:
        integration = create("Main", keys[0]).integration
        with pytest.raises(service.SecretKeyInvalid):
            update(integration, "Main", keys[1], active=True)
        update(integration, "Main", keys[2], active=True)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    assert handler.lines, "the Stripe client logs each check"
    for key in keys:
        assert not any(key in line or key[8:] in line for line in handler.lines)
