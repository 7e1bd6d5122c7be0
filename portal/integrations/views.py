"""Account Settings > Integrations: API keys, and FlexPay Retries when the scheduler is on."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.access import WRITERS, writer_required
from portal.forms import attach_error
from portal.htmx import hx_redirect, hx_trigger, is_htmx, render_confirm, render_page_or_partial
from portal.integrations.forms import (
    ApiKeyForm,
    AutoRetryEditForm,
    AutoRetryForm,
    company_choices,
)
from portal.services import account_settings, api_keys, auto_retries, companies
from portal.services.errors import DomainError
from portal.templating import format_datetime
from portal.viewutils import current_actor

bp = Blueprint("integrations", __name__, url_prefix="/account/integrations")


@bp.context_processor
def tab_context() -> dict:
    """Tell the templates whether the Retries tab shows and whether the user may change data."""
    return {
        "scheduler_enabled": account_settings.scheduler_enabled(),
        "can_write": current_user.is_authenticated and current_user.has_role(*WRITERS),
    }


def scheduler_required(view: Callable) -> Callable:
    """Answer 404 while the account does not use FlexPay's scheduler."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not account_settings.scheduler_enabled():
            abort(404)
        return view(*args, **kwargs)

    return wrapper


# API keys ------------------------------------------------------------------------------------


@bp.get("/")
def index():
    """Show the API keys tab."""
    return render_page_or_partial(
        "integrations/api_keys.html",
        "integrations/_api_keys.html",
        api_keys=api_keys.list_api_keys(),
    )


CompanyForm = TypeVar("CompanyForm", ApiKeyForm, AutoRetryForm)


def with_companies(form: CompanyForm) -> CompanyForm:
    """Offer the account's companies in the form's "Company" select."""
    form.company.choices = company_choices(companies.list_companies())
    return form


@bp.get("/api-keys/new")
@writer_required
def new():
    """Show the "Generate API key" dialog (a page without JavaScript)."""
    return render_page_or_partial(
        "integrations/new_api_key.html",
        "integrations/_api_key_form.html",
        form=with_companies(ApiKeyForm()),
    )


@bp.post("/api-keys/")
@writer_required
def create():
    """Generate an API key and show it, this once."""
    form = with_companies(ApiKeyForm())
    if form.validate_on_submit():
        try:
            new_key = api_keys.generate_api_key(
                current_actor(), form.name.data, form.company.data, form.environment.data
            )
        except DomainError as error:
            attach_error(form, error, default_field="name")
        else:
            flash(f"API key “{new_key.api_key.name}” generated.", "success")
            response = render_page_or_partial(
                "integrations/api_key_created.html",
                "integrations/_api_key_created.html",
                new_key=new_key,
            )
            # The only response that ever holds the key: no browser or proxy may keep it.
            response.headers["Cache-Control"] = "no-store"
            return hx_trigger(response, "api-keys-changed")
    return render_page_or_partial(
        "integrations/new_api_key.html", "integrations/_api_key_form.html", form=form, status=422
    )


@bp.get("/api-keys/<int:api_key_id>/delete")
@writer_required
def confirm_delete(api_key_id: int):
    """Ask before deleting an API key, warning when it was used in the last 7 days."""
    api_key = api_keys.get_api_key(api_key_id)
    message = "Requests made with it are refused (401) from that moment on. This cannot be undone."
    if api_keys.used_recently(api_key):
        message = (
            "This key was used in the last 7 days (last used "
            f"{format_datetime(api_key.last_used_at)}): a system still calling with it will "
            "start failing at once. " + message
        )
    return render_confirm(
        title=f"Delete API key “{api_key.name}”?",
        message=message,
        action=url_for("integrations.delete", api_key_id=api_key.id),
        confirm_label="Delete API key",
        cancel_url=url_for("integrations.index"),
    )


@bp.post("/api-keys/<int:api_key_id>/delete")
@writer_required
def delete(api_key_id: int):
    """Delete an API key; it stops working at once."""
    api_key = api_keys.get_api_key(api_key_id)
    name = api_key.name
    api_keys.delete_api_key(current_actor(), api_key)
    flash(f"API key “{name}” deleted.", "success")
    return hx_redirect(url_for("integrations.index"))


