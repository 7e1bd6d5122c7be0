"""External integrations: add, edit, delete, activate and deactivate, verifying secrets first."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import providers
from portal.crypto import SecretDecryptError, mask_secret, secret_box
from portal.extensions import db
from portal.models import ExternalIntegration
from portal.models.base import utcnow
from portal.providers import Outcome, Provider, Verification
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import Conflict, DomainError, InvalidInput, NotFound

NAME_MAX_LENGTH = 100
OBJECT_TYPE = "ExternalIntegration"


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


def name_key(name: str) -> str:
    """Return the case-insensitive identity of an integration name."""
    return name.casefold()


def clean_name(name: str) -> str:
    """Return the name with runs of spaces collapsed, or refuse an empty or long one."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Enter a name.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"Name must be at most {NAME_MAX_LENGTH} characters.", field="name")
    return name


def provider_of(slug: str) -> Provider:
    """Return the registered provider, or refuse a value that is not in the list."""
    try:
        return providers.get(slug)
    except providers.UnknownProvider:
        raise InvalidInput("Choose an integration from the list.", field="provider") from None


def list_integrations() -> list[ExternalIntegration]:
    """Return every external integration, by name."""
    query = select(ExternalIntegration).order_by(ExternalIntegration.name_key)
    return list(db.session.scalars(query))


def get_integration(integration_id: int) -> ExternalIntegration:
    """Return the integration or raise NotFound."""
    integration = db.session.get(ExternalIntegration, integration_id)
    if integration is None:
        raise NotFound("That external integration does not exist.")
    return integration


def history(integration: ExternalIntegration) -> list:
    """Return the integration's audit events, newest first."""
    return audit.history_of(OBJECT_TYPE, integration.id)


def reveal_secret(integration: ExternalIntegration) -> str:
    """Decrypt the stored secret, or fail closed with a clear error."""
    try:
        return secret_box().decrypt(integration.secret_ciphertext)
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


def check_secret_format(provider_slug: str, secret: str) -> str | None:
    """Return the error for a malformed secret of a registered provider, without any network."""
    try:
        provider = providers.get(provider_slug)
    except providers.UnknownProvider:
        return None  # the provider itself is refused, with its own message
    problem = provider.check_format(secret)
    return invalid_key_message(problem) if problem else None


def record_malformed_key(
    actor: Actor, *, action: str, name: str | None, target: ExternalIntegration | None = None
) -> None:
    """Audit a key refused for its shape: a failed verification that never reached the provider."""
    audit.record_alone(
        actor,
        action,
        target,
        object_type=OBJECT_TYPE,
        object_label=name or None,
        outcome="failure",
        changes={"secret": audit.REDACTED, "verification": "malformed"},
    )


def _verify(
    actor: Actor,
    provider: Provider,
    secret: str,
    *,
    action: str,
    name: str,
    target: ExternalIntegration | None = None,
    not_saved: str = "The integration was not saved.",
) -> Verification:
    """Check the secret's shape, then ask the provider; audit and raise when it fails."""
    problem = provider.check_format(secret)
    if problem:
        # A malformed key is bad input, like an empty name: refused before any attempt.
        raise SecretKeyInvalid(invalid_key_message(problem))
    verification = provider.verify(secret, current_app.config)
    if verification.saved_ok:
        return verification
    # The failure changes nothing else, so its audit event gets a transaction of its own.
    audit.record_alone(
        actor,
        action,
        target,
        object_type=OBJECT_TYPE,
        object_label=name,
        outcome="failure",
        changes={
            "provider": provider.slug,
            "secret": audit.REDACTED,
            "verification": verification.outcome.value,
            "reason": verification.detail,
        },
    )
    if verification.outcome is Outcome.INVALID:
        raise SecretKeyInvalid(invalid_key_message(verification.detail))
    raise ProviderUnreachable(
        f"{provider.label} could not be reached to verify the key ({verification.detail}). "
        f"{not_saved}"
    )


