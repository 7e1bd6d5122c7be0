"""HTMX helpers: one place decides between a full page and a fragment."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, redirect, render_template, request


def is_htmx() -> bool:
    """Tell whether htmx asked for a fragment (boosted requests want whole pages)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def render_page_or_partial(
    page_template: str, partial_template: str, *, status: int = 200, **context: Any
) -> Response:
    """Render the fragment for htmx and the page, which includes the same fragment, otherwise."""
    template = partial_template if is_htmx() else page_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def add_vary_header(response: Response) -> Response:
    """Tell caches that htmx and full-page requests get different bodies."""
    response.vary.add("HX-Request")
    return response


def hx_redirect(url: str) -> Response:
    """Send the browser to the URL: HX-Redirect for htmx, a 303 otherwise."""
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = url
    else:
        response = redirect(url, code=303)
    response.vary.add("HX-Request")
    return response


def hx_refresh() -> Response:
    """Ask htmx to reload the whole page."""
    response = Response(status=204)
    response.headers["HX-Refresh"] = "true"
    return response


def hx_trigger(response: Response, event: str, detail: Any = None) -> Response:
    """Fire a client-side event after the swap."""
    triggers = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    triggers[event] = detail
    response.headers["HX-Trigger"] = json.dumps(triggers)
    return response
