"""The outcome of asking a third party whether a secret works, shared by clients and providers."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.Enum):
    """Name the result of asking a provider whether a secret works."""

    VALID = "valid"
    INVALID = "invalid"
    RESTRICTED = "restricted"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a secret, with a detail safe to show (never the secret)."""

    outcome: Outcome
    detail: str = ""

    @property
    def saved_ok(self) -> bool:
        """Tell whether the secret may be saved (it works, perhaps with fewer permissions)."""
        return self.outcome in (Outcome.VALID, Outcome.RESTRICTED)
