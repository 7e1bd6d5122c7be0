"""Environments: every API key and auto-retry belongs to Production or Sandbox."""

from __future__ import annotations

from portal.models.base import LabelledEnum


class Environment(LabelledEnum):
    """Where an API key or rule acts: live money or the test sandbox."""

    PRODUCTION = "production"
    SANDBOX = "sandbox"


def environment_check(column: str = "environment") -> str:
    """Return the SQL condition that keeps a column to the known environments."""
    values = ", ".join(f"'{member.value}'" for member in Environment)
    return f"{column} IN ({values})"
