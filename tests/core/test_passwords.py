"""Password hashing: argon2id, and a missing account's check costing a verification too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from portal.core import passwords


@pytest.fixture
def cheap_hashes() -> Iterator[None]:
    """Use the test suite's lowest argon2id costs, and put the module back afterwards."""
    saved = passwords._hasher, passwords._dummy_hash
    passwords.configure(1, 8, 1)
    yield
    passwords._hasher, passwords._dummy_hash = saved


def test_the_stand_in_hash_is_made_on_the_first_verification_not_before(cheap_hashes) -> None:
    assert passwords._dummy_hash is None
    assert passwords.verify_password(None, "any password at all") is False
    stand_in = passwords.stand_in_hash()
    assert PasswordHasher().check_needs_rehash(stand_in) is True  # made with today's costs
    assert passwords.needs_rehash(stand_in) is False
    assert passwords.stand_in_hash() is stand_in


def test_a_real_hash_still_verifies_and_a_wrong_password_does_not(cheap_hashes) -> None:
    stored = passwords.hash_password("correct horse battery")
    assert passwords.verify_password(stored, "correct horse battery") is True
    assert passwords.verify_password(stored, "wrong horse battery") is False
    # The first check in a process makes the stand-in, whether the account exists or not.
    assert passwords._dummy_hash is not None
