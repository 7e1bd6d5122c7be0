"""Writing through unique constraints: the schema decides, a clash becomes a clear Conflict."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.services.errors import Conflict


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
