"""Input models of people's accounts: first-run setup, sign-in, users, roles and passwords."""

from __future__ import annotations

from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, SecretStr, ValidationInfo, field_validator

from portal.core.passwords import MAX_LENGTH, MIN_LENGTH
from portal.models import Role
from portal.schemas.base import InputModel, choice, explained, required, single_line

EMAIL_MAX = 254


def _well_formed_email(value: str) -> str:
    """Refuse an over-long or malformed address; keep it as stored (trimmed, lower case)."""
    if len(value) > EMAIL_MAX:
        raise explained("string_too_long", f"E-mail must be at most {EMAIL_MAX} characters.")
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise explained("value_error", "Enter a valid e-mail address.") from None
    return value.strip().lower()


def _new_password(value: SecretStr) -> SecretStr:
    """Refuse passwords outside the length bounds (no composition rules, per OWASP)."""
    if not MIN_LENGTH <= len(value.get_secret_value()) <= MAX_LENGTH:
        raise explained(
            "string_too_short" if len(value.get_secret_value()) < MIN_LENGTH else "string_too_long",
            f"Password must be between {MIN_LENGTH} and {MAX_LENGTH} characters.",
        )
    return value


def _as_secret(value: Any) -> Any:
    """Read a typed password as a secret that never shows in a repr or on a page."""
    return SecretStr(value) if isinstance(value, str) else value


Email = Annotated[
    str,
    required("Enter an e-mail address."),
    AfterValidator(single_line),
    AfterValidator(_well_formed_email),
]
# Before-validators run last-listed first: `required` comes last so it sees the raw text.
NewPassword = Annotated[
    SecretStr,
    AfterValidator(_new_password),
    BeforeValidator(_as_secret),
    required("Enter a password."),
]
RoleChoice = choice((role.value for role in Role), "Choose a role from the list.")


class _Confirmed(InputModel):
    """A new password typed twice; the second must match the first."""

    @field_validator("confirm", check_fields=False)
    @classmethod
    def _matches(cls, confirm: SecretStr, info: ValidationInfo) -> SecretStr:
        """Refuse a confirmation that differs from the password."""
        password = info.data.get("password")
        if password is not None and confirm.get_secret_value() != password.get_secret_value():
            raise explained("value_error", "The passwords do not match.")
        return confirm


Confirmation = Annotated[
    SecretStr, BeforeValidator(_as_secret), required("Type the password again.")
]


class Credentials(InputModel):
    """An e-mail address and a new password."""

    email: Email
    password: NewPassword


class SetupInput(Credentials, _Confirmed):
    """The first administrator: e-mail and password, typed twice."""

    confirm: Confirmation


class NewUser(Credentials):
    """A user an administrator (or the `create-user` command) creates, with a role."""

    role: RoleChoice = Role.VIEWER.value  # least privilege unless the admin chooses more


class UserInput(NewUser, _Confirmed):
    """The Add user form: e-mail, role, and the initial password typed twice."""

    confirm: Confirmation


class RoleInput(InputModel):
    """Another role for an existing user."""

    role: RoleChoice


class SignInInput(InputModel):
    """E-mail and password, as typed on the sign-in page."""

    email: Annotated[str, AfterValidator(single_line), required("Enter your e-mail address.")]
    password: Annotated[SecretStr, BeforeValidator(_as_secret), required("Enter your password.")]


class PasswordChangeInput(_Confirmed):
    """The current password and the new one, typed twice."""

    current_password: Annotated[
        SecretStr, BeforeValidator(_as_secret), required("Enter your current password.")
    ]
    password: NewPassword
    confirm: Confirmation
