"""Record audit events and read them back with filters and keyset pagination."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from portal.extensions import db
from portal.models import CHAIN_HEAD_ID, GENESIS_HASH, AuditChainHead, AuditEvent
from portal.models.base import utcnow
from portal.services.actor import Actor

REDACTED = "[redacted]"
# Field names whose values never reach the audit trail.
SECRET_FIELDS = frozenset(
    {
        "password",
        "password_hash",
        "secret",
        "secret_key",
        "api_key",
        "api_secret",
        "shared_secret",
        "token",
        "key",
    }
)


def redact(changes: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the changes with every secret value replaced by a marker."""
    if changes is None:
        return None
    return {name: REDACTED if name in SECRET_FIELDS else value for name, value in changes.items()}


def record(
    actor: Actor,
    action: str,
    target: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    object_label: str | None = None,
    outcome: str = "success",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the current transaction; the caller commits it with its change."""
    if target is not None:
        object_type = object_type or type(target).__name__
        object_id = object_id if object_id is not None else getattr(target, "id", None)
        object_label = object_label or audit_label(target)
    event = AuditEvent(
        created_at=utcnow(),
        actor_id=actor.user_id,
        actor_label=actor.label,
        ip=actor.ip,
        action=action,
        object_type=object_type or "",
        object_id=None if object_id is None else str(object_id),
        object_label=object_label,
        outcome=outcome,
        changes=redact(changes),
    )
    _chain(event)
    return event


def _chain(event: AuditEvent) -> None:
    """Link the event to the newest one and move the chain's head to it.

    Locking the head row first (an UPDATE) serialises writers until they commit, on PostgreSQL
    (row lock) and SQLite (write lock) alike, so every event links to the one committed before.
    """
    locked = db.session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == CHAIN_HEAD_ID)
        .values(last_id=AuditChainHead.last_id)
        .returning(AuditChainHead.last_hash)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    event.prev_hash = locked
    event.hash = event_hash(event, locked)
    db.session.add(event)
    db.session.flush()
    db.session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == CHAIN_HEAD_ID)
        .values(last_id=event.id, last_hash=event.hash)
        .execution_options(synchronize_session=False)
    )


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    """Return the SHA-256 of the previous hash and the event's content, canonically encoded."""
    content = {
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "ip": event.ip,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_label": event.object_label,
        "outcome": event.outcome,
        "changes": event.changes,
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}:{encoded}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """What verify-audit found: how many events it checked and the first broken link."""

    checked: int
    broken_at: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """Tell whether every link held."""
        return self.broken_at is None


def _events_in_order(batch: int = 1000) -> Iterator[AuditEvent]:
    """Yield every event, oldest first, a batch at a time."""
    last_id = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)
        rows = list(db.session.scalars(query.limit(batch)))
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        db.session.expunge_all()


def verify_chain() -> ChainReport:
    """Walk the chain from the first event; report the first event whose link is broken."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    for event in _events_in_order():
        if event.prev_hash != expected_prev:
            problem = "does not link to the event before it (one was removed or inserted)"
            return ChainReport(checked, event.id, problem)
        if event_hash(event, event.prev_hash) != event.hash:
            return ChainReport(checked, event.id, "was changed after it was recorded")
        expected_prev, last_id = event.hash, event.id
        checked += 1
    head = db.session.get(AuditChainHead, CHAIN_HEAD_ID)
    if head is None or head.last_hash != expected_prev:
        return ChainReport(checked, last_id or None, "is not the newest event: later ones are gone")
    return ChainReport(checked)


def record_alone(actor: Actor, action: str, target: Any = None, **fields: Any) -> None:
    """Write one audit event in its own transaction (for outcomes that change nothing else)."""
    record(actor, action, target, **fields)
    db.session.commit()


def audit_label(target: Any) -> str | None:
    """Return a human name for the object of an event."""
    for attribute in ("name", "email", "public_id"):
        value = getattr(target, attribute, None)
        if value:
            return str(value)[:255]
    return None


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Return {field: [old, new]} for the fields whose value changed."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log page narrows the events to."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of events, newest first, and the cursor of the next page."""

    events: list[AuditEvent]
    next_cursor: int | None


def list_events(
    filters: AuditFilter, *, before_id: int | None = None, limit: int = 50
) -> AuditPage:
    """Return a page of events matching the filters, newest first (keyset on id)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if filters.actor:
        query = query.where(AuditEvent.actor_label == filters.actor)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.since:
        query = query.where(AuditEvent.created_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.created_at < filters.until)
    rows = list(db.session.scalars(query))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return AuditPage(events=rows[:limit], next_cursor=next_cursor)


def distinct_values(column: str) -> list[str]:
    """Return the distinct values of an event column, for filter drop-downs."""
    attribute = getattr(AuditEvent, column)
    return list(db.session.scalars(select(attribute).distinct().order_by(attribute)))


def history_of(object_type: str, object_id: Any, limit: int = 50) -> list[AuditEvent]:
    """Return the newest events about one object."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


