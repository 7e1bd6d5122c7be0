"""FlexCharge onboarding of a merchant: the switch, the profiles, the credentials, the sites.

Seed 001's "Onboarding" and "Multiprofile": FlexCharge is enabled per merchant in the UI by an
admin or editor (the tab shows who and when); "CIT - website", "CIT - call center" and "MIT"
are each Off, Sandbox or Production, independently; a credential set per environment is
verified with FlexCharge (POST /oauth2/token) before it is saved; sites can be switched one by
one. Every change writes one audit event.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.clients.flexcharge import (
    ENVIRONMENT_LABELS,
    AccessToken,
    Failure,
    FlexChargeError,
)
from portal.core.crypto import mask_secret
from portal.core.names import name_key
from portal.extensions import db
from portal.models import (
    Customer,
    Environment,
    FlexChargeCredentials,
    FlexChargeSettings,
    FlexChargeSite,
    Profile,
    ProfileMode,
)
from portal.models.base import utcnow
from portal.schemas.flexcharge import CredentialsChange, ProfilesInput, SiteInput, site_host
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import Conflict, DomainError, InvalidInput, NotFound
from portal.services.flexcharge_access import FlexCharge, remember_token, reveal
from portal.services.persistence import get_or_not_found, switch_audited, unique_or_conflict

OBJECT_TYPE = "FlexCharge"


class CredentialsRefused(InvalidInput):
    """FlexCharge refused the App key and App secret; nothing was saved."""

    field = "app_secret"


class FlexChargeUnreachable(DomainError):
    """FlexCharge could not be asked whether the credentials work; nothing was saved."""


@dataclass(frozen=True)
class MerchantSetup:
    """Everything the FlexCharge tab shows about a merchant."""

    settings: FlexChargeSettings | None
    credentials: dict[str, FlexChargeCredentials]
    sites: list[FlexChargeSite]

    @property
    def enabled(self) -> bool:
        """Tell whether FlexCharge is switched on for the merchant."""
        return bool(self.settings and self.settings.enabled)

    def mode(self, profile: Profile) -> ProfileMode:
        """Return a profile's mode (Off until set)."""
        return self.settings.mode(profile) if self.settings else ProfileMode.OFF


def setup_of(customer: Customer) -> MerchantSetup:
    """Return the merchant's FlexCharge settings, credentials and sites."""
    credentials = db.session.scalars(
        select(FlexChargeCredentials).where(FlexChargeCredentials.customer_id == customer.id)
    )
    return MerchantSetup(
        settings=db.session.get(FlexChargeSettings, customer.id),
        credentials={row.environment: row for row in credentials},
        sites=list_sites(customer),
    )


def _settings_for_change(customer: Customer) -> FlexChargeSettings:
    """Return the merchant's settings row, adding it (all profiles Off) on first change."""
    settings = db.session.get(FlexChargeSettings, customer.id)
    if settings is None:
        settings = FlexChargeSettings(
            customer_id=customer.id,
            enabled=False,
            cit_website=ProfileMode.OFF.value,
            cit_call_center=ProfileMode.OFF.value,
            mit=ProfileMode.OFF.value,
        )
        db.session.add(settings)
        # Two first changes at once: the primary key lets one in, the other tries again.
        unique_or_conflict(Conflict("Someone else changed these settings meanwhile. Try again."))
    return settings


def set_enabled(actor: Actor, customer: Customer, enabled: bool) -> bool:
    """Switch FlexCharge on or off for the merchant; return whether anything changed."""
    settings = _settings_for_change(customer)
    if settings.enabled == enabled:
        db.session.commit()
        return False
    settings.enabled = enabled
    if enabled:
        settings.enabled_at = utcnow()
        settings.enabled_by_label = actor.label
    action = "flexcharge.enable" if enabled else "flexcharge.disable"
    audit.record(
        actor,
        action,
        customer,
        object_type=OBJECT_TYPE,
        object_id=customer.public_id,
        changes={"enabled": [not enabled, enabled]},
    )
    db.session.commit()
    return True


