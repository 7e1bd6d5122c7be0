"""Domain errors of the services as the JSON APIs answer them: seed 002's codes and pointers."""

from __future__ import annotations

from portal.api.body import field_pointer
from portal.api.errors import (
    INVALID_REQUEST,
    NOT_ALLOWED_VALUE,
    NOT_APPLICABLE,
    NOT_FOUND,
    ApiError,
    Problem,
)
from portal.schemas.base import code_for_type
from portal.services.errors import Conflict, DomainError, InvalidInput, NotFound, RulesBroken
from portal.services.idempotency import KeyReused

#: The most fundamental code of several names the refusal (as for malformed bodies).
PRECEDENCE = (1005, 1001, 1006, 1003, 1004, 1002, 1007)


def code_of(kind: str) -> int:
    """Return the seed 002 code of a violated rule's kind."""
    return NOT_FOUND if kind == "entity_not_found" else code_for_type(kind)


def _with_field(field: str | None, message: str) -> tuple[str, str]:
    """Return the pointer of a field and the message prefixed with it ("name: ...")."""
    where = field_pointer(field)
    return where, f"{where.lstrip('/')}: {message}" if where else message


def from_domain_error(error: DomainError) -> ApiError:
    """Return the API's refusal of a domain error."""
    if isinstance(error, RulesBroken):
        problems = [
            Problem(code_of(v.kind), field_pointer(v.field), v.message) for v in error.violations
        ]
        codes = {problem.code for problem in problems}
        code = next((c for c in PRECEDENCE if c in codes), INVALID_REQUEST)
        first = next(problem for problem in problems if problem.code == code)
        return ApiError(422, code, first.message, problems)
    if isinstance(error, NotFound) and not error.field:
        # Something named in the path: 404, and never a hint whether it exists elsewhere.
        return ApiError(404, NOT_FOUND, error.message, [Problem(NOT_FOUND, "", error.message)])
    if isinstance(error, NotFound):
        code = NOT_FOUND
    elif isinstance(error, KeyReused):
        code = NOT_APPLICABLE
    elif isinstance(error, Conflict | InvalidInput):
        code = NOT_ALLOWED_VALUE
    else:
        code = INVALID_REQUEST
    where, message = _with_field(error.field, error.message)
    return ApiError(422, code, message, [Problem(code, where, message)])
