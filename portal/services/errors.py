"""Domain exceptions; `portal/web/errors.py` maps them to HTTP in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the rule violations a user can cause; the message is safe to show."""

    #: The form field the error belongs to, when it belongs to one.
    field: str | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class NotFound(DomainError):
    """The object does not exist, or not within the caller's scope."""


class PermissionDenied(DomainError):
    """The actor may not do this."""


class Conflict(DomainError):
    """The change would break a uniqueness or integrity rule."""


class InvalidInput(DomainError):
    """A value breaks a rule the form could not check."""
