"""Who performs a service call: a user (or the system) and where the request came from."""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import User


@dataclass(frozen=True)
class Actor:
    """The author of a change, as the audit trail records it."""

    user: User | None
    ip: str | None = None
    label_override: str | None = None

    @property
    def label(self) -> str:
        """Return the name the audit trail shows for the actor."""
        if self.label_override:
            return self.label_override
        return self.user.email if self.user else "system"

    @property
    def user_id(self) -> int | None:
        """Return the acting user's id, if a user acts."""
        return self.user.id if self.user else None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        """Return the actor for command-line and background work."""
        return cls(user=None, ip=None, label_override=label)
