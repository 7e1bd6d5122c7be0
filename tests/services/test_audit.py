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
