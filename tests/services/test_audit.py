"""The audit trail is append-only and never holds secrets."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import AuditEvent
from portal.models.audit import AuditTrailIsAppendOnly
from portal.services import audit
from portal.services.actor import Actor

pytestmark = pytest.mark.services


def test_secrets_are_redacted(app_context) -> None:
    event = audit.record(
        Actor.system(),
        "thing.change",
        object_type="Thing",
        changes={"name": ["a", "b"], "password": "hunter2hunter2", "secret_key": "sk_live_x"},
    )
    db.session.commit()
    stored = db.session.get(AuditEvent, event.id).changes
    assert stored == {"name": ["a", "b"], "password": "[redacted]", "secret_key": "[redacted]"}


def test_events_cannot_be_changed_or_deleted(app_context) -> None:
    event = audit.record(Actor.system(), "thing.change", object_type="Thing")
    db.session.commit()
    event.action = "thing.forged"
    with pytest.raises(AuditTrailIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AuditTrailIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_times_are_utc_aware(app_context) -> None:
    event = audit.record(Actor.system(), "thing.change", object_type="Thing")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(AuditEvent, event.id).created_at.utcoffset().total_seconds() == 0


def test_actions_objects_and_outcomes_are_named_for_people() -> None:
    providers = {"stripe": "Stripe"}
    added = audit.action_name("external_integration.create", {"provider": "stripe"}, providers)
    assert added == "Stripe integration added"
    assert audit.action_name("api_key.generate") == "API key generated"
    assert audit.action_name("connection.update") == "Connection updated"
    assert audit.action_name("auth.sign_in") == "Sign-in"
    # A new feature's codes read well before anyone names them here.
    assert audit.action_name("flexcharge_profile.switch_off") == "FlexCharge profile switch off"
    assert audit.object_name("ExternalIntegration") == "External integration"
    assert audit.object_name("ApiKey") == "API key"
    assert audit.outcome_name("failure") == ("Failed", "danger")
    assert audit.outcome_name("odd_thing") == ("Odd thing", "neutral")


def test_changes_read_as_before_and_after_with_plain_values() -> None:
    update = AuditEvent(
        action="connection.update",
        changes={"name": ["A", "B"], "test_mode": [True, False], "password": "[redacted]"},
    )
    rows = audit.changes_of(update)
    assert [(row.field, row.before, row.after) for row in rows] == [
        ("Name", "A", "B"),
        ("Test mode", "Yes", "No"),
        ("Password", None, "[redacted]"),
    ]
    # A create records the values it set: a two-item list is a value, not a before/after.
    create = AuditEvent(
        action="flow.create", changes={"transaction_types": ["refund", "payout"], "x": None}
    )
    assert [(row.before, row.after) for row in audit.changes_of(create)] == [
        (None, "refund, payout"),
        (None, "—"),
    ]
