"""One outbound HTTP call, bounded three ways: to connect, per read, and in total.

Connect and read timeouts alone let a server that sends one byte every few seconds hold a call
for as long as it likes; a watchdog closes the socket when the total deadline passes. Failures
say what happened: the connection was refused, it timed out, the answer never completed, the
answer was not HTTP, or the host could not be reached at all.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from portal.core.metrics import observe_outbound


@dataclass(frozen=True)
class Answer:
    """What the server sent back."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class OutboundError(Exception):
    """An outbound call failed; ``kind`` says how, ``reason`` in words people understand."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _close(connection: http.client.HTTPConnection) -> None:
    """Shut the connection's socket so a blocked read returns at once."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def call(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    connect_timeout: float,
    read_timeout: float,
    deadline: float,
    ssl_context: ssl.SSLContext | None = None,
    provider: str = "other",
) -> Answer:
    """Send one request and read the whole answer, or raise OutboundError (timed per provider)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        context = ssl_context or ssl.create_default_context()
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=connect_timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=connect_timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    started = time.monotonic()
    watchdog = threading.Timer(deadline, _close, args=(connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.connect()
        connection.sock.settimeout(read_timeout)
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        answer = Answer(response.status, dict(response.getheaders()), response.read())
    except (OSError, http.client.HTTPException) as error:
        elapsed = time.monotonic() - started
        failure = _explain(error, elapsed, connect_timeout, read_timeout, deadline)
        observe_outbound(provider, failure.kind, elapsed)
        raise failure from error
    finally:
        watchdog.cancel()
        connection.close()
    elapsed = time.monotonic() - started
    if elapsed > deadline:
        observe_outbound(provider, "deadline", elapsed)
        raise OutboundError("deadline", f"no complete answer within {deadline:g} s")
    observe_outbound(provider, f"{answer.status // 100}xx", elapsed)
    return answer


def _explain(
    error: Exception, elapsed: float, connect_timeout: float, read_timeout: float, deadline: float
) -> OutboundError:
    """Say what went wrong, from the error and how long it took."""
    if elapsed >= deadline:
        return OutboundError("deadline", f"no complete answer within {deadline:g} s")
    if isinstance(error, ConnectionRefusedError):
        return OutboundError("refused", "connection refused")
    if isinstance(error, ssl.SSLError):
        return OutboundError("tls", "TLS certificate could not be verified")
    if isinstance(error, TimeoutError):
        limit = connect_timeout if elapsed < connect_timeout + 0.05 else read_timeout
        return OutboundError("timeout", f"timed out after {limit:g} s")
    if isinstance(error, http.client.HTTPException | ConnectionResetError):
        return OutboundError("bad_answer", "the answer was not valid HTTP")
    if isinstance(error, socket.gaierror):
        return OutboundError("unreachable", "the host name could not be resolved")
    return OutboundError("unreachable", "could not connect")
