"""The audit trail is append-only and never holds secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.extensions import db
from portal.models import GENESIS_HASH, AuditEvent
from portal.models.audit import AuditTrailIsAppendOnly
from portal.services import audit
from portal.services.actor import Actor
from tests.support.concurrency import run_concurrently

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


def record_events(count: int) -> list[int]:
    """Record events in their own transactions; return their ids."""
    ids = []
    for number in range(count):
        event = audit.record(
            Actor.system(), "thing.change", object_type="Thing", changes={"n": number}
        )
        db.session.commit()
        ids.append(event.id)
    return ids


def without_triggers(statement: str, **params) -> None:
    """Run SQL with the append-only triggers out of the way, as an intruder with DDL could."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        connection.execute(text(statement), params)
        connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    else:
        triggers = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _ in triggers:
            connection.execute(text(f"DROP TRIGGER {name}"))
        connection.execute(text(statement), params)
        for _, sql in triggers:
            connection.execute(text(sql))
    db.session.commit()
    db.session.expire_all()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'thing.forged'",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_to_change_or_delete_events(app_context, statement: str) -> None:
    record_events(2)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert audit.verify_chain().checked == 2


def test_each_event_links_to_the_one_before_and_the_chain_verifies(app_context) -> None:
    first, second, third = record_events(3)
    events = [db.session.get(AuditEvent, event_id) for event_id in (first, second, third)]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert audit.verify_chain() == audit.ChainReport(checked=3)


def test_a_changed_event_is_found(app_context) -> None:
    ids = record_events(4)
    without_triggers(
        "UPDATE audit_events SET actor_label = 'someone else' WHERE id = :id", id=ids[2]
    )
    report = audit.verify_chain()
    assert (report.broken_at, report.checked) == (ids[2], 2)
    assert "changed" in report.problem


def test_a_removed_event_is_found(app_context) -> None:
    ids = record_events(4)
    without_triggers("DELETE FROM audit_events WHERE id = :id", id=ids[1])
    assert audit.verify_chain().broken_at == ids[2]


def test_a_removed_newest_event_is_found(app_context) -> None:
    ids = record_events(3)
    without_triggers("DELETE FROM audit_events WHERE id = :id", id=ids[2])
    report = audit.verify_chain()
    assert (report.broken_at, report.checked) == (ids[1], 2)


def test_concurrent_writers_extend_one_chain(app: Flask) -> None:
    def work(number: int) -> int:
        event = audit.record(Actor.system(), "thing.change", object_type="Thing", object_id=number)
        db.session.commit()
        return event.id

    results = run_concurrently(app, 8, work)
    assert all(isinstance(result, int) for result in results), results
    with app.app_context():
        assert audit.verify_chain() == audit.ChainReport(checked=8)


def test_verify_audit_reports_the_first_broken_link(app: Flask, runner) -> None:
    with app.app_context():
        ids = record_events(3)
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 0
    assert "intact: 3 event(s) checked" in result.output
    with app.app_context():
        without_triggers("UPDATE audit_events SET outcome = 'failure' WHERE id = :id", id=ids[1])
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 1
    assert f"broken at event #{ids[1]}: it was changed after it was recorded" in result.output


def test_actions_objects_and_outcomes_are_named_for_people() -> None:
    providers = {"stripe": "Stripe"}
    added = audit.action_name("external_integration.create", {"provider": "stripe"}, providers)
    assert added == "Stripe integration added"
    assert audit.action_name("api_key.generate") == "API key generated"
    assert audit.action_name("connection.update") == "Connection updated"
    assert audit.action_name("auth.sign_in") == "Sign-in"
    # A new feature's codes read well before anyone names them here.
    assert audit.action_name("flexcharge_profile.switch_off") == "FlexCharge profile switch off"
    assert audit.action_name("flexcharge.site.disable") == "FlexCharge site switched off"
    assert audit.action_name("flexcharge.delivery.retry") == "FlexCharge delivery retried"
    assert audit.action_name("odd") == "Odd"
    assert audit.object_name("ExternalIntegration") == "External integration"
    assert audit.object_name("FlexChargeSite") == "FlexCharge site"
    assert audit.object_name("ApiKey") == "API key"
    assert audit.outcome_name("failure") == ("Failed", "danger")
    assert audit.outcome_name("odd_thing") == ("Odd thing", "neutral")


def test_every_action_the_portal_records_reads_as_words() -> None:
    """No dotted code written in the services shows its dots or underscores to people."""
    services = Path(audit.__file__).resolve().parent
    codes = {
        match.group(1)
        for source in services.glob("*.py")
        for match in re.finditer(r'"([a-z_]+(?:\.[a-z_]+)+)"', source.read_text())
    }
    assert {"flexcharge.site.create", "flexcharge.delivery.retry", "api_key.generate"} <= codes
    for code in codes:
        name = audit.action_name(code)
        assert "." not in name and "_" not in name, (code, name)


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
