"""Stripe as an external-integration provider: secret keys `sk_`/`rk_`, test or live mode."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from portal.clients import stripe as client
from portal.providers import Outcome, Verification

# Stripe names the missing permission like 'rak_balance_read' in a 403 answer.
_PERMISSION_RE = re.compile(r"'(rak_[a-z_]+)'")


class StripeProvider:
    """Check Stripe secret keys against the Stripe API given by STRIPE_API_BASE."""

    slug = "stripe"
    label = "Stripe"

    def check_format(self, secret: str) -> str | None:
        """Return what is wrong with the key's shape, or None."""
        return client.check_key_format(secret)

    def mode(self, secret: str) -> str | None:
        """Return "Test" or "Live" from the key's prefix."""
        return client.key_mode(secret)

    def verify(self, secret: str, config: Mapping[str, Any]) -> Verification:
        """Call GET /v1/balance with the key, with the configured base URL and timeout."""
        return client.verify_secret_key(
            secret, api_base=config["STRIPE_API_BASE"], timeout=float(config["STRIPE_TIMEOUT"])
        )

    def warning(self, verification: Verification) -> str | None:
        """Name the permission a restricted key lacks, as Stripe reported it."""
        if verification.outcome is not Outcome.RESTRICTED:
            return None
        match = _PERMISSION_RE.search(verification.detail)
        missing = f"the “{match.group(1)}” permission" if match else "a permission"
        return f"Warning: this restricted key lacks {missing}. Stripe said: {verification.detail}"


PROVIDER = StripeProvider()
