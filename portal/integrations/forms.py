"""Forms of the Integrations section: API keys and auto-retries."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.models import AutoRetryStatus, Company, Environment
from portal.services.validation import NAME_MAX_LENGTH

ENVIRONMENT_CHOICES = [
    SelectChoice(environment.value, environment.label) for environment in Environment
]
STATUS_CHOICES = [SelectChoice(status.value, status.label) for status in AutoRetryStatus]


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def name_field() -> StringField:
    """Return the required, bounded name field."""
    return StringField(
        "Name",
        filters=[_strip],
        validators=[
            DataRequired(message="Enter a name."),
            Length(
                max=NAME_MAX_LENGTH,
                message=f"Name must be at most {NAME_MAX_LENGTH} characters.",
            ),
        ],
    )


# The services refuse companies, environments and statuses outside the lists, so the forms
# do not duplicate that rule (validate_choice=False) and the messages come from one place.
def company_field() -> SelectField:
    """Return the company select (choices are the account's companies)."""
    return SelectField("Company", validate_choice=False)


def environment_field() -> SelectField:
    """Return the Production / Sandbox select."""
    return SelectField("Environment", choices=ENVIRONMENT_CHOICES, validate_choice=False)


def status_field() -> SelectField:
    """Return the Active / Inactive select."""
    return SelectField("Status", choices=STATUS_CHOICES, validate_choice=False)


def company_choices(companies: list[Company]) -> list[SelectChoice]:
    """Return the companies as select options."""
    return [SelectChoice(str(company.id), company.name) for company in companies]


class ApiKeyForm(FlaskForm):
    """A new API key's name, company and environment."""

    name = name_field()
    company = company_field()
    environment = environment_field()


class AutoRetryForm(FlaskForm):
    """A new auto-retry's name, company, environment and status."""

    name = name_field()
    company = company_field()
    environment = environment_field()
    status = status_field()


class AutoRetryEditForm(FlaskForm):
    """What can change on an existing auto-retry: its name and status."""

    name = name_field()
    status = status_field()
