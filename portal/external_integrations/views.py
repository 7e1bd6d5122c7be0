"""System > External Integrations: admins add, edit, delete and switch Stripe integrations."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, url_for

from portal import providers
from portal.access import admin_required
from portal.external_integrations.forms import IntegrationCreateForm, IntegrationEditForm
from portal.forms import attach_error
from portal.htmx import hx_redirect, is_htmx, render_confirm, render_page_or_partial
from portal.services import external_integrations as service
from portal.services.errors import DomainError
from portal.viewutils import current_actor

bp = Blueprint("external_integrations", __name__, url_prefix="/system/external-integrations")


@bp.after_request
def no_store(response):
    """Keep these pages, which show masked keys and accept secret ones, out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def template_helpers() -> dict:
    """Let templates name providers by their label."""
    return {"provider_label": providers.label_of}


def announce(saved: service.Saved, verb: str) -> None:
    """Flash the confirmation of a save, and the provider's warning if it has one."""
    integration = saved.integration
    label = providers.label_of(integration.provider)
    flash(f"{label} integration “{integration.name}” {verb}.", "success")
    if saved.warning:
        flash(saved.warning, "warning")


@bp.get("/")
@admin_required
def index():
    """List external integrations."""
    return render_template(
        "external_integrations/index.html", integrations=service.list_integrations()
    )


@bp.get("/new")
@admin_required
def new():
    """Show the form that adds an integration (a dialog with htmx, a page without)."""
    return render_page_or_partial(
        "external_integrations/new.html",
        "external_integrations/_form.html",
        form=IntegrationCreateForm(),
        integration=None,
    )


@bp.post("/")
@admin_required
def create():
    """Verify the secret key, then add the integration."""
    form = IntegrationCreateForm()
    if form.validate_on_submit():
        try:
            saved = service.create_integration(
                current_actor(),
                form.provider.data,
                form.name.data,
                form.secret.data,
                active=form.active.data,
            )
        except DomainError as error:
            attach_error(form, error)
        else:
            announce(saved, "added")
            return hx_redirect(url_for("external_integrations.index"))
    elif form.malformed_secret:
        service.record_malformed_key(
            current_actor(), action="external_integration.create", name=form.name.data
        )
    return render_page_or_partial(
        "external_integrations/new.html",
        "external_integrations/_form.html",
        form=form,
        integration=None,
        status=422,
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
    form = IntegrationEditForm(name=integration.name, active=integration.active)
    return render_page_or_partial(
        "external_integrations/edit.html",
        "external_integrations/_form.html",
        form=form,
        integration=integration,
    )


@bp.post("/<int:integration_id>")
@admin_required
def update(integration_id: int):
    """Save the name, the active switch and, when one is entered, a verified new key."""
    integration = service.get_integration(integration_id)
    form = IntegrationEditForm()
    form.provider_slug = integration.provider
    if form.validate_on_submit():
        try:
            saved = service.update_integration(
                current_actor(),
                integration,
                form.name.data,
                form.secret.data,
                active=form.active.data,
            )
        except DomainError as error:
            attach_error(form, error)
        else:
            announce(saved, "updated")
            return hx_redirect(url_for("external_integrations.index"))
    elif form.malformed_secret:
        service.record_malformed_key(
            current_actor(),
            action="external_integration.update",
            name=integration.name,
            target=integration,
        )
    return render_page_or_partial(
        "external_integrations/edit.html",
        "external_integrations/_form.html",
        form=form,
        integration=service.get_integration(integration_id),
        status=422,
    )


@bp.get("/<int:integration_id>/delete")
@admin_required
def confirm_delete(integration_id: int):
    """Ask before deleting an integration."""
    integration = service.get_integration(integration_id)
    label = providers.label_of(integration.provider)
    return render_confirm(
        title=f"Delete “{integration.name}”?",
        message=(
            f"The {label} integration and its stored secret key are deleted, "
            "and the platform stops using it at once."
        ),
        action=url_for("external_integrations.delete", integration_id=integration.id),
        confirm_label="Delete integration",
        cancel_url=url_for("external_integrations.index"),
    )


@bp.post("/<int:integration_id>/delete")
@admin_required
def delete(integration_id: int):
    """Delete an integration."""
    integration = service.get_integration(integration_id)
    label, name = providers.label_of(integration.provider), integration.name
    service.delete_integration(current_actor(), integration)
    flash(f"{label} integration “{name}” deleted.", "success")
    return hx_redirect(url_for("external_integrations.index"))


@bp.post("/<int:integration_id>/activate")
@admin_required
def activate(integration_id: int):
    """Switch an integration on."""
    integration = service.get_integration(integration_id)
    service.activate(current_actor(), integration)
    return switched(integration, "activated")


@bp.post("/<int:integration_id>/deactivate")
@admin_required
def deactivate(integration_id: int):
    """Switch an integration off."""
    integration = service.get_integration(integration_id)
    service.deactivate(current_actor(), integration)
    return switched(integration, "deactivated")


def switched(integration, verb: str):
    """Answer the switch: the row for htmx, the list page otherwise, with a confirmation."""
    label = providers.label_of(integration.provider)
    flash(f"{label} integration “{integration.name}” {verb}.", "success")
    if is_htmx():
        return render_template("external_integrations/_row.html", integration=integration)
    return hx_redirect(url_for("external_integrations.index"))


@bp.post("/<int:integration_id>/verify")
@admin_required
def verify(integration_id: int):
    """Ask the provider again whether the stored secret key works."""
    integration = service.get_integration(integration_id)
    try:
        saved = service.verify_stored_secret(current_actor(), integration)
    except DomainError as error:
        flash(error.message, "error")
    else:
        label = providers.label_of(integration.provider)
        flash(f"{label} accepted the secret key of “{integration.name}”.", "success")
        if saved.warning:
            flash(saved.warning, "warning")
    return hx_redirect(url_for("external_integrations.detail", integration_id=integration_id))
