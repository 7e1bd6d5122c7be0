"""Form helpers shared by every feature."""

from __future__ import annotations

from flask_wtf import FlaskForm

from portal.services.errors import DomainError


def attach_error(form: FlaskForm, error: DomainError, default_field: str | None = None) -> None:
    """Show a domain error next to its field (or on the form when it has none)."""
    name = error.field or default_field
    field = getattr(form, name, None) if name else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
