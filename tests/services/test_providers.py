"""The providers of external integrations: a literal mapping, Stripe first."""

from __future__ import annotations

from portal.clients.stripe import StripeClient
from portal.clients.verification import Outcome, Verification
from portal.services.providers import build_providers


def providers():
    return build_providers(StripeClient("http://127.0.0.1:9", 1.0))


def test_stripe_is_offered_under_its_slug_and_label() -> None:
    stripe = providers()["stripe"]
    assert (stripe.slug, stripe.label) == ("stripe", "Stripe")


def test_the_stripe_key_shape_and_mode_come_from_the_key() -> None:
    stripe = providers()["stripe"]
    assert stripe.check_format("sk_live_" + "a" * 24) is None
    assert stripe.check_format("pk_live_" + "a" * 24) == "It must start with sk_ or rk_."
    assert stripe.mode("rk_live_" + "a" * 24) == "Live"


def test_a_restricted_key_warns_with_the_missing_permission() -> None:
    stripe = providers()["stripe"]
    detail = "Having the 'rak_balance_read' permission would allow this request to continue."
    warning = stripe.warning(Verification(Outcome.RESTRICTED, detail))
    assert warning.startswith("Warning: this restricted key lacks the “rak_balance_read”")
    assert stripe.warning(Verification(Outcome.VALID)) is None
