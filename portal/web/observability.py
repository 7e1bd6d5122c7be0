"""Request ids, structured logs and request metrics: what operators need to follow a request.

Every request gets an id (a well-formed incoming ``X-Request-Id`` is kept, else a new one); it
is echoed in the response header, carried by every log record of the request and by JSON
error bodies. Logs are JSON lines when ``LOG_FORMAT`` is "json" (the default in production).
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Mapping

from flask import Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from portal.core.metrics import REQUEST_SECONDS

HEADER = "X-Request-Id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,128}")


def current_request_id() -> str | None:
    """Return the id of the request being served, if any."""
    return g.get("request_id") if has_request_context() else None


def start_request() -> None:
    """Give the request its id and note when it started."""
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if _WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def finish_request(response: Response) -> Response:
    """Echo the request id and time the answer, per endpoint."""
    response.headers[HEADER] = g.get("request_id", "")
    started = g.get("request_started")
    if started is not None:
        REQUEST_SECONDS.labels(
            endpoint=request.endpoint or "unmatched",
            method=request.method,
            status=str(response.status_code),
        ).observe(time.perf_counter() - started)
    return response


class RequestIdFilter(logging.Filter):
    """Stamp every log record with the id of the request it was written during."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``request_id`` (None outside a request)."""
        record.request_id = current_request_id()
        return True


def configure_logging(config: Mapping) -> None:
    """Send the portal's logs to stderr, as JSON lines when configured (once per process)."""
    root = logging.getLogger()
    if any(getattr(handler, "portal", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.portal = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    if config.get("LOG_FORMAT") == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root.addHandler(handler)
    root.setLevel(config.get("LOG_LEVEL", "INFO"))
