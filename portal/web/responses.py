"""The shapes of answer that views repeat: save a form, confirm then act, answer a row action.

A view parses its input, calls one service and picks one of these; the shapes live here once so
each view stays a few lines long.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, flash, render_template, request
from pydantic import BaseModel

from portal.services.errors import DomainError, NotFound
from portal.web.forms import Form
from portal.web.htmx import hx_redirect, is_htmx, render_page_or_partial

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")

DIALOG_PAGE = "dialog_page.html"


def done(message: str, url: str) -> Response:
    """Confirm a change with a message and go to the URL (HX-Redirect, or 303)."""
    flash(message, "success")
    return hx_redirect(url)


def submit(
    form: Form[M],
    save: Callable[[M], R],
    success: Callable[[R], Response],
    again: Callable[[Form[M], int], Response],
    *,
    default_field: str | None = None,
) -> Response:
    """Save a valid form and answer with ``success``; else show it again with its errors.

    A rule the service refuses (a DomainError) is shown next to its control with 422, or 404
    when the service says an object named in the form does not exist in this scope.
    """
    status = 422
    if form.valid:
        try:
            result = save(form.model)  # type: ignore[arg-type]
        except DomainError as error:
            form.refuse(error, default_field)
            status = 404 if isinstance(error, NotFound) else 422
        else:
            return success(result)
    return again(form, status)


def attempt(action: Callable[[], Any], message: str, url: str) -> Response:
    """Run an action a service may refuse; flash its confirmation or the refusal, then go on."""
    try:
        action()
    except DomainError as error:
        flash(error.message, "error")
        return hx_redirect(url)
    return done(message, url)


def dialog(partial: str, status: int = 200, **context: Any) -> Response:
    """Render a dialog fragment for htmx, or the same dialog open on a page without JS."""
    return render_page_or_partial(DIALOG_PAGE, partial, status=status, partial=partial, **context)


def confirm(
    title: str,
    message: str,
    confirm_label: str,
    cancel_url: str,
    *,
    blocked: str | None = None,
) -> Response:
    """Ask before a destructive action: a modal dialog for htmx, a page without JavaScript.

    The question is asked at the action's own address (GET asks, POST acts), so the dialog's
    form posts back to where it came from. ``blocked`` says why the action cannot be done now
    (the dialog then only closes). A page's "next" (see ``back_to``) is carried along.
    """
    return dialog(
        "_confirm.html",
        title=title,
        message=message,
        action=request.path,
        confirm_label=confirm_label,
        cancel_url=back_to(cancel_url),
        back=safe_next(request.values.get("next")),
        blocked=blocked,
    )


def safe_next(target: str | None) -> str | None:
    """Return a ``next`` address only when it is a same-site relative path."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 for char in target):
        return None
    return target


def back_to(default: str) -> str:
    """Return the page a form was opened from (its safe "next"), else the default.

    An edit opened from a details page carries ``next`` so saving or cancelling returns there.
    """
    return safe_next(request.values.get("next")) or default


def row_or_redirect(template: str, url: str, status: int = 200, **context: Any) -> Response:
    """Answer a row action: the row for htmx (swapped in place), the list page otherwise."""
    if is_htmx():
        return Response(render_template(template, **context), status=status)
    return hx_redirect(url)