def _flush_unique(name: str) -> None:
    """Write pending changes, turning a duplicate name into a clear error."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            f"An external integration named “{name}” already exists.", field="name"
        ) from None


def _store_secret(integration: ExternalIntegration, provider: Provider, secret: str) -> None:
    """Encrypt the secret into the row and keep its display forms next to it."""
    integration.secret_ciphertext = secret_box().encrypt(secret)
    integration.secret_mask = mask_secret(secret)
    integration.mode = provider.mode(secret)
    integration.last_verified_at = utcnow()


def create_integration(
    actor: Actor, provider: str, name: str, secret: str, *, active: bool
) -> Saved:
    """Verify the secret with the provider, then add the integration."""
    chosen = provider_of(provider)
    name = clean_name(name)
    secret = (secret or "").strip()
    if not secret:
        raise InvalidInput("Enter the secret key.", field="secret")
    verification = _verify(actor, chosen, secret, action="external_integration.create", name=name)
    integration = ExternalIntegration(
        provider=chosen.slug,
        name=name,
        name_key=name_key(name),
        active=active,
        created_by=actor.user,
        updated_by=actor.user,
    )
    _store_secret(integration, chosen, secret)
    db.session.add(integration)
    _flush_unique(name)
    audit.record(
        actor,
        "external_integration.create",
        integration,
        changes={
            "provider": chosen.slug,
            "name": name,
            "mode": integration.mode,
            "active": active,
            "secret": audit.REDACTED,
            "verification": verification.outcome.value,
        },
    )
    db.session.commit()
    return Saved(integration, chosen.warning(verification))


def update_integration(
    actor: Actor,
    integration: ExternalIntegration,
    name: str,
    secret: str | None,
    *,
    active: bool,
) -> Saved:
    """Change the name, the active flag and, when a new one is given, the verified secret."""
    provider = provider_of(integration.provider)
    name = clean_name(name)
    secret = (secret or "").strip()
    verification = None
    if secret:
        verification = _verify(
            actor,
            provider,
            secret,
            action="external_integration.update",
            name=integration.name,
            target=integration,
            not_saved="The changes were not saved.",
        )
    changes = audit.diff(
        {"name": integration.name, "active": integration.active},
        {"name": name, "active": active},
    )
    if secret:
        changes["secret"] = audit.REDACTED
        changes["verification"] = verification.outcome.value
        if provider.mode(secret) != integration.mode:
            changes["mode"] = [integration.mode, provider.mode(secret)]
        _store_secret(integration, provider, secret)
    if not changes:
        return Saved(integration)
    integration.name = name
    integration.name_key = name_key(name)
    integration.active = active
    integration.updated_by = actor.user
    _flush_unique(name)
    audit.record(actor, "external_integration.update", integration, changes=changes)
    db.session.commit()
    return Saved(integration, provider.warning(verification) if verification else None)


def delete_integration(actor: Actor, integration: ExternalIntegration) -> None:
    """Delete the integration and its stored secret."""
    audit.record(
        actor,
        "external_integration.delete",
        integration,
        changes={"provider": integration.provider, "name": integration.name},
    )
    db.session.delete(integration)
    db.session.commit()


def _set_active(actor: Actor, integration: ExternalIntegration, active: bool) -> None:
    """Switch the integration on or off; a switch to the current state changes nothing."""
    if integration.active == active:
        return
    integration.active = active
    integration.updated_by = actor.user
    action = "external_integration.activate" if active else "external_integration.deactivate"
    audit.record(actor, action, integration)
    db.session.commit()


def activate(actor: Actor, integration: ExternalIntegration) -> None:
    """Let the platform use the integration."""
    _set_active(actor, integration, True)


def deactivate(actor: Actor, integration: ExternalIntegration) -> None:
    """Stop the platform using the integration, keeping its settings."""
    _set_active(actor, integration, False)


def verify_stored_secret(actor: Actor, integration: ExternalIntegration) -> Saved:
    """Ask the provider again whether the stored secret works, and record when it did."""
    provider = provider_of(integration.provider)
    secret = reveal_secret(integration)
    verification = _verify(
        actor,
        provider,
        secret,
        action="external_integration.verify",
        name=integration.name,
        target=integration,
        not_saved="Nothing was changed.",
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
