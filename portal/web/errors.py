"""Error pages and the one mapping of domain exceptions to HTTP."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.api.errors import (
    INTERNAL,
    ApiError,
    api_error_response,
    is_api_request,
    json_error,
)
from portal.extensions import db
from portal.services import users
from portal.services.errors import NotFound, PermissionDenied
from portal.web.actor import client_ip
from portal.web.observability import current_request_id

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER = "30"

TITLES = {
    400: "Bad request",
    403: "Access denied",
    404: "Page not found",
    405: "Method not allowed",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def error_page(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """Render the error page (JSON for the APIs) without touching the database.

    The template is rendered straight from the Jinja environment, so no context processor
    runs: the signed-in user is not loaded again (the database may be why we are here).
    """
    if is_api_request():
        return json_error(status, message, headers)
    template = current_app.jinja_env.get_template("errors/error.html")
    body = template.render(status=status, title=TITLES.get(status, "Error"), message=message)
    return Response(body, status, headers or {}, mimetype="text/html")


def handle_http(error: HTTPException):
    """Show HTTP errors on a friendly page."""
    messages = {
        403: "You do not have permission to open this page.",
        404: "There is nothing here. The link may be old or the object deleted.",
        405: "This address does not accept that kind of request.",
        413: "The request body is larger than this address takes.",
    }
    status = error.code or 500
    return error_page(status, messages.get(status, error.description or ""))


def handle_csrf(error: CSRFError):
    """Explain a missing or stale form token."""
    return error_page(400, "The form was missing its security token. Reload the page and retry.")


SIGN_IN_ENDPOINTS = frozenset({"auth.sign_in", "auth.complete_setup"})


def handle_rate_limit(error: RateLimitExceeded):
    """Tell the user to slow down, with Retry-After; a refused sign-in is audited too."""
    if request.endpoint in SIGN_IN_ENDPOINTS:
        users.record_rate_limited_sign_in(request.form.get("email"), client_ip())
    return error_page(429, "Too many attempts. Wait a minute and try again.", {"Retry-After": "60"})


def forget_the_transaction() -> None:
    """Roll back whatever the failed request left, without failing if that fails too."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.invalidate()


def handle_database_down(error: SQLAlchemyError):
    """Answer 503 while the database is unreachable or too slow; the next request tries again."""
    orig = getattr(error, "orig", None)
    log.error("database unavailable: %s", type(orig or error).__name__)
    forget_the_transaction()
    return error_page(
        503,
        "The portal cannot reach its database right now. Try again in a moment.",
        {"Retry-After": DATABASE_RETRY_AFTER},
    )


def handle_database_error(error: DBAPIError):
    """Tell an outage (503) from any other database error (a 500, logged)."""
    if error.connection_invalidated:
        return handle_database_down(error)
    return handle_unexpected(error)


def handle_stale(error: StaleDataError):
    """Answer 404 when the row changed went away meanwhile (two people deleting at once)."""
    db.session.rollback()
    return error_page(404, "Someone else deleted or changed this meanwhile. Reload the page.")


def handle_not_found(error: NotFound):
    """Show a domain NotFound as a 404."""
    return error_page(404, error.message)


def handle_denied(error: PermissionDenied):
    """Show a domain PermissionDenied as a 403."""
    return error_page(403, error.message)


def handle_api_error(error: ApiError):
    """Answer a refused API request with the JSON envelope."""
    db.session.rollback()
    return api_error_response(error)


def handle_unexpected(error: Exception):
    """Log the failure and show a page without a stack trace."""
    if isinstance(error, HTTPException):
        return handle_http(error)
    request_id = current_request_id() or uuid.uuid4().hex
    log.exception("unhandled error (request id %s)", request_id)
    forget_the_transaction()
    if is_api_request():
        message = f"Internal error. Quote request id {request_id} to support."
        return api_error_response(ApiError(500, INTERNAL, message), requestId=request_id)
    return error_page(
        500,
        f"The error was recorded (request id {request_id}). Try again, or contact support "
        "if it persists.",
    )


#: Which handler answers which error; Flask picks the most specific class of a raised error.
HANDLERS: dict[type[BaseException], Callable[[Any], Any]] = {
    HTTPException: handle_http,
    ApiError: handle_api_error,
    CSRFError: handle_csrf,
    RateLimitExceeded: handle_rate_limit,
    OperationalError: handle_database_down,
    InterfaceError: handle_database_down,
    # The pool had no connection to give within DB_POOL_TIMEOUT.
    PoolTimeout: handle_database_down,
    DBAPIError: handle_database_error,
    StaleDataError: handle_stale,
    NotFound: handle_not_found,
    PermissionDenied: handle_denied,
    Exception: handle_unexpected,
}


def register(app: Flask) -> None:
    """Install every handler on the app."""
    for error, handler in HANDLERS.items():
        app.register_error_handler(error, handler)
