"""System > Users: admins create users, change roles, deactivate and reactivate them."""

from __future__ import annotations

from flask import Blueprint, flash, url_for

from portal.models import Role
from portal.schemas.accounts import RoleInput, UserInput
from portal.services import users
from portal.services.errors import DomainError
from portal.web.access import admin_required
from portal.web.actor import current_actor
from portal.web.forms import read, shown
from portal.web.htmx import render_page_or_partial
from portal.web.query import page_query, query_text
from portal.web.responses import attempt, confirm, dialog, done, row_or_redirect, submit

bp = Blueprint("users", __name__, url_prefix="/system/users")

ROLE_CHOICES = Role.choices()


def user_row(user, status: int = 200):
    """Answer a row action: the user's row for htmx, the list page otherwise."""
    return row_or_redirect(
        "users/_row.html", url_for("users.index"), status, user=user, role_choices=ROLE_CHOICES
    )


@bp.get("/")
@admin_required
def index():
    """List users, searched by e-mail as you type and sorted by a column, fifty a page."""
    search = query_text("q")
    page = users.list_users(search, **page_query(users.parse_sort))
    return render_page_or_partial(
        "users/index.html",
        "users/_results.html",
        page=page,
        search=search,
        role_choices=ROLE_CHOICES,
    )


def user_form(form, status: int = 200):
    """Render the Add user dialog."""
    return dialog("users/_form.html", status, form=form, role_choices=ROLE_CHOICES)


@bp.get("/new")
@admin_required
def new():
    """Show the form that creates a user (a dialog with htmx, a page without)."""
    return user_form(shown({"role": Role.VIEWER.value}))


@bp.post("/")
@admin_required
def create():
    """Create a user with a role."""
    return submit(
        read(UserInput),
        lambda data: users.create_user(current_actor(), data),
        lambda user: done(f"User {user.email} created as {user.role}.", url_for("users.index")),
        user_form,
        default_field="email",
    )


@bp.post("/<int:user_id>/role")
@admin_required
def update(user_id: int):
    """Change a user's role."""
    user = users.get_user(user_id)
    form = read(RoleInput)
    if not form.valid:
        flash("Choose a role from the list.", "error")
        return user_row(user, 422)
    try:
        users.change_role(current_actor(), user, form.model.role)
    except DomainError as error:
        flash(error.message, "error")
        return user_row(user, 409)
    flash(f"{user.email} is now {user.role}.", "success")
    return user_row(user)


@bp.get("/<int:user_id>/deactivate")
@admin_required
def confirm_deactivate(user_id: int):
    """Ask before deactivating a user."""
    user = users.get_user(user_id)
    return confirm(
        f"Deactivate {user.email}?",
        "They are signed out everywhere at once and cannot sign in until reactivated.",
        "Deactivate user",
        url_for("users.index"),
    )


@bp.post("/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    """Deactivate a user and end their sessions."""
    user = users.get_user(user_id)
    return attempt(
        lambda: users.deactivate(current_actor(), user),
        f"{user.email} was deactivated and signed out.",
        url_for("users.index"),
    )


@bp.post("/<int:user_id>/activate")
@admin_required
def activate(user_id: int):
    """Let a deactivated user sign in again."""
    user = users.get_user(user_id)
    users.activate(current_actor(), user)
    flash(f"{user.email} was activated.", "success")
    return user_row(user)
