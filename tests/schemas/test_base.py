"""The building blocks every input model shares: names, counts, choices and company ids."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from portal.schemas.base import (
    CompanyId,
    InputModel,
    choice,
    count_between,
    error_code,
    field_errors,
    name_text,
)
from tests.support.unicode import fullwidth


class Sample(InputModel):
    """A model with one field of each shared type."""

    name: name_text(10)
    retries: count_between(0, 9, "Retries") = 0
    colour: choice(("red", "blue"), "Choose a colour from the list.") = "red"
    company_id: CompanyId = 1


def refusal(**data: Any) -> tuple[dict[str, str], int]:
    """Return the messages and the API error code of data that must fail."""
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate({"name": "Acme", **data})
    return field_errors(raised.value), error_code(raised.value)


def test_a_name_is_tidied_and_bounded() -> None:
    assert Sample(name="  Acme   Pay ").name == "Acme Pay"
    assert refusal(name="   ") == ({"name": "Enter a name."}, 1005)
    assert refusal(name="x" * 11) == ({"name": "Name must be at most 10 characters."}, 1002)
    assert refusal(name="Ac\x00me") == ({"name": "Name contains invalid characters."}, 1004)


@pytest.mark.parametrize("value", ["x", "²", 1.5, True, "9" * 40])
def test_a_count_must_be_a_plain_whole_number(value: Any) -> None:
    assert refusal(retries=value) == (
        {"retries": "Retries must be a whole number between 0 and 9."},
        1003,
    )


def test_a_count_outside_its_bounds_names_them() -> None:
    assert Sample(name="A", retries="9").retries == 9
    assert refusal(retries=10) == ({"retries": "Retries must be between 0 and 9."}, 1002)


def test_a_choice_outside_the_list_is_refused_with_its_message() -> None:
    assert refusal(colour="green") == ({"colour": "Choose a colour from the list."}, 1002)


@pytest.mark.parametrize("value", ["abc", "²", "-1", "9" * 19, ""])
def test_a_company_id_must_be_a_plain_number(value: str) -> None:
    messages, _ = refusal(company_id=value)
    assert messages == {"company_id": "Choose a company from the list."}


@pytest.mark.parametrize(
    "name",
    ["Master\u200bcard", "Mastercard\u200b", "\u202eMastercard", "Master\u2066card", "\ufeffAcme"],
)
def test_invisible_characters_in_names_are_refused(name: str) -> None:
    assert refusal(name=name) == ({"name": "Name contains invalid characters."}, 1004)


def test_names_are_stored_in_nfkc_with_spaces_collapsed() -> None:
    assert Sample(name=fullwidth("ACME") + "   Pay").name == "ACME Pay"
