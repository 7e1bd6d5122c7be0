"""One way to read an HTML form: an input model validates it, each error goes next to its control.

Every form of the portal is parsed by a pydantic input model from ``portal/schemas/`` (the same
models validate the JSON APIs), and shown again from a ``Form``: the values typed, one message
per control, and the valid input when there is one. The field macros in
``templates/_fields.html`` render a ``Form``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import request
from pydantic import BaseModel, SecretStr, ValidationError
from werkzeug.datastructures import MultiDict

from portal.schemas.base import NON_FIELD_KEY, field_errors
from portal.services.errors import DomainError

M = TypeVar("M", bound=BaseModel)

RETYPE_MESSAGE = "Enter it again: a secret is never sent back to the page."


@dataclass
class Form(Generic[M]):
    """A form as the page shows it: the values typed, the errors found, and the valid input."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    model: M | None = None
    #: Keeps the ids of two forms on one page apart ("rename-" gives "field-rename-name").
    prefix: str = ""

    @property
    def valid(self) -> bool:
        """Tell whether the input passed every check."""
        return self.model is not None and not self.errors

    @property
    def form_error(self) -> str | None:
        """Return the message that belongs to the whole form rather than one control."""
        return self.errors.get(NON_FIELD_KEY)

    def refuse(self, error: DomainError, default_field: str | None = "name") -> None:
        """Show a rule a service refused next to its control (or above the form)."""
        self.errors[error.field or default_field or NON_FIELD_KEY] = error.message
        self.model = None

    def control_id(self, name: str) -> str:
        """Return the DOM id of a control, e.g. "field-company-id"."""
        return f"field-{self.prefix}{name}".replace("_", "-")

    def value(self, name: str, default: Any = "") -> Any:
        """Return the value to show in a control."""
        value = self.values.get(name)
        return default if value is None else value


def text(posted: MultiDict, name: str, current: Any = "") -> Any:
    """Read a text control; a control missing from the post keeps its current value."""
    return posted.get(name, current)


def flag(posted: MultiDict, name: str, current: bool = False) -> bool:
    """Read a switch; a control missing from the post keeps its current value.

    An unchecked checkbox posts nothing, so each one travels with a hidden empty companion
    of the same name: [""] is unchecked, ["", "y"] checked, and no value at all means the
    control was not on the form, which must not turn the flag off.
    """
    posted_values = posted.getlist(name)
    return any(posted_values) if posted_values else current


def choices(posted: MultiDict, name: str, current: Iterable[str]) -> list[str]:
    """Read a group of checkboxes (with its hidden companion) like ``flag`` reads one."""
    posted_values = posted.getlist(name)
    return [value for value in posted_values if value] if posted_values else list(current)


def top_level(path: str) -> str:
    """Return the control an error path belongs to in a flat form (its first part)."""
    return path.split(".")[0]


def validate(
    model: type[M],
    data: Mapping[str, Any],
    values: dict[str, Any],
    *,
    control: Callable[[str], str] = top_level,
    prefix: str = "",
) -> Form[M]:
    """Validate data with the model; put each error on the control it belongs to."""
    form: Form[M] = Form(values=values, prefix=prefix)
    try:
        form.model = model.model_validate(dict(data))
    except ValidationError as exc:
        for path, message in field_errors(exc).items():
            form.errors.setdefault(control(path), message)
    return form


def ask_to_retype(form: Form, typed_secrets: Iterable[str]) -> Form:
    """Mark every secret the user typed as "enter it again" on a refused form.

    Secrets are never sent back to the page, so an empty field on the next save would
    silently keep the old one; saying so is the only honest answer.
    """
    if form.errors:
        for name in typed_secrets:
            form.errors.setdefault(name, RETYPE_MESSAGE)
    return form


def _is_secret(annotation: Any) -> bool:
    """Tell whether a model field holds a secret (never shown again)."""
    return annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())


def read(
    model: type[M],
    posted: MultiDict | None = None,
    *,
    current: Mapping[str, Any] | None = None,
    prefix: str = "",
) -> Form[M]:
    """Read a flat form whose controls are named after the model's fields.

    Switches (boolean fields) travel with a hidden companion (see ``flag``); a control the
    post does not carry keeps its current value. Secret fields are validated but never put
    back into the values shown (see ``ask_to_retype`` for forms that say so).
    """
    posted = request.form if posted is None else posted
    current = current or {}
    data: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.annotation is bool:
            data[name] = values[name] = flag(posted, name, bool(current.get(name, False)))
        elif _is_secret(info.annotation):
            data[name] = text(posted, name, None)
        elif name in posted or name in current:
            data[name] = values[name] = text(posted, name, current.get(name))
    return validate(model, data, values, prefix=prefix)


def shown(values: Mapping[str, Any] | None = None, *, prefix: str = "") -> Form:
    """Return a form to show before anything is posted, filled with the given values."""
    return Form(values=dict(values or {}), prefix=prefix)
