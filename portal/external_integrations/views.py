"""System > External Integrations: admins add, edit, delete and switch Stripe integrations."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for

from portal.schemas.external_integrations import (
    ExternalIntegrationChange,
    ExternalIntegrationInput,
)
from portal.services import external_integrations as service
from portal.services.errors import DomainError
from portal.web.access import admin_required
from portal.web.actor import current_actor
from portal.web.forms import read, shown
from portal.web.htmx import hx_redirect, render_page_or_partial
from portal.web.registry import providers, secret_box
from portal.web.responses import (
    back_to,
    confirm,
    dialog,
    done,
    row_or_redirect,
    safe_next,
    submit,
)

bp = Blueprint("external_integrations", __name__, url_prefix="/system/external-integrations")


@bp.after_request
def no_store(response):
    """Keep these pages, which show masked keys and accept secret ones, out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def provider_label(slug: str) -> str:
    """Return the provider's label, or the raw slug of a provider no longer offered."""
    provider = providers().get(slug)
    return provider.label if provider else slug


@bp.context_processor
def template_helpers() -> dict:
    """Let templates name providers by their label and list them."""
    return {
        "provider_label": provider_label,
        "provider_choices": [(slug, p.label) for slug, p in providers().items()],
    }


def saved(result: service.Saved, message: str, url: str):
    """Confirm a save, add the provider's warning if it has one, and go to the URL."""
    flash(message, "success")
    if result.warning:
        flash(result.warning, "warning")
    return hx_redirect(url)


def announce(result: service.Saved, verb: str):
    """Confirm an added or updated integration and go back where the form was opened from."""
    integration = result.integration
    label = provider_label(integration.provider)
    message = f"{label} integration “{integration.name}” {verb}."
    return saved(result, message, back_to(url_for("external_integrations.index")))


def integration_form(integration, form, status: int = 200):
    """Render the add or edit dialog (a page of its own without JavaScript)."""
    back = safe_next(request.values.get("next"))
    return dialog(
        "external_integrations/_form.html", status, integration=integration, form=form, back=back
    )


@bp.get("/")
@admin_required
def index():
    """List external integrations, sorted by the column named in the URL."""
    sort = service.parse_sort(request.args.get("sort"))
    return render_page_or_partial(
        "external_integrations/index.html",
        "external_integrations/_list.html",
        integrations=service.list_integrations(sort),
        sort=sort,
    )


@bp.get("/new")
@admin_required
def new():
    """Show the form that adds an integration (a dialog with htmx, a page without)."""
    return integration_form(None, shown())


def screen_secret(form, provider: str | None, action: str, integration=None) -> None:
    """Name a malformed secret key next to the other errors of a refused form."""
    if form.valid:
        return
    try:
        service.screen_secret(
            current_actor(),
            providers(),
            provider,
            request.form.get("secret"),
            service.SecretAttempt(
                action,
                form.values.get("name") or (integration.name if integration else ""),
                integration,
            ),
        )
    except DomainError as error:
        form.errors.setdefault(error.field or "secret", error.message)


@bp.post("/")
@admin_required
def create():
    """Verify the secret key, then add the integration."""
    form = read(ExternalIntegrationInput)
    screen_secret(form, request.form.get("provider"), "external_integration.create")
    return submit(
        form,
        lambda data: service.create_integration(current_actor(), data, providers(), secret_box()),
        lambda result: announce(result, "added"),
        lambda form, status: integration_form(None, form, status),
    )


@bp.get("/<int:integration_id>")
@admin_required
def detail(integration_id: int):
    """Show an integration with who created and changed it, and its audit history."""
    integration = service.get_integration(integration_id)
    return render_template(
        "external_integrations/detail.html",
        integration=integration,
        events=service.history(integration),
    )


@bp.get("/<int:integration_id>/edit")
@admin_required
def edit(integration_id: int):
    """Show the edit form."""
    integration = service.get_integration(integration_id)
    return integration_form(
        integration, shown({"name": integration.name, "active": integration.active})
    )


@bp.post("/<int:integration_id>")
@admin_required
def update(integration_id: int):
    """Save the name, the active switch and, when one is entered, a verified new key."""
    integration = service.get_integration(integration_id)
    form = read(ExternalIntegrationChange)
    screen_secret(form, integration.provider, "external_integration.update", integration)
    return submit(
        form,
        lambda data: service.update_integration(
            current_actor(), integration, data, providers(), secret_box()
        ),
        lambda result: announce(result, "updated"),
        lambda form, status: integration_form(
            service.get_integration(integration_id), form, status
        ),
    )


@bp.get("/<int:integration_id>/delete")
@admin_required
def confirm_delete(integration_id: int):
    """Ask before deleting an integration."""
    integration = service.get_integration(integration_id)
    return confirm(
        f"Delete “{integration.name}”?",
        (
            f"The {provider_label(integration.provider)} integration and its stored secret key "
            "are deleted, and the platform stops using it at once."
        ),
        "Delete integration",
        url_for("external_integrations.index"),
    )


@bp.post("/<int:integration_id>/delete")
@admin_required
def delete(integration_id: int):
    """Delete an integration."""
    integration = service.get_integration(integration_id)
    label, name = provider_label(integration.provider), integration.name
    service.delete_integration(current_actor(), integration)
    return done(f"{label} integration “{name}” deleted.", url_for("external_integrations.index"))


def switch(integration_id: int, active: bool):
    """Switch an integration on or off; answer with its row, or the list without htmx."""
    integration = service.get_integration(integration_id)
    service.set_active(current_actor(), integration, active)
    verb = "activated" if active else "deactivated"
    label = provider_label(integration.provider)
    flash(f"{label} integration “{integration.name}” {verb}.", "success")
    return row_or_redirect(
        "external_integrations/_row.html",
        url_for("external_integrations.index"),
        integration=integration,
    )


@bp.post("/<int:integration_id>/activate")
@admin_required
def activate(integration_id: int):
    """Switch an integration on."""
    return switch(integration_id, True)


@bp.post("/<int:integration_id>/deactivate")
@admin_required
def deactivate(integration_id: int):
    """Switch an integration off."""
    return switch(integration_id, False)


@bp.post("/<int:integration_id>/verify")
@admin_required
def verify(integration_id: int):
    """Ask the provider again whether the stored secret key works."""
    integration = service.get_integration(integration_id)
    url = url_for("external_integrations.detail", integration_id=integration_id)
    try:
        result = service.verify_stored_secret(
            current_actor(), integration, providers(), secret_box()
        )
    except DomainError as error:
        flash(error.message, "error")
        return hx_redirect(url)
    label = provider_label(integration.provider)
    return saved(result, f"{label} accepted the secret key of “{integration.name}”.", url)
