"""Environments: every API key and auto-retry belongs to Production or Sandbox."""

from __future__ import annotations

import enum


class Environment(enum.StrEnum):
    """Where an API key or rule acts: live money or the test sandbox."""

    PRODUCTION = "production"
    SANDBOX = "sandbox"

    @property
    def label(self) -> str:
        """Return the name shown in the UI."""
        return self.value.capitalize()


def environment_check(column: str = "environment") -> str:
    """Return the SQL condition that keeps a column to the known environments."""
    values = ", ".join(f"'{member.value}'" for member in Environment)
    return f"{column} IN ({values})"
