"""The account settings form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField


class AccountSettingsForm(FlaskForm):
    """Account-wide switches."""

    scheduler_enabled = BooleanField("Scheduler enabled")