# FlexPay Retries -----------------------------------------------------------------------------


@bp.get("/retries/")
@scheduler_required
def retries():
    """Show the FlexPay Retries tab."""
    return render_template("integrations/retries.html", rules=auto_retries.list_auto_retries())


@bp.get("/retries/new")
@scheduler_required
@writer_required
def new_retry():
    """Show the "Add auto-retries" dialog (a page without JavaScript)."""
    return render_page_or_partial(
        "integrations/new_retry.html",
        "integrations/_retry_form.html",
        form=with_companies(AutoRetryForm()),
    )


@bp.post("/retries/")
@scheduler_required
@writer_required
def create_retry():
    """Add an auto-retry; a second one for the same company and environment is refused."""
    form = with_companies(AutoRetryForm())
    if form.validate_on_submit():
        try:
            rule = auto_retries.add_auto_retry(
                current_actor(),
                form.name.data,
                form.company.data,
                form.environment.data,
                form.status.data,
            )
        except DomainError as error:
            attach_error(form, error, default_field="name")
        else:
            flash(f"Auto-retry “{rule.name}” added.", "success")
            return hx_redirect(url_for("integrations.retries"))
    return render_page_or_partial(
        "integrations/new_retry.html", "integrations/_retry_form.html", form=form, status=422
    )


@bp.get("/retries/<int:auto_retry_id>")
@scheduler_required
def retry_row(auto_retry_id: int):
    """Return one auto-retry row (htmx, to cancel an edit); the tab otherwise."""
    rule = auto_retries.get_auto_retry(auto_retry_id)
    if not is_htmx():
        return redirect(url_for("integrations.retries"))
    return render_template("integrations/_retry_row.html", rule=rule)


@bp.get("/retries/<int:auto_retry_id>/edit")
@scheduler_required
@writer_required
def edit_retry(auto_retry_id: int):
    """Turn the row into a form for the name and status."""
    rule = auto_retries.get_auto_retry(auto_retry_id)
    form = AutoRetryEditForm(name=rule.name, status=rule.status)
    return render_page_or_partial(
        "integrations/edit_retry.html", "integrations/_retry_edit_row.html", rule=rule, form=form
    )


@bp.post("/retries/<int:auto_retry_id>")
@scheduler_required
@writer_required
def update_retry(auto_retry_id: int):
    """Save the name and status of an auto-retry."""
    rule = auto_retries.get_auto_retry(auto_retry_id)
    form = AutoRetryEditForm()
    if form.validate_on_submit():
        try:
            auto_retries.update_auto_retry(current_actor(), rule, form.name.data, form.status.data)
        except DomainError as error:
            attach_error(form, error, default_field="name")
        else:
            flash(f"Auto-retry “{rule.name}” saved ({rule.status_label}).", "success")
            if is_htmx():
                return render_template("integrations/_retry_row.html", rule=rule)
            return hx_redirect(url_for("integrations.retries"))
    return render_page_or_partial(
        "integrations/edit_retry.html",
        "integrations/_retry_edit_row.html",
        rule=rule,
        form=form,
        status=422,
    )


@bp.get("/retries/<int:auto_retry_id>/delete")
@scheduler_required
@writer_required
def confirm_delete_retry(auto_retry_id: int):
    """Ask before deleting an auto-retry."""
    rule = auto_retries.get_auto_retry(auto_retry_id)
    return render_confirm(
        title=f"Delete auto-retry “{rule.name}”?",
        message=(
            f"FlexPay stops scheduling and retrying the transactions of {rule.company.name} "
            f"in {rule.environment_label}."
        ),
        action=url_for("integrations.delete_retry", auto_retry_id=rule.id),
        confirm_label="Delete auto-retry",
        cancel_url=url_for("integrations.retries"),
    )


@bp.post("/retries/<int:auto_retry_id>/delete")
@scheduler_required
@writer_required
def delete_retry(auto_retry_id: int):
    """Delete an auto-retry."""
    rule = auto_retries.get_auto_retry(auto_retry_id)
    name = rule.name
    auto_retries.delete_auto_retry(current_actor(), rule)
    flash(f"Auto-retry “{name}” deleted.", "success")
    return hx_redirect(url_for("integrations.retries"))