# How the audit log names what happened. Codes stay in the database and the URL (filters);
# people read these. An action not listed here is named from its code ("flexcharge_profile
# .update" reads "FlexCharge profile updated"), so a new feature's events read well at once.
OBJECT_NAMES = {
    "ApiKey": "API key",
    "AutoRetry": "Auto-retry",
    "Company": "Company",
    "Connection": "Connection",
    "Customer": "Customer",
    "Delivery": "FlexCharge delivery",
    "ExternalIntegration": "External integration",
    "FlexCharge": "FlexCharge merchant",
    "FlexChargeSite": "FlexCharge site",
    "Flow": "Flow",
    "Integration": "Integration",
    "User": "User",
}
ACTION_NAMES = {
    "auth.sign_in": "Sign-in",
    "auth.sign_out": "Sign-out",
    "setup.complete": "Portal set up",
    "secrets.rotate": "Encryption keys rotated",
    "settings.update": "Account settings changed",
    "user.change_role": "User role changed",
    "user.change_password": "Password changed",
    "api_key.generate": "API key generated",
    "auto_retry.add": "Auto-retry added",
    "flexcharge.profiles": "FlexCharge profiles changed",
    "flexcharge.credentials": "FlexCharge credentials saved",
    "flexcharge.webhook": "FlexCharge webhook received",
}
VERBS = {
    "create": "added",
    "add": "added",
    "generate": "generated",
    "update": "updated",
    "rename": "renamed",
    "delete": "deleted",
    "activate": "activated",
    "deactivate": "deactivated",
    "enable": "switched on",
    "disable": "switched off",
    "retry": "retried",
    "verify": "key verified",
}
#: Actions whose changes record values as they were set, not [before, after] pairs.
SNAPSHOT_VERBS = frozenset({"create", "add", "generate", "delete", "complete", "verify"})
OUTCOMES = {
    "success": ("Success", "success"),
    "failure": ("Failed", "danger"),
    "throttled": ("Throttled", "warning"),
}
#: Words the code spells in lower case that people write otherwise.
SPELLINGS = {"api": "API", "flexcharge": "FlexCharge", "flexpay": "FlexPay", "id": "ID", "ip": "IP"}


def humanize(code: str) -> str:
    """Turn a code ("api_key", "flexcharge.site", "ExternalIntegration") into words ("API key")."""
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in code)
    spaced = spaced.replace("_", " ").replace(".", " ")
    words = [SPELLINGS.get(word, word) for word in spaced.split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def object_name(object_type: str) -> str:
    """Name an object type for people ("ExternalIntegration" -> "External integration")."""
    return OBJECT_NAMES.get(object_type) or humanize(object_type)


def action_name(
    action: str, changes: dict[str, Any] | None = None, providers: dict[str, str] | None = None
) -> str:
    """Name an action for people: "Stripe integration added", "API key deleted"."""
    # The verb is the last part: "flexcharge.site.enable" is the FlexCharge site, switched on.
    subject, _, verb = action.rpartition(".")
    if not subject:
        return humanize(action)
    provider = (changes or {}).get("provider") if subject == "external_integration" else None
    if isinstance(provider, str) and provider:
        label = (providers or {}).get(provider) or humanize(provider)
        return f"{label} integration {VERBS.get(verb, humanize(verb).lower())}"
    if action in ACTION_NAMES:
        return ACTION_NAMES[action]
    return f"{humanize(subject)} {VERBS.get(verb, humanize(verb).lower())}".strip()


def outcome_name(outcome: str) -> tuple[str, str]:
    """Return the outcome's label and its badge kind (success, danger, warning, neutral)."""
    return OUTCOMES.get(outcome, (humanize(outcome), "neutral"))


@dataclass(frozen=True)
class Change:
    """One field of an event's changes: its name, and its value before and after (as text)."""

    field: str
    before: str | None
    after: str


def show_value(value: Any) -> str:
    """Render a recorded value for reading: Yes/No, a dash for nothing, lists joined."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(show_value(item) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{key}={show_value(item)}" for key, item in value.items()) or "—"
    return str(value)


def changes_of(event: AuditEvent) -> list[Change]:
    """Return an event's changes as rows: before -> after for an update, the value otherwise."""
    verb = event.action.partition(".")[2]
    pairs = verb not in SNAPSHOT_VERBS
    rows = []
    for name, value in (event.changes or {}).items():
        if pairs and isinstance(value, list) and len(value) == 2:
            rows.append(Change(humanize(name), show_value(value[0]), show_value(value[1])))
        else:
            rows.append(Change(humanize(name), None, show_value(value)))
    return rows
