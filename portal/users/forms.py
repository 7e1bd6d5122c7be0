"""Forms to create users and change their role."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from portal.auth.forms import PASSWORD_RULES, confirm_field, email_field
from portal.models import Role

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]


def role_field() -> SelectField:
    """Return the role select; unknown values posted by hand fail validation."""
    return SelectField(
        "Role",
        choices=ROLE_CHOICES,
        default=Role.VIEWER.value,  # least privilege unless the admin chooses more
        validate_choice=True,
        validators=[DataRequired(message="Choose a role.")],
    )


class UserCreateForm(FlaskForm):
    """A new user's e-mail, role and initial password."""

    email = email_field()
    role = role_field()
    password = PasswordField("Password", validators=PASSWORD_RULES)
    confirm = confirm_field()


class RoleForm(FlaskForm):
    """Another role for an existing user."""

    role = role_field()
