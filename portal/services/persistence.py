"""Writing through unique constraints: the schema decides, a clash becomes a clear Conflict."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, delete, inspect, update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import Conflict, NotFound

T = TypeVar("T")


def get_or_not_found(model: type[T], key: Any, message: str) -> T:
    """Return the row with this primary key, or raise NotFound with the message."""
    row = db.session.get(model, key)
    if row is None:
        raise NotFound(message)
    return row


def one_or_not_found(statement: Select, message: str) -> Any:
    """Return the one row a scoped query finds, or raise NotFound with the message."""
    row = db.session.scalar(statement)
    if row is None:
        raise NotFound(message)
    return row


def unique_or_conflict(conflict: Conflict | Callable[[], Conflict]) -> None:
    """Flush pending changes; when a constraint refuses them, roll back and raise the Conflict.

    A callable is called after the rollback, so it may query the database to explain the clash.
    """
    # Never check-then-insert: two requests can both pass a check, only the schema is atomic.
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise (conflict() if callable(conflict) else conflict) from None


def add_audited(
    actor: Actor,
    row: T,
    action: str,
    conflict: Conflict | Callable[[], Conflict],
    **audit_fields: Any,
) -> T:
    """Add a new row and its audit event to the transaction; a clash raises the Conflict.

    The caller commits, so the row and its event are written together or not at all.
    """
    db.session.add(row)
    unique_or_conflict(conflict)
    audit.record(actor, action, row, **audit_fields)
    return row


def switch_audited(
    actor: Actor,
    row: Any,
    flag: str,
    on: bool,
    actions: tuple[str, str],
    **audit_fields: Any,
) -> bool:
    """Turn a row's on/off flag and record the (on, off) action; return whether it changed.

    A switch to the state the row already has records nothing. The caller commits.
    """
    if getattr(row, flag) == on:
        return False
    setattr(row, flag, on)
    audit.record(actor, actions[0] if on else actions[1], row, **audit_fields)
    return True


def delete_audited(
    actor: Actor,
    row: Any,
    action: str,
    gone_message: str,
    *,
    in_use: Conflict | None = None,
    **audit_fields: Any,
) -> None:
    """Delete the row and record its audit event, or raise NotFound when it is already gone.

    Two people deleting the same thing at once: the DELETE that finds no row means the other
    won, so this one records nothing (an audit "success" must mean something was deleted).
    A foreign key that refuses the delete raises ``in_use``. The caller commits.
    """
    model = type(row)
    (key,) = inspect(model).primary_key
    audit.record(actor, action, row, **audit_fields)
    statement = delete(model).where(key == getattr(row, key.key))
    try:
        deleted = db.session.execute(statement.execution_options(synchronize_session=False))
    except IntegrityError:
        db.session.rollback()
        raise (in_use or Conflict("It is in use and cannot be deleted.")) from None
    if deleted.rowcount != 1:
        db.session.rollback()
        raise NotFound(gone_message)
    db.session.expunge(row)


def lock_row(row: Any) -> None:
    """Take the row's write lock for the rest of the transaction, then re-read it.

    A no-op UPDATE of the row locks it on PostgreSQL and takes SQLite's database write lock
    (which pysqlite only asks for at the first write), so a concurrent read-modify-write of the
    same row waits for this transaction instead of overwriting it; the refresh then reads what
    the previous writer committed.
    """
    table = type(row).__table__
    (primary_key,) = table.primary_key.columns
    key = getattr(row, primary_key.key)
    values: dict = {primary_key: primary_key}
    if "updated_at" in table.c:
        # Taking a lock is not an edit: without this the column's onupdate would move it.
        values[table.c.updated_at] = table.c.updated_at
    db.session.execute(update(table).where(primary_key == key).values(values))
    db.session.refresh(row)
