"""Sign-in, setup and password forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.services.passwords import MAX_LENGTH, MIN_LENGTH

PASSWORD_RULES = [
    DataRequired(message="Enter a password."),
    Length(
        min=MIN_LENGTH,
        max=MAX_LENGTH,
        message=f"Password must be between {MIN_LENGTH} and {MAX_LENGTH} characters.",
    ),
]


def confirm_field(label: str = "Confirm password") -> PasswordField:
    """Return the field where the password is typed a second time."""
    return PasswordField(
        label,
        validators=[
            DataRequired(message="Type the password again."),
            EqualTo("password", message="The passwords do not match."),
        ],
    )


def email_field() -> EmailField:
    """Return the e-mail field every account form uses."""
    return EmailField(
        "Email",
        validators=[
            DataRequired(message="Enter an e-mail address."),
            Length(max=254, message="E-mail must be at most 254 characters."),
            Email(message="Enter a valid e-mail address.", check_deliverability=False),
        ],
    )


class SignInForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("Email", validators=[DataRequired(message="Enter your e-mail address.")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])


class SetupForm(FlaskForm):
    """The first administrator's e-mail and password, typed twice."""

    email = email_field()
    password = PasswordField("Password", validators=PASSWORD_RULES)
    confirm = confirm_field()


class PasswordChangeForm(FlaskForm):
    """The current password and the new one, typed twice."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired(message="Enter your current password.")]
    )
    password = PasswordField("New password", validators=PASSWORD_RULES)
    confirm = confirm_field("Confirm new password")
