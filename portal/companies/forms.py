"""Company name form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class CompanyForm(FlaskForm):
    """A company's name."""

    name = StringField(
        "Name",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(message="Enter a name."),
            Length(max=100, message="Name must be at most 100 characters."),
        ],
    )