def set_profiles(actor: Actor, customer: Customer, data: ProfilesInput) -> dict:
    """Set the three profiles at once; each is independent of the others."""
    settings = _settings_for_change(customer)
    before = {profile.value: getattr(settings, profile.value) for profile in Profile}
    after = {profile.value: getattr(data, profile.value) for profile in Profile}
    changes = audit.diff(before, after)
    if not changes:
        db.session.commit()
        return {}
    for name, value in after.items():
        setattr(settings, name, value)
    audit.record(
        actor,
        "flexcharge.profiles",
        customer,
        object_type=OBJECT_TYPE,
        object_id=customer.public_id,
        changes={Profile(name).label: pair for name, pair in changes.items()},
    )
    db.session.commit()
    return changes


def _verify(
    actor: Actor,
    customer: Customer,
    fc: FlexCharge,
    environment: str,
    app_key: str,
    app_secret: str,
) -> AccessToken:
    """Ask FlexCharge for a token with the credentials; audit and raise when it refuses."""
    where = ENVIRONMENT_LABELS[environment]
    # Nothing is pending here: the check runs outside any database transaction.
    db.session.commit()
    try:
        token = fc.client.fetch_token(environment, app_key, app_secret)
    except FlexChargeError as error:
        refused = error.failure is Failure.REJECTED and error.status in (400, 401, 403)
        audit.record_alone(
            actor,
            "flexcharge.credentials",
            customer,
            object_type=OBJECT_TYPE,
            object_id=customer.public_id,
            outcome="failure",
            changes={
                "environment": environment,
                "app_secret": audit.REDACTED,
                "verification": "refused" if refused else error.failure.value,
                "reason": error.message,
            },
        )
        if refused:
            raise CredentialsRefused(
                f"{where} refused the App key and App secret ({error.status}). "
                "Check them in FlexCharge's portal (Developers > API keys)."
            ) from None
        raise FlexChargeUnreachable(
            f"{where} could not verify the credentials: {_reason(error)}. "
            "The credentials were not saved."
        ) from None
    return token


def _reason(error: FlexChargeError) -> str:
    """Return the failure in a few words for a sentence ("it refused the connection")."""
    labels = ENVIRONMENT_LABELS.values()
    prefix = next((label for label in labels if error.message.startswith(label)), "")
    return "it" + error.message[len(prefix) :] if prefix else error.message


def save_credentials(
    actor: Actor,
    customer: Customer,
    environment: str,
    data: CredentialsChange,
    fc: FlexCharge,
) -> FlexChargeCredentials:
    """Verify a credential set with FlexCharge, then save it; empty secrets keep the stored."""
    environment = Environment(environment).value
    existing = db.session.scalar(
        select(FlexChargeCredentials).where(
            FlexChargeCredentials.customer_id == customer.id,
            FlexChargeCredentials.environment == environment,
        )
    )
    typed_secret = data.app_secret.get_secret_value() if data.app_secret else None
    if typed_secret is None and existing is None:
        raise InvalidInput("Enter the App secret.", field="app_secret")
    app_secret = typed_secret or reveal(fc.box, existing.app_secret_encrypted, "App secret") or ""
    token = _verify(actor, customer, fc, environment, data.app_key, app_secret)

    row = db.session.scalar(
        select(FlexChargeCredentials).where(
            FlexChargeCredentials.customer_id == customer.id,
            FlexChargeCredentials.environment == environment,
        )
    )
    before = _public_fields(row) if row else {}
    if row is None:
        row = FlexChargeCredentials(customer_id=customer.id, environment=environment)
        db.session.add(row)
    row.mid = data.mid
    row.app_key = data.app_key
    row.site_id = data.site_id
    changes = audit.diff(before, _public_fields(row))
    for name, value in (
        ("app_secret", typed_secret),
        ("tokenization_key", _typed(data.tokenization_key)),
        ("webhook_key", _typed(data.webhook_key)),
    ):
        if value:
            setattr(row, f"{name}_encrypted", fc.box.encrypt(value))
            setattr(row, f"{name}_mask", mask_secret(value))
            changes[name] = audit.REDACTED
    row.verified_at = utcnow()
    unique_or_conflict(
        Conflict("Someone else saved these credentials meanwhile. Reload and try again.")
    )
    audit.record(
        actor,
        "flexcharge.credentials",
        customer,
        object_type=OBJECT_TYPE,
        object_id=customer.public_id,
        changes={"environment": environment, **changes, "verification": "valid"},
    )
    db.session.commit()
    # The verification's token serves the first calls too (reference A.2: reuse tokens).
    remember_token(fc.box, row.id, token.value, token.expires_at)
    return row


