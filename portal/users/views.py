"""System > Users: admins create users, change roles, deactivate and reactivate them."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for

from portal.access import admin_required
from portal.forms import attach_error
from portal.htmx import hx_redirect, is_htmx, render_confirm, render_page_or_partial
from portal.services import users
from portal.services.errors import DomainError
from portal.users.forms import ROLE_CHOICES, RoleForm, UserCreateForm
from portal.viewutils import current_actor

bp = Blueprint("users", __name__, url_prefix="/system/users")


def render_row(user, status: int = 200):
    """Return the row of one user, as htmx swaps it in place."""
    return render_template("users/_row.html", user=user, role_choices=ROLE_CHOICES), status


@bp.get("/")
@admin_required
def index():
    """List users, searched by e-mail as you type, fifty a page."""
    search = request.args.get("q", "").strip()[:254]
    after = request.args.get("after", "")[:254] or None
    return render_page_or_partial(
        "users/index.html",
        "users/_results.html",
        page=users.list_users(search, after=after),
        search=search,
        after=after,
        role_choices=ROLE_CHOICES,
    )


@bp.get("/new")
@admin_required
def new():
    """Show the form that creates a user (a dialog with htmx, a page without)."""
    return render_page_or_partial("users/new.html", "users/_form.html", form=UserCreateForm())


@bp.post("/")
@admin_required
def create():
    """Create a user with a role."""
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(
                current_actor(), form.email.data, form.password.data, form.role.data
            )
        except DomainError as error:
            attach_error(form, error, default_field="email")
        else:
            flash(f"User {user.email} created as {user.role}.", "success")
            return hx_redirect(url_for("users.index"))
    return render_page_or_partial("users/new.html", "users/_form.html", form=form, status=422)


@bp.post("/<int:user_id>/role")
@admin_required
def update(user_id: int):
    """Change a user's role."""
    user = users.get_user(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose a role from the list.", "error")
        return respond(user, 422)
    try:
        users.change_role(current_actor(), user, form.role.data)
    except DomainError as error:
        flash(error.message, "error")
        return respond(user, 409)
    flash(f"{user.email} is now {user.role}.", "success")
    return respond(user)


@bp.get("/<int:user_id>/deactivate")
@admin_required
def confirm_deactivate(user_id: int):
    """Ask before deactivating a user."""
    user = users.get_user(user_id)
    return render_confirm(
        title=f"Deactivate {user.email}?",
        message="They are signed out everywhere at once and cannot sign in until reactivated.",
        action=url_for("users.deactivate", user_id=user.id),
        confirm_label="Deactivate user",
        cancel_url=url_for("users.index"),
    )


@bp.post("/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    """Deactivate a user and end their sessions."""
    user = users.get_user(user_id)
    try:
        users.deactivate(current_actor(), user)
    except DomainError as error:
        flash(error.message, "error")
        return hx_redirect(url_for("users.index"))
    flash(f"{user.email} was deactivated and signed out.", "success")
    return hx_redirect(url_for("users.index"))


@bp.post("/<int:user_id>/activate")
@admin_required
def activate(user_id: int):
    """Let a deactivated user sign in again."""
    user = users.get_user(user_id)
    users.activate(current_actor(), user)
    flash(f"{user.email} was activated.", "success")
    return respond(user)


def respond(user, status: int = 200):
    """Answer a row action: the row for htmx, the list page otherwise."""
    if is_htmx():
        return render_row(user, status)
    return hx_redirect(url_for("users.index"))
