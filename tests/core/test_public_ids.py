"""Tests for public identifiers (``ME-...`` customers, ``CO-...`` connections)."""

import re

import pytest

from portal.core.public_ids import (
    CONNECTION_PREFIX,
    CUSTOMER_PREFIX,
    is_public_id,
    new_public_id,
    prefix_range,
)

SEED_CUSTOMER_ID = "ME-1234-1234-1234-1234-1234-1234"
SEED_CONNECTION_ID = "CO-4321-4321-4321-4321-4321-4321"


def test_prefixes_match_the_seed() -> None:
    """Use the seed's prefixes for customers and connections."""
    assert CUSTOMER_PREFIX == "ME"
    assert CONNECTION_PREFIX == "CO"


@pytest.mark.parametrize("prefix", [CUSTOMER_PREFIX, CONNECTION_PREFIX])
def test_new_public_id_has_the_seed_shape(prefix: str) -> None:
    """Produce the prefix and six groups of four digits."""
    value = new_public_id(prefix)
    assert re.fullmatch(rf"{prefix}(-[0-9]{{4}}){{6}}", value)
    assert is_public_id(value, prefix)


def test_new_public_ids_differ() -> None:
    """Draw fresh randomness for every id."""
    assert len({new_public_id(CONNECTION_PREFIX) for _ in range(200)}) == 200


@pytest.mark.parametrize("prefix", ["", "co", "C", "COX", "C1", "C-"])
def test_new_public_id_refuses_a_malformed_prefix(prefix: str) -> None:
    """Refuse prefixes that are not two upper-case letters."""
    with pytest.raises(ValueError, match="prefix"):
        new_public_id(prefix)


def test_is_public_id_accepts_the_seed_examples() -> None:
    """Accept the ids printed in seed 002."""
    assert is_public_id(SEED_CUSTOMER_ID, CUSTOMER_PREFIX)
    assert is_public_id(SEED_CONNECTION_ID, CONNECTION_PREFIX)


@pytest.mark.parametrize(
    "value",
    [
        "ME-1234-1234-1234-1234-1234-1234",  # another kind's prefix
        "co-1234-1234-1234-1234-1234-1234",
        "CO-1234-1234-1234-1234-1234",  # five groups
        "CO-1234-1234-1234-1234-1234-1234-1234",  # seven groups
        "CO-1234-1234-1234-1234-1234-123",
        "CO-1234-1234-1234-1234-1234-12345",
        "CO-1234-1234-1234-1234-1234-12a4",
        "CO-1234-1234-1234-1234-1234-\u0661\u0662\u0663\u0664",  # non-ASCII digits
        " CO-1234-1234-1234-1234-1234-1234",
        "CO-1234-1234-1234-1234-1234-1234\n",
        "CO12341234123412341234123412341234",
        "",
    ],
)
def test_is_public_id_refuses_malformed_values(value: str) -> None:
    """Refuse anything but the exact shape with the expected prefix."""
    assert not is_public_id(value, CONNECTION_PREFIX)


def test_is_public_id_refuses_non_strings() -> None:
    """Answer False rather than raise for values of the wrong type."""
    assert not is_public_id(None, CONNECTION_PREFIX)  # type: ignore[arg-type]
    assert not is_public_id(1234, CONNECTION_PREFIX)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("M", ("M", "N")),
        ("me", ("ME", "MF")),
        ("me-12", ("ME-12", "ME-13")),
        ("ME-1234-1", ("ME-1234-1", "ME-1234-2")),
        (SEED_CUSTOMER_ID.lower(), (SEED_CUSTOMER_ID, SEED_CUSTOMER_ID[:-1] + "5")),
    ],
)
def test_prefix_range_bounds_the_ids_that_start_with_the_text(text, bounds) -> None:
    """Give [low, high): every id starting with the text, upper-cased, and no other."""
    assert prefix_range(text, CUSTOMER_PREFIX) == bounds
    low, high = bounds
    assert low <= SEED_CUSTOMER_ID < high


@pytest.mark.parametrize(
    "text",
    ["", "acme", "CO-1", "ME1", "ME-12345", "ME-١٢", " ME", "ME-1%", SEED_CUSTOMER_ID + "0"],
)
def test_prefix_range_is_none_when_no_id_can_start_with_the_text(text) -> None:
    """Say None for text that no customer id begins with, so no index need be read."""
    assert prefix_range(text, CUSTOMER_PREFIX) is None
