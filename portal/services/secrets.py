"""Secrets at rest: every encrypted column, and re-encrypting them with the newest key.

The registry is the schema itself: a model marks a column with `info=ENCRYPTED`
(portal.models.ENCRYPTED) and `rotate-keys` picks it up, so a new kind of secret joins rotation
by declaring its column, with no list to keep in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Column, Table, select, update

from portal.core.crypto import SecretBox, SecretDecryptError
from portal.extensions import db
from portal.models import Base
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import DomainError


class RotationFailed(DomainError):
    """A stored secret cannot be decrypted with any configured key; nothing was rewritten."""


@dataclass(frozen=True)
class EncryptedColumn:
    """One (model, column) pair that stores Fernet tokens."""

    model: type
    column: str

    @property
    def table(self) -> Table:
        """Return the model's table."""
        return self.model.__table__

    @property
    def label(self) -> str:
        """Return "table.column", as reports show it."""
        return f"{self.table.name}.{self.column}"


@dataclass
class RotationReport:
    """How many rows of each encrypted column were rewritten."""

    rewritten: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Return the number of rows rewritten in all."""
        return sum(self.rewritten.values())


def encrypted_columns() -> list[EncryptedColumn]:
    """Return every column marked as encrypted, ordered by table and column."""
    found = [
        EncryptedColumn(mapper.class_, column.key)
        for mapper in Base.registry.mappers
        for column in mapper.local_table.columns
        if column.info.get("encrypted")
    ]
    return sorted(found, key=lambda pair: pair.label)


def _rotate_column(pair: EncryptedColumn, box: SecretBox) -> int:
    """Re-encrypt the column's tokens that are not on the newest key; return rows rewritten."""
    table = pair.table
    column: Column = table.c[pair.column]
    (primary_key,) = table.primary_key.columns
    rows = db.session.execute(select(primary_key, column).where(column.is_not(None))).all()
    rewritten = 0
    for row_id, token in rows:
        if box.is_current(token):
            continue
        try:
            new_token = box.rotate(token)
        except SecretDecryptError:
            db.session.rollback()
            raise RotationFailed(
                f"{pair.label} of row {row_id} cannot be decrypted with any configured key, "
                "so nothing was rewritten. Add the key it was encrypted with to "
                "PORTAL_ENCRYPTION_KEYS (after the new one) and run rotate-keys again."
            ) from None
        values: dict = {column: new_token}
        if "updated_at" in table.c:
            # Re-encrypting is not an edit: the row keeps its "updated" time.
            values[table.c.updated_at] = table.c.updated_at
        # Matching the old token skips a row someone re-saved meanwhile (already newest key).
        statement = update(table).where(primary_key == row_id, column == token).values(values)
        rewritten += db.session.execute(statement).rowcount
    return rewritten


def rotate_secrets(actor: Actor, box: SecretBox) -> RotationReport:
    """Re-encrypt every stored secret with the newest key, all rows or none."""
    report = RotationReport()
    for pair in encrypted_columns():
        report.rewritten[pair.label] = _rotate_column(pair, box)
    if report.total:
        audit.record(
            actor,
            "secrets.rotate",
            object_type="EncryptionKeys",
            changes={"rows_rewritten": report.rewritten},
        )
    db.session.commit()
    return report
