"""External integrations: add, edit, delete, activate and deactivate, verifying secrets first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from portal.clients.verification import Outcome, Verification
from portal.core.crypto import SecretBox, SecretDecryptError, mask_secret
from portal.core.names import name_key
from portal.extensions import db
from portal.models import ExternalIntegration
from portal.models.base import utcnow
from portal.schemas.external_integrations import (
    ExternalIntegrationChange,
    ExternalIntegrationInput,
)
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import Conflict, DomainError, InvalidInput
from portal.services.listing import NEVER, Sort, order_by
from portal.services.listing import parse_sort as parse_sort_token
from portal.services.persistence import (
    add_audited,
    delete_audited,
    get_or_not_found,
    switch_audited,
    unique_or_conflict,
)
from portal.services.providers import Provider

OBJECT_TYPE = "ExternalIntegration"

Providers = Mapping[str, Provider]


class SecretKeyInvalid(InvalidInput):
    """The provider (or the key's shape) says the secret key does not work."""

    field = "secret"


class ProviderUnreachable(DomainError):
    """The provider could not be asked whether the key works; nothing was saved."""


class SecretUnreadable(DomainError):
    """A stored secret cannot be decrypted with the configured keys (fails closed)."""


@dataclass(frozen=True)
class Saved:
    """A saved integration and the warning to show with it, if any."""

    integration: ExternalIntegration
    warning: str | None = None


def provider_of(providers: Providers, slug: str) -> Provider:
    """Return the registered provider, or refuse a value that is not in the list."""
    provider = providers.get(slug)
    if provider is None:
        raise InvalidInput("Choose an integration from the list.", field="provider")
    return provider


#: The orders the list offers, each ending with the id so ties keep one order. A key never
#: verified sorts as the oldest verification.
SORTS = {
    "name": (ExternalIntegration.name_key, ExternalIntegration.id),
    "provider": (
        ExternalIntegration.provider,
        ExternalIntegration.name_key,
        ExternalIntegration.id,
    ),
    "status": (ExternalIntegration.active, ExternalIntegration.name_key, ExternalIntegration.id),
    "last_verified": (
        func.coalesce(ExternalIntegration.last_verified_at, NEVER),
        ExternalIntegration.id,
    ),
}
DEFAULT_SORT = "name"


def parse_sort(raw: str | None) -> Sort:
    """Read the list's sort from its URL token ("name", "-last_verified"...)."""
    return parse_sort_token(raw, SORTS, DEFAULT_SORT)


def list_integrations(sort: Sort | None = None) -> list[ExternalIntegration]:
    """Return every external integration in the sort's order (by name by default)."""
    sort = sort or parse_sort(None)
    columns = SORTS[sort.key]
    return list(
        db.session.scalars(
            select(ExternalIntegration).order_by(*order_by(columns, sort.descending))
        )
    )


def get_integration(integration_id: int) -> ExternalIntegration:
    """Return the integration or raise NotFound."""
    return get_or_not_found(
        ExternalIntegration, integration_id, "That external integration does not exist."
    )


def history(integration: ExternalIntegration) -> list:
    """Return the integration's audit events, newest first."""
    return audit.history_of(OBJECT_TYPE, integration.id)


def reveal_secret(integration: ExternalIntegration, box: SecretBox) -> str:
    """Decrypt the stored secret, or fail closed with a clear error."""
    try:
        return box.decrypt(integration.secret_ciphertext)
    except SecretDecryptError:
        raise SecretUnreadable(
            f"The secret key of “{integration.name}” cannot be decrypted with the configured "
            "encryption keys. Put back the key it was encrypted with (PORTAL_ENCRYPTION_KEYS) "
            "or enter the secret key again."
        ) from None


def invalid_key_message(detail: str) -> str:
    """Return "The secret key is invalid." followed by what is wrong, as one sentence."""
    detail = detail.rstrip(".")
    return f"The secret key is invalid. {detail[:1].upper()}{detail[1:]}."


@dataclass(frozen=True)
class SecretAttempt:
    """What the audit of a refused secret names: the action tried, on which integration."""

    action: str
    #: The integration's name as typed (or stored): the label of the audit event.
    name: str
    target: ExternalIntegration | None = None


def _record_failure(
    actor: Actor,
    provider: Provider,
    verification: str,
    attempt: SecretAttempt,
    reason: str | None = None,
) -> None:
    """Audit a secret that was refused; the failure changes nothing, so it commits alone."""
    changes = {"provider": provider.slug, "secret": audit.REDACTED, "verification": verification}
    if reason:
        changes["reason"] = reason
    audit.record_alone(
        actor,
        attempt.action,
        attempt.target,
        object_type=OBJECT_TYPE,
        object_label=attempt.name or None,
        outcome="failure",
        changes=changes,
    )


def check_secret_format(
    actor: Actor, provider: Provider, secret: str, attempt: SecretAttempt
) -> None:
    """Refuse a secret of the wrong shape, and audit the refusal: the one check of its shape."""
    problem = provider.check_format(secret)
    if problem:
        # A malformed key never reaches the provider: it could carry header-breaking bytes.
        _record_failure(actor, provider, "malformed", attempt)
        raise SecretKeyInvalid(invalid_key_message(problem))


def screen_secret(
    actor: Actor,
    providers: Providers,
    provider_slug: str | None,
    secret: str | None,
    attempt: SecretAttempt,
) -> None:
    """Check a typed secret's shape while its form is refused for other reasons.

    People fix a form in one round when every problem is named at once; the secret is checked
    (and a malformed one audited) exactly as a save would check it.
    """
    provider = providers.get(provider_slug or "")
    if provider is not None and secret and secret.strip():
        check_secret_format(actor, provider, secret.strip(), attempt)


def _verify(
    actor: Actor,
    provider: Provider,
    secret: str,
    attempt: SecretAttempt,
    not_saved: str = "The integration was not saved.",
) -> Verification:
    """Check the secret's shape, then ask the provider; audit and raise when either fails."""
    check_secret_format(actor, provider, secret, attempt)
    verification = provider.verify(secret)
    if verification.saved_ok:
        return verification
    _record_failure(actor, provider, verification.outcome.value, attempt, verification.detail)
    if verification.outcome is Outcome.INVALID:
        raise SecretKeyInvalid(invalid_key_message(verification.detail))
    raise ProviderUnreachable(
        f"{provider.label} could not be reached to verify the key ({verification.detail}). "
        f"{not_saved}"
    )


def _name_taken(name: str) -> Conflict:
    return Conflict(f"An external integration named “{name}” already exists.", field="name")


def _store_secret(
    integration: ExternalIntegration, provider: Provider, secret: str, box: SecretBox
) -> None:
    """Encrypt the secret into the row and keep its display forms next to it."""
    integration.secret_ciphertext = box.encrypt(secret)
    integration.secret_mask = mask_secret(secret)
    integration.mode = provider.mode(secret)
    integration.last_verified_at = utcnow()


def create_integration(
    actor: Actor, data: ExternalIntegrationInput, providers: Providers, box: SecretBox
) -> Saved:
    """Verify the secret with the provider, then add the integration."""
    provider = provider_of(providers, data.provider)
    secret = data.secret.get_secret_value()
    attempt = SecretAttempt("external_integration.create", data.name)
    verification = _verify(actor, provider, secret, attempt)
    integration = ExternalIntegration(
        provider=provider.slug,
        name=data.name,
        name_key=name_key(data.name),
        active=data.active,
        created_by=actor.user,
        updated_by=actor.user,
    )
    _store_secret(integration, provider, secret, box)
    add_audited(
        actor,
        integration,
        "external_integration.create",
        _name_taken(data.name),
        changes={
            "provider": provider.slug,
            "name": data.name,
            "mode": integration.mode,
            "active": data.active,
            "secret": audit.REDACTED,
            "verification": verification.outcome.value,
        },
    )
    db.session.commit()
    return Saved(integration, provider.warning(verification))


def update_integration(
    actor: Actor,
    integration: ExternalIntegration,
    data: ExternalIntegrationChange,
    providers: Providers,
    box: SecretBox,
) -> Saved:
    """Change the name, the active flag and, when a new one is given, the verified secret."""
    provider = provider_of(providers, integration.provider)
    secret = data.secret.get_secret_value() if data.secret else None
    verification = None
    if secret:
        attempt = SecretAttempt("external_integration.update", integration.name, integration)
        verification = _verify(actor, provider, secret, attempt, "The changes were not saved.")
    changes = audit.diff(
        {"name": integration.name, "active": integration.active},
        {"name": data.name, "active": data.active},
    )
    if secret and verification:
        changes["secret"] = audit.REDACTED
        changes["verification"] = verification.outcome.value
        if provider.mode(secret) != integration.mode:
            changes["mode"] = [integration.mode, provider.mode(secret)]
        _store_secret(integration, provider, secret, box)
    if not changes:
        return Saved(integration)
    integration.name = data.name
    integration.name_key = name_key(data.name)
    integration.active = data.active
    integration.updated_by = actor.user
    unique_or_conflict(_name_taken(data.name))
    audit.record(actor, "external_integration.update", integration, changes=changes)
    db.session.commit()
    return Saved(integration, provider.warning(verification) if verification else None)


def delete_integration(actor: Actor, integration: ExternalIntegration) -> None:
    """Delete the integration and its stored secret."""
    changes = {"provider": integration.provider, "name": integration.name}
    gone = "That external integration was deleted meanwhile."
    delete_audited(actor, integration, "external_integration.delete", gone, changes=changes)
    db.session.commit()


def set_active(actor: Actor, integration: ExternalIntegration, active: bool) -> None:
    """Switch the integration on or off; a switch to the current state changes nothing."""
    actions = ("external_integration.activate", "external_integration.deactivate")
    if switch_audited(actor, integration, "active", active, actions):
        integration.updated_by = actor.user
        db.session.commit()


def verify_stored_secret(
    actor: Actor, integration: ExternalIntegration, providers: Providers, box: SecretBox
) -> Saved:
    """Ask the provider again whether the stored secret works, and record when it did."""
    provider = provider_of(providers, integration.provider)
    attempt = SecretAttempt("external_integration.verify", integration.name, integration)
    verification = _verify(
        actor, provider, reveal_secret(integration, box), attempt, "Nothing was changed."
    )
    integration.last_verified_at = utcnow()
    audit.record(
        actor,
        "external_integration.verify",
        integration,
        changes={"verification": verification.outcome.value},
    )
    db.session.commit()
    return Saved(integration, provider.warning(verification))
