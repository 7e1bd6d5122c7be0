"""Tell which fields a call refused, whether the input model or the service said no."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from portal.schemas.base import field_errors
from portal.services.errors import DomainError


def refused_fields(call: Callable[[], object]) -> set[str]:
    """Run a call that must be refused; return the fields the refusal names."""
    with pytest.raises((ValidationError, DomainError)) as raised:
        call()
    if isinstance(raised.value, ValidationError):
        return set(field_errors(raised.value))
    return {raised.value.field or "__all__"}


def refusal_message(call: Callable[[], object]) -> str:
    """Run a call that must be refused; return its message(s), as a form would show them."""
    with pytest.raises((ValidationError, DomainError)) as raised:
        call()
    if isinstance(raised.value, ValidationError):
        return " ".join(field_errors(raised.value).values())
    return raised.value.message
