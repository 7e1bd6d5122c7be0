"""First-run setup, sign-in, sign-out and password change."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
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

from portal.access import public
from portal.auth.forms import PasswordChangeForm, SetupForm, SignInForm
from portal.auth_loader import SESSION_TOKEN
from portal.extensions import limiter
from portal.forms import attach_error
from portal.services import setup as setup_service
from portal.services import users
from portal.services.errors import DomainError
from portal.services.throttle import LoginThrottle
from portal.viewutils import client_ip, current_actor

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "The e-mail or password is incorrect."


def login_ip_limit() -> str:
    """Return the per-IP sign-in limit from configuration."""
    return current_app.config["LOGIN_IP_LIMIT"]


def safe_next(target: str | None) -> str | None:
    """Return `next` only when it is a same-site relative path."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def throttle() -> LoginThrottle:
    """Return the per-account throttle on the shared rate-limit storage."""
    config = current_app.config
    return LoginThrottle(
        storage=limiter.storage,
        failures_before_backoff=config["LOGIN_FAILURES_BEFORE_BACKOFF"],
        base_seconds=config["LOGIN_BACKOFF_BASE_SECONDS"],
        max_seconds=config["LOGIN_BACKOFF_MAX_SECONDS"],
        prefix=config["RATELIMIT_KEY_PREFIX"],
    )


def sign_in_with(form: SignInForm | SetupForm) -> users.SignIn:
    """Sign in with the e-mail and password of a submitted form."""
    return users.sign_in(
        form.email.data,
        form.password.data,
        ip=client_ip(),
        user_agent=request.user_agent.string,
        throttle=throttle(),
    )


def begin_session(sign_in: users.SignIn) -> None:
    """Replace whatever session the browser had with a fresh one for the user."""
    session.clear()
    session[SESSION_TOKEN] = sign_in.token
    login_user(sign_in.user)


@bp.route("/setup", methods=["GET", "POST"])
@public
@limiter.limit(login_ip_limit, methods=["POST"])
def setup():
    """Create the first administrator; gone once any user exists."""
    if not setup_service.is_needed():
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            setup_service.create_first_admin(form.email.data, form.password.data, ip=client_ip())
        except setup_service.SetupAlreadyDone:
            abort(404)
        except DomainError as error:
            attach_error(form, error)
        else:
            sign_in = sign_in_with(form)
            begin_session(sign_in)
            flash("Setup complete. Welcome to the Integrations Portal.", "success")
            return redirect(url_for("home.index"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/setup.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(login_ip_limit, methods=["POST"])
def login():
    """Sign in with e-mail and password."""
    if setup_service.is_needed():
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    form = SignInForm()
    status = 200
    headers: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            sign_in = sign_in_with(form)
        except users.SignInThrottled as error:
            form.form_errors.append(
                "Too many failed sign-ins. Wait a few minutes before trying again."
            )
            status, headers = 429, {"Retry-After": str(error.retry_after)}
        except users.InvalidCredentials:
            form.form_errors.append(SIGN_IN_FAILED)
            status = 401
        else:
            begin_session(sign_in)
            flash("Signed in.", "success")
            target = safe_next(request.args.get("next")) or url_for("home.index")
            return redirect(target, code=303)
    elif form.is_submitted():
        status = 422
    form.password.data = ""
    return render_template("auth/login.html", form=form), status, headers


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out and end the server-side session."""
    users.sign_out(current_actor(), session.get(SESSION_TOKEN))
    logout_user()
    session.clear()
    flash("Signed out.", "success")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """Change your own password; every other session of yours ends."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            actor = current_actor()
            users.change_password(
                actor,
                actor.user,
                form.current_password.data,
                form.password.data,
                keep_token=session.get(SESSION_TOKEN),
            )
        except DomainError as error:
            attach_error(form, error)
        else:
            flash("Password changed. Your other sessions were signed out.", "success")
            return redirect(url_for("home.index"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status
