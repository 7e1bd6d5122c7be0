"""Forms to add and edit external integrations."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal import providers
from portal.services.external_integrations import NAME_MAX_LENGTH, check_secret_format


def _strip(value):
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


def provider_choices() -> list[tuple[str, str]]:
    """Return the select's options: a prompt, then every registered provider."""
    return [("", "Choose an integration"), *providers.choices()]


def name_field() -> StringField:
    """Return the integration's name field."""
    return StringField(
        "Name",
        filters=[_strip],
        render_kw={"maxlength": NAME_MAX_LENGTH},
        validators=[
            DataRequired(message="Enter a name."),
            Length(
                max=NAME_MAX_LENGTH,
                message=f"Name must be at most {NAME_MAX_LENGTH} characters.",
            ),
        ],
    )


class IntegrationCreateForm(FlaskForm):
    """A new integration: provider, name, secret key and whether it is active."""

    # The service refuses values missing from the registry, so one rule covers every caller.
    provider = SelectField(
        "Integration",
        choices=provider_choices,
        validate_choice=False,
        validators=[DataRequired(message="Choose an integration from the list.")],
    )
    name = name_field()
    secret = PasswordField(
        "Secret key",
        filters=[_strip],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
        validators=[DataRequired(message="Enter the secret key.")],
    )
    active = BooleanField("Active")

    #: Set when validation refused the key for its shape (the view audits that failure).
    malformed_secret = False

    def validate_secret(self, field: PasswordField) -> None:
        """Refuse a malformed key next to the field, alongside any other error of the form."""
        problem = check_secret_format(self.provider.data or "", field.data or "")
        if problem:
            self.malformed_secret = True
            raise ValidationError(problem)


class IntegrationEditForm(FlaskForm):
    """Changes to an integration; an empty secret key keeps the stored one."""

    #: The integration's provider, whose key format a new secret must have (set by the view).
    provider_slug = ""

    name = name_field()
    secret = PasswordField(
        "Secret key",
        filters=[_strip],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
        validators=[Optional()],
    )
    active = BooleanField("Active")

    #: Set when validation refused the new key for its shape (the view audits that failure).
    malformed_secret = False

    def validate_secret(self, field: PasswordField) -> None:
        """Refuse a malformed new key next to the field."""
        problem = field.data and check_secret_format(self.provider_slug, field.data)
        if problem:
            self.malformed_secret = True
            raise ValidationError(problem)
