"""Account Settings > Integrations > API keys: generate (shown once), list and delete."""

from __future__ import annotations

from flask import Blueprint, Response, flash, render_template, request, url_for

from portal.api.provisioning import openapi
from portal.api.provisioning.reference import reference as api_reference
from portal.schemas.api_keys import ApiKeyInput
from portal.services import api_keys, companies
from portal.services.api_keys import NewApiKey
from portal.web.access import writer_required
from portal.web.actor import current_actor
from portal.web.forms import read, shown
from portal.web.htmx import hx_trigger, render_page_or_partial
from portal.web.registry import api_key_pepper
from portal.web.responses import confirm, dialog, done, submit
from portal.web.templating import format_datetime

# The section keeps the address seed 003 gives it: Account Settings > Integrations.
bp = Blueprint("api_keys", __name__, url_prefix="/account/integrations")


def company_choices() -> list[tuple[int, str]]:
    """Return the account's companies as (id, name) options of a "Company" select."""
    return [(company.id, company.name) for company in companies.list_companies()]


@bp.get("/")
def index():
    """Show the API keys tab, sorted by the column named in the URL."""
    sort = api_keys.parse_sort(request.args.get("sort"))
    return render_page_or_partial(
        "api_keys/index.html",
        "api_keys/_list.html",
        api_keys=api_keys.list_api_keys(sort),
        sort=sort,
    )


def key_form(form, status: int = 200):
    """Render the "Generate API key" dialog."""
    return dialog("api_keys/_form.html", status, form=form, companies=company_choices())


def created(new_key: NewApiKey):
    """Show the new key, this once, and refresh the list behind the dialog."""
    flash(f"API key “{new_key.api_key.name}” generated.", "success")
    response = dialog("api_keys/_created.html", new_key=new_key)
    # The only response that ever holds the key: no browser or proxy may keep it.
    response.headers["Cache-Control"] = "no-store"
    return hx_trigger(response, "api-keys-changed")


@bp.get("/api-keys/new")
@writer_required
def new():
    """Show the "Generate API key" dialog (a page without JavaScript)."""
    return key_form(shown())


@bp.post("/api-keys/")
@writer_required
def create():
    """Generate an API key and show it, this once."""
    return submit(
        read(ApiKeyInput),
        lambda data: api_keys.generate_api_key(current_actor(), data, api_key_pepper()),
        created,
        key_form,
    )


def deletion_warning(api_key) -> str:
    """Say what deleting the key does, and that a system still uses it if it does."""
    message = "Requests made with it are refused (401) from that moment on. This cannot be undone."
    if not api_keys.used_recently(api_key):
        return message
    return (
        "This key was used in the last 7 days (last used "
        f"{format_datetime(api_key.last_used_at)}): a system still calling with it will "
        "start failing at once. " + message
    )


@bp.get("/api-keys/<int:api_key_id>/delete")
@writer_required
def confirm_delete(api_key_id: int):
    """Ask before deleting an API key, warning when it was used in the last 7 days."""
    api_key = api_keys.get_api_key(api_key_id)
    return confirm(
        f"Delete API key “{api_key.name}”?",
        deletion_warning(api_key),
        "Delete API key",
        url_for("api_keys.index"),
    )


@bp.post("/api-keys/<int:api_key_id>/delete")
@writer_required
def delete(api_key_id: int):
    """Delete an API key; it stops working at once."""
    api_key = api_keys.get_api_key(api_key_id)
    name = api_key.name
    api_keys.delete_api_key(current_actor(), api_key)
    return done(f"API key “{name}” deleted.", url_for("api_keys.index"))


@bp.get("/api-reference")
def reference():
    """Show the provisioning API's reference, rendered on the server from its OpenAPI document."""
    return render_template(
        "api_keys/reference.html", reference=api_reference(), prefix=openapi.PREFIX
    )


@bp.get("/api-reference/openapi.json")
def reference_document():
    """Serve the OpenAPI document to the reference page (signed in: no API key needed)."""
    return Response(openapi.document_json(), mimetype="application/json")
