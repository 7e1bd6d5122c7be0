"""Account Settings > Integrations > FlexPay Retries, shown while the scheduler is enabled."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from portal.api_keys.views import company_choices
from portal.models import AutoRetryStatus
from portal.schemas.auto_retries import AutoRetryChange, AutoRetryInput
from portal.services import account_settings, auto_retries
from portal.web.access import writer_required
from portal.web.actor import current_actor
from portal.web.forms import read, shown
from portal.web.htmx import is_htmx, render_page_or_partial
from portal.web.responses import confirm, dialog, done, row_or_redirect, submit

bp = Blueprint("auto_retries", __name__, url_prefix="/account/integrations/retries")

STATUS_CHOICES = AutoRetryStatus.choices()


@bp.before_request
def scheduler_required():
    """Answer 404 while the account does not use FlexPay's scheduler."""
    if not account_settings.scheduler_enabled():
        abort(404)


@bp.context_processor
def choices() -> dict:
    """Offer the statuses to the forms."""
    return {"statuses": STATUS_CHOICES}


@bp.get("/")
def index():
    """Show the FlexPay Retries tab; "Add auto-retries" says so when every pair has its rule."""
    return render_template(
        "auto_retries/index.html",
        rules=auto_retries.list_auto_retries(),
        full=auto_retries.ALL_TAKEN if auto_retries.all_taken() else None,
    )


def retry_form(form, status: int = 200):
    """Render the "Add auto-retries" dialog."""
    return dialog("auto_retries/_form.html", status, form=form, companies=company_choices())


@bp.get("/new")
@writer_required
def new():
    """Show the "Add auto-retries" dialog (a page without JavaScript)."""
    return retry_form(shown({"status": AutoRetryStatus.ACTIVE.value}))


@bp.post("/")
@writer_required
def create():
    """Add an auto-retry; a second one for the same company and environment is refused."""
    return submit(
        read(AutoRetryInput),
        lambda data: auto_retries.add_auto_retry(current_actor(), data),
        lambda rule: done(f"Auto-retry “{rule.name}” added.", url_for("auto_retries.index")),
        retry_form,
    )


@bp.get("/<int:auto_retry_id>")
def row(auto_retry_id: int):
    """Return one auto-retry row (htmx, to cancel an edit); the tab otherwise."""
    rule = auto_retries.get_auto_retry(auto_retry_id)
    if not is_htmx():
        return redirect(url_for("auto_retries.index"))
    return render_template("auto_retries/_row.html", rule=rule)


def edit_row(rule, form, status: int = 200):
    """Render the row as a form for the name and status (a page of its own without htmx)."""
    return render_page_or_partial(
        "auto_retries/edit.html", "auto_retries/_edit_row.html", status=status, rule=rule, form=form
    )


@bp.get("/<int:auto_retry_id>/edit")
@writer_required
def edit(auto_retry_id: int):
    """Turn the row into a form for the name and status."""
    rule = auto_retries.get_auto_retry(auto_retry_id)
    return edit_row(rule, shown({"name": rule.name, "status": rule.status}))


def saved(rule):
    """Confirm a saved rule: its row for htmx, the tab otherwise."""
    flash(f"Auto-retry “{rule.name}” saved ({rule.status_label}).", "success")
    return row_or_redirect("auto_retries/_row.html", url_for("auto_retries.index"), rule=rule)


@bp.post("/<int:auto_retry_id>")
@writer_required
def update(auto_retry_id: int):
    """Save the name and status of an auto-retry."""
    rule = auto_retries.get_auto_retry(auto_retry_id)
    return submit(
        read(AutoRetryChange),
        lambda data: auto_retries.update_auto_retry(current_actor(), rule, data),
        saved,
        lambda form, status: edit_row(rule, form, status),
    )


@bp.get("/<int:auto_retry_id>/delete")
@writer_required
def confirm_delete(auto_retry_id: int):
    """Ask before deleting an auto-retry."""
    rule = auto_retries.get_auto_retry(auto_retry_id)
    return confirm(
        f"Delete auto-retry “{rule.name}”?",
        (
            f"FlexPay stops scheduling and retrying the transactions of {rule.company.name} "
            f"in {rule.environment_label}."
        ),
        "Delete auto-retry",
        url_for("auto_retries.index"),
    )


@bp.post("/<int:auto_retry_id>/delete")
@writer_required
def delete(auto_retry_id: int):
    """Delete an auto-retry."""
    rule = auto_retries.get_auto_retry(auto_retry_id)
    name = rule.name
    auto_retries.delete_auto_retry(current_actor(), rule)
    return done(f"Auto-retry “{name}” deleted.", url_for("auto_retries.index"))
