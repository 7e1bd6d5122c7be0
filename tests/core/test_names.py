"""Names: one tidy form to store and one key that makes them unique."""

from __future__ import annotations

import pytest

from portal.core.names import clean_name, name_key


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("  Acme  ", "Acme"), ("Acme   Pay", "Acme Pay"), ("Acme\tPay", "Acme Pay"), ("", "")],
)
def test_clean_name_trims_and_collapses_spaces(typed: str, stored: str) -> None:
    assert clean_name(typed) == stored


def test_names_that_differ_in_case_or_spacing_share_a_key() -> None:
    assert name_key("ACME  Pay") == name_key(" acme pay") == "acme pay"
    assert name_key("Straße") == name_key("STRASSE")
