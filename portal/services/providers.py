"""The providers an external integration can use, and what the portal knows about each.

Adding a provider is one class here and one entry in ``build_providers``: the add form's list,
the services and the pages all read the mapping it returns.
"""

from __future__ import annotations

import re
from typing import Protocol

from portal.clients import stripe
from portal.clients.verification import Outcome, Verification

# Stripe names the missing permission like 'rak_balance_read' in a 403 answer.
_PERMISSION_RE = re.compile(r"'(rak_[a-z_]+)'")


class Provider(Protocol):
    """What the portal needs to know about a provider."""

    #: Stored in the database and posted by the form, e.g. "stripe".
    slug: str
    #: Shown to people, e.g. "Stripe".
    label: str

    def check_format(self, secret: str) -> str | None:
        """Return None for a well-formed secret, else what is wrong with it (no network)."""

    def mode(self, secret: str) -> str | None:
        """Return the mode the secret works in ("Test", "Live"), if the provider has modes."""

    def verify(self, secret: str) -> Verification:
        """Ask the provider, with one cheap read-only call, whether a well-formed secret works."""

    def warning(self, verification: Verification) -> str | None:
        """Return the warning to show for a secret that works with restrictions."""


class StripeProvider:
    """Stripe secret keys `sk_`/`rk_`, in test or live mode, checked against Stripe's API."""

    slug = "stripe"
    label = "Stripe"

    def __init__(self, client: stripe.StripeClient) -> None:
        """Use the client configured with STRIPE_API_BASE and its timeouts."""
        self.client = client

    def check_format(self, secret: str) -> str | None:
        """Return what is wrong with the key's shape, or None."""
        return stripe.check_key_format(secret)

    def mode(self, secret: str) -> str | None:
        """Return "Test" or "Live" from the key's prefix."""
        return stripe.key_mode(secret)

    def verify(self, secret: str) -> Verification:
        """Call GET /v1/balance with the key."""
        return self.client.verify_secret_key(secret)

    def warning(self, verification: Verification) -> str | None:
        """Name the permission a restricted key lacks, as Stripe reported it."""
        if verification.outcome is not Outcome.RESTRICTED:
            return None
        match = _PERMISSION_RE.search(verification.detail)
        missing = f"the “{match.group(1)}” permission" if match else "a permission"
        return f"Warning: this restricted key lacks {missing}. Stripe said: {verification.detail}"


def build_providers(stripe_client: stripe.StripeClient) -> dict[str, Provider]:
    """Return every provider by slug, in the order the add form lists them."""
    return {"stripe": StripeProvider(stripe_client)}
