"""Tie Flask-Login to the server-side sessions, so revocation takes effect at once."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, redirect, request, session, url_for
from flask_login import LoginManager

from portal.models import User
from portal.services import sessions
from portal.web.htmx import hx_redirect, is_htmx

SESSION_TOKEN = "sid"  # noqa: S105 (the session key name)


def load_user(user_id: str) -> User | None:
    """Return the user of a live server-side session, or None when it ended or timed out."""
    config = current_app.config
    user = sessions.resolve(
        session.get(SESSION_TOKEN),
        idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        lifetime=timedelta(hours=config["SESSION_MAX_HOURS"]),
    )
    if user is None or str(user.id) != user_id:
        session.clear()
        return None
    return user


def unauthorized():
    """Send anonymous visitors to sign-in, remembering a same-site path to come back to."""
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    url = url_for("auth.login", next=target) if target and target != "/" else url_for("auth.login")
    if is_htmx():
        return hx_redirect(url)
    return redirect(url, code=303 if request.method != "GET" else 302)


def configure(login_manager: LoginManager) -> None:
    """Install the loaders on the login manager."""
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    # The server-side session is the only authority; Flask-Login's own cookie stays off.
    login_manager.session_protection = None
