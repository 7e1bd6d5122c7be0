"""Confirmation messages: `flash()` everywhere, delivered out of band to htmx swaps."""

from __future__ import annotations

from flask import Response, get_flashed_messages, render_template

from portal.web.htmx import is_htmx


def append_flashes_to_htmx(response: Response) -> Response:
    """Append pending flashes to htmx HTML fragments as an out-of-band swap into #flashes."""
    if not is_htmx() or "HX-Redirect" in response.headers or response.direct_passthrough:
        return response
    if response.mimetype != "text/html" or response.status_code == 204:
        return response
    messages = get_flashed_messages(with_categories=True)
    if messages:
        oob = render_template("_flashes_oob.html", messages=messages)
        response.set_data(response.get_data(as_text=True) + oob)
    return response
