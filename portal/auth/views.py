"""First-run setup, sign-in, sign-out and password change."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from portal.auth.loader import SESSION_TOKEN
from portal.extensions import limiter
from portal.schemas.accounts import PasswordChangeInput, SetupInput, SignInInput
from portal.services import setup as setup_service
from portal.services import users
from portal.web.access import public
from portal.web.actor import client_ip, current_actor
from portal.web.forms import Form, read, shown
from portal.web.registry import login_throttle
from portal.web.responses import safe_next, submit

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "The e-mail or password is incorrect."
THROTTLED = "Too many failed sign-ins. Wait a few minutes before trying again."


def login_ip_limit() -> str:
    """Return the per-IP sign-in limit from configuration."""
    return current_app.config["LOGIN_IP_LIMIT"]


def begin_session(email: str, password: str) -> None:
    """Sign in, then replace whatever session the browser had with a fresh one for the user."""
    sign_in = users.sign_in(
        email,
        password,
        ip=client_ip(),
        user_agent=request.user_agent.string,
        throttle=login_throttle(),
    )
    session.clear()
    session[SESSION_TOKEN] = sign_in.token
    login_user(sign_in.user)


def page(template: str, status: int = 200, headers: dict | None = None, **context) -> Response:
    """Render an account page with a status (200, or 422 when a form was refused)."""
    return Response(render_template(template, **context), status, headers)


@bp.get("/setup")
@public
def setup():
    """Show the form that creates the first administrator; gone once any user exists."""
    if not setup_service.is_needed():
        abort(404)
    return page("auth/setup.html", form=shown())


def _complete_setup(data: SetupInput) -> None:
    """Create the first administrator and sign them in."""
    try:
        setup_service.create_first_admin(data, ip=client_ip())
    except setup_service.SetupAlreadyDone:
        abort(404)
    begin_session(data.email, data.password.get_secret_value())


@bp.post("/setup")
@public
@limiter.limit(login_ip_limit)
def complete_setup():
    """Create the first administrator and sign them in."""
    if not setup_service.is_needed():
        abort(404)
    return submit(
        read(SetupInput),
        _complete_setup,
        lambda _: _welcome("Setup complete. Welcome to the Integrations Portal."),
        lambda form, status: page("auth/setup.html", status, form=form),
    )


def _welcome(message: str, target: str | None = None) -> Response:
    """Confirm the sign-in and go where the user was heading."""
    flash(message, "success")
    return redirect(target or url_for("home.index"), code=303)


@bp.get("/login")
@public
def login():
    """Show the sign-in form (or the setup page before the first user exists)."""
    if setup_service.is_needed():
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    return page("auth/login.html", form=shown())


@bp.post("/login")
@public
@limiter.limit(login_ip_limit)
def sign_in():
    """Sign in with e-mail and password."""
    form: Form[SignInInput] = read(SignInInput)
    form.values.pop("password", None)
    if not form.valid:
        return page("auth/login.html", 422, form=form)
    try:
        begin_session(form.model.email, form.model.password.get_secret_value())
    except users.SignInThrottled as error:
        form.errors["__all__"] = THROTTLED
        return page("auth/login.html", 429, {"Retry-After": str(error.retry_after)}, form=form)
    except users.InvalidCredentials:
        form.errors["__all__"] = SIGN_IN_FAILED
        return page("auth/login.html", 401, form=form)
    return _welcome("Signed in.", safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    """Sign out and end the server-side session."""
    users.sign_out(current_actor(), session.get(SESSION_TOKEN))
    logout_user()
    session.clear()
    flash("Signed out.", "success")
    return redirect(url_for("auth.login"), code=303)


@bp.get("/account/password")
def change_password():
    """Show the form to change your own password."""
    return page("auth/password.html", form=shown())


@bp.post("/account/password")
def save_password():
    """Change your own password; every other session of yours ends."""
    actor = current_actor()
    return submit(
        read(PasswordChangeInput),
        lambda data: users.change_password(
            actor, actor.user, data, keep_token=session.get(SESSION_TOKEN)
        ),
        lambda _: _welcome("Password changed. Your other sessions were signed out."),
        lambda form, status: page("auth/password.html", status, form=form),
    )
