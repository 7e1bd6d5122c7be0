"""Domain exceptions; `portal/web/errors.py` maps them to HTTP in one place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


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


class Throttled(Exception):
    """Too many failures for this account, key or client: try again after ``retry_after`` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Violation:
    """One rule a request breaks: a pydantic-style error kind, the field's dotted path, why.

    The kind is one of the input models' error types (``not_applicable``, ``missing``,
    ``literal_error``, ``bool_type``...) plus ``entity_not_found``, so the JSON APIs give a rule
    the same error code as a malformed value of the same kind.
    """

    kind: str
    field: str
    message: str


class RulesBroken(DomainError):
    """A well-formed request that the rules refuse; every broken rule is listed."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = list(violations)
        first = self.violations[0]
        super().__init__(first.message, field=first.field)
