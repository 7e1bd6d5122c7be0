"""Public identifiers shown to people and API clients instead of database keys.

A public id is a two-letter prefix followed by six groups of four digits, for example
``ME-1234-1234-1234-1234-1234-1234`` for a customer and ``CO-...`` for a connection
(seed 002). Twenty-four random digits give about 80 bits, so ids cannot be guessed and
collisions are left to the database's unique constraint.
"""

import re
import secrets

CUSTOMER_PREFIX = "ME"
CONNECTION_PREFIX = "CO"

GROUP_COUNT = 6
GROUP_LENGTH = 4

_PREFIX_RE = re.compile(r"[A-Z]{2}")
# [0-9] rather than \d: \d also matches non-ASCII digits such as Arabic-Indic ones.
_BODY = "".join(rf"-[0-9]{{{GROUP_LENGTH}}}" for _ in range(GROUP_COUNT))


def _check_prefix(prefix: str) -> None:
    """Refuse a prefix that is not two upper-case ASCII letters."""
    if not isinstance(prefix, str) or not _PREFIX_RE.fullmatch(prefix):
        raise ValueError(f"public id prefix must be two upper-case letters, got {prefix!r}")


def new_public_id(prefix: str) -> str:
    """Return a new random public id such as ``CO-0421-9932-1187-5560-0034-7815``."""
    _check_prefix(prefix)
    groups = (
        "".join(str(secrets.randbelow(10)) for _ in range(GROUP_LENGTH)) for _ in range(GROUP_COUNT)
    )
    return "-".join((prefix, *groups))


def is_public_id(value: str, prefix: str) -> bool:
    """Tell whether ``value`` is a well-formed public id with the given prefix."""
    _check_prefix(prefix)
    if not isinstance(value, str):
        return False
    return re.fullmatch(re.escape(prefix) + _BODY, value) is not None


def prefix_range(text: str, prefix: str) -> tuple[str, str] | None:
    """Return the bounds [low, high) of the ids with that prefix that start with the text.

    The text is upper-cased, so "me-12" finds ``ME-12...``. None when no such id can start with
    it (it is not the beginning of ``ME-1234-...``), so a search for "acme" need not look at
    ids at all. Ids compare as plain bytes, so the range is one seek on an index over them.
    """
    _check_prefix(prefix)
    upper = text.upper()
    shape = prefix + "".join("-" + "0" * GROUP_LENGTH for _ in range(GROUP_COUNT))
    if not upper or len(upper) > len(shape):
        return None
    for typed, expected in zip(upper, shape, strict=False):
        if not (typed == expected or (expected == "0" and typed in "0123456789")):
            return None
    return upper, upper[:-1] + chr(ord(upper[-1]) + 1)
