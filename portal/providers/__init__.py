"""The registry of external-integration providers: each module in this package adds one.

Adding a provider is one module here that defines `PROVIDER`, an object with the attributes and
methods of `Provider`; the add form's list, the services and the list page all read the registry.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Mapping
from functools import cache
from importlib import import_module
from typing import Any, Protocol

from portal.clients.verification import Outcome, Verification

__all__ = ["Outcome", "Provider", "UnknownProvider", "Verification", "get", "registry"]


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

    def verify(self, secret: str, config: Mapping[str, Any]) -> Verification:
        """Ask the provider, with one cheap read-only call, whether the secret works."""

    def warning(self, verification: Verification) -> str | None:
        """Return the warning to show for a secret that works with restrictions."""


class UnknownProvider(LookupError):
    """No provider is registered under that slug."""


@cache
def registry() -> dict[str, Provider]:
    """Return every registered provider by slug, in label order."""
    found: list[Provider] = []
    for module in pkgutil.iter_modules(__path__):
        provider = getattr(import_module(f"{__name__}.{module.name}"), "PROVIDER", None)
        if provider is not None:
            found.append(provider)
    return {provider.slug: provider for provider in sorted(found, key=lambda p: p.label)}


def get(slug: str) -> Provider:
    """Return the provider registered under the slug, or raise UnknownProvider."""
    try:
        return registry()[slug]
    except KeyError:
        raise UnknownProvider(slug) from None


def choices() -> list[tuple[str, str]]:
    """Return (slug, label) pairs for a select of the available providers."""
    return [(provider.slug, provider.label) for provider in registry().values()]


def label_of(slug: str) -> str:
    """Return the provider's label, or the raw slug for a provider no longer registered."""
    provider = registry().get(slug)
    return provider.label if provider else slug