def _typed(secret) -> str | None:
    """Return a typed secret's value, or None when the field was left empty."""
    return secret.get_secret_value() if secret else None


def _public_fields(row: FlexChargeCredentials) -> dict:
    """Return the credential fields an audit event may show."""
    return {"mid": row.mid, "app_key": row.app_key, "site_id": row.site_id}


# Sites ------------------------------------------------------------------------------------


def list_sites(customer: Customer) -> list[FlexChargeSite]:
    """Return the merchant's sites by URL."""
    query = (
        select(FlexChargeSite)
        .where(FlexChargeSite.customer_id == customer.id)
        .order_by(FlexChargeSite.host, FlexChargeSite.id)
    )
    return list(db.session.scalars(query))


def get_site(customer: Customer, site_id: int) -> FlexChargeSite:
    """Return a site of the merchant, or NotFound (another merchant's site included)."""
    site = get_or_not_found(FlexChargeSite, site_id, "That site does not exist.")
    if site.customer_id != customer.id:
        raise NotFound("That site does not exist.")
    return site


def _site_clash(customer: Customer, data: SiteInput, site_id: int | None) -> Conflict:
    """Explain which unique rule a site broke: its URL's host or its descriptor."""
    host = site_host(data.url)
    query = select(FlexChargeSite).where(
        FlexChargeSite.customer_id == customer.id, FlexChargeSite.id != (site_id or 0)
    )
    for other in db.session.scalars(query):
        if other.host == host:
            return Conflict(f"The site {other.url} already has the host {host}.", field="url")
        if other.descriptor_key == name_key(data.descriptor):
            return Conflict(
                f"The site {other.url} already has the descriptor “{other.descriptor}”.",
                field="descriptor",
            )
    return Conflict("The site could not be saved. Try again.", field="url")


def _site_fields(site: FlexChargeSite) -> dict:
    """Return what an audit event records of a site."""
    return {
        "url": site.url,
        "descriptor": site.descriptor,
        "site_id": site.site_id,
        "enabled": site.enabled,
    }


def add_site(actor: Actor, customer: Customer, data: SiteInput) -> FlexChargeSite:
    """Add a website to the merchant."""
    site = FlexChargeSite(customer_id=customer.id)
    _apply_site(site, data)
    db.session.add(site)
    unique_or_conflict(lambda: _site_clash(customer, data, None))
    audit.record(
        actor,
        "flexcharge.site.create",
        site,
        object_type="FlexChargeSite",
        object_label=site.url,
        changes={"merchant": customer.public_id, **_site_fields(site)},
    )
    db.session.commit()
    return site


def _apply_site(site: FlexChargeSite, data: SiteInput) -> None:
    """Copy the form's values onto the site."""
    site.url = data.url
    site.host = site_host(data.url) or ""
    site.descriptor = data.descriptor
    site.descriptor_key = name_key(data.descriptor)
    site.site_id = data.site_id
    site.enabled = data.enabled


def update_site(actor: Actor, site: FlexChargeSite, data: SiteInput) -> FlexChargeSite:
    """Change a site's URL, descriptor, Site ID or switch."""
    before = _site_fields(site)
    _apply_site(site, data)
    changes = audit.diff(before, _site_fields(site))
    if not changes:
        return site
    unique_or_conflict(lambda: _site_clash(site.customer, data, site.id))
    audit.record(
        actor,
        "flexcharge.site.update",
        site,
        object_type="FlexChargeSite",
        object_label=site.url,
        changes=changes,
    )
    db.session.commit()
    return site


def set_site_enabled(actor: Actor, site: FlexChargeSite, enabled: bool) -> bool:
    """Switch one site on or off; return whether anything changed."""
    actions = ("flexcharge.site.enable", "flexcharge.site.disable")
    labels = {"object_type": "FlexChargeSite", "object_label": site.url}
    changed = switch_audited(actor, site, "enabled", enabled, actions, **labels)
    if changed:
        db.session.commit()
    return changed


def delete_site(actor: Actor, site: FlexChargeSite) -> None:
    """Delete a site; its transactions keep the URL and descriptor they were sent with."""
    audit.record(
        actor,
        "flexcharge.site.delete",
        site,
        object_type="FlexChargeSite",
        object_label=site.url,
        changes=_site_fields(site),
    )
    db.session.delete(site)
    db.session.commit()
