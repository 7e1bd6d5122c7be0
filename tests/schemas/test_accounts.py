"""Account input models: e-mail addresses, new passwords typed twice, roles."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from portal.schemas.accounts import PasswordChangeInput, SetupInput, SignInInput, UserInput
from portal.schemas.base import field_errors

PASSWORD = "correct horse battery staple"


def messages(model, **data) -> dict[str, str]:
    """Return the form messages of data that must fail."""
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    return field_errors(raised.value)


def test_setup_stores_the_email_in_lower_case_and_keeps_the_password_secret() -> None:
    data = SetupInput(email=" Ops@Example.COM ", password=PASSWORD, confirm=PASSWORD)
    assert data.email == "ops@example.com"
    assert PASSWORD not in repr(data)


def test_the_confirmation_must_match() -> None:
    assert messages(SetupInput, email="a@b.io", password=PASSWORD, confirm=PASSWORD + "!") == {
        "confirm": "The passwords do not match."
    }


def test_every_missing_field_says_what_to_type() -> None:
    assert messages(UserInput, email="", password="", confirm="") == {
        "email": "Enter an e-mail address.",
        "password": "Enter a password.",
        "confirm": "Type the password again.",
    }
    assert messages(SignInInput, email=" ", password="") == {
        "email": "Enter your e-mail address.",
        "password": "Enter your password.",
    }


@pytest.mark.parametrize(
    ("email", "message"),
    [("not-an-email", "Enter a valid e-mail address."), ("a" * 250 + "@x.io", "at most 254")],
)
def test_bad_addresses_are_refused(email: str, message: str) -> None:
    assert message in messages(UserInput, email=email, password=PASSWORD, confirm=PASSWORD)["email"]


def test_passwords_are_12_to_256_characters_without_composition_rules() -> None:
    between = {"password": "Password must be between 12 and 256 characters."}
    assert (
        messages(PasswordChangeInput, current_password="x", password="short", confirm="short")
        == between
    )
    assert PasswordChangeInput(current_password="x", password="a" * 256, confirm="a" * 256)


def test_roles_come_from_the_list() -> None:
    assert messages(
        UserInput, email="a@b.io", password=PASSWORD, confirm=PASSWORD, role="owner"
    ) == {"role": "Choose a role from the list."}
