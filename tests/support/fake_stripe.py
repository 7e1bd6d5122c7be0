"""Serve a fake Stripe API over real HTTP so client code runs unmodified."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

# Upper bound for a "slow" answer, so a forgotten stop() never hangs a test run.
SLOW_SECONDS = 3.0
# A "trickle" answer sends a byte every TRICKLE_INTERVAL seconds, for about this long.
TRICKLE_SECONDS = 6.0
TRICKLE_INTERVAL = 0.3

_BALANCE: dict[str, Any] = {
    "object": "balance",
    "available": [{"amount": 12500, "currency": "usd", "source_types": {"card": 12500}}],
    "connect_reserved": [{"amount": 0, "currency": "usd"}],
    "livemode": False,
    "pending": [{"amount": 3000, "currency": "usd", "source_types": {"card": 3000}}],
}
_DENIED = {
    "error": {
        "type": "invalid_request_error",
        "message": "Invalid API Key provided: sk_test_****1234",
    }
}
_NO_PERMISSION = {
    "error": {
        "type": "invalid_request_error",
        "code": "secret_key_required",
        "message": (
            "The provided key 'rk_test_*********************************1234' does "
            "not have the required permissions for this endpoint on account "
            "'acct_1FakeAccount000000'. Having the 'rak_balance_read' permission "
            "would allow this request to continue."
        ),
    }
}
_SERVER_ERROR = {
    "error": {
        "type": "api_error",
        "message": "An unknown error occurred while processing your request.",
    }
}
_NOT_FOUND = {
    "error": {
        "type": "invalid_request_error",
        "message": "Unrecognized request URL. Please see https://stripe.com/docs.",
    }
}


@dataclass(frozen=True)
class RecordedRequest:
    """Describe one request the fake received, without the key itself."""

    method: str
    path: str
    has_auth: bool


class _Server(ThreadingHTTPServer):
    """Carry the fake's shared state to its request handlers."""

    # Handler threads are joined by server_close(), so stop() proves they ended.
    daemon_threads = False
    block_on_close = True

    def __init__(self, owner: FakeStripe) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    """Answer GET /v1/balance the way Stripe would for the presented key."""

    server: _Server
    # Bounds how long a silent client can hold a handler thread (and stop()).
    timeout = 5

    def do_GET(self) -> None:
        """Record the request and answer according to the bearer key."""
        owner = self.server.owner
        auth = self.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        owner._record(RecordedRequest("GET", self.path, bool(key)))

        if self.path.split("?", 1)[0] != "/v1/balance":
            self._reply(404, _NOT_FOUND)
        elif "denied" in key or not key:
            self._reply(401, _DENIED)
        elif "noperm" in key:
            self._reply(403, _NO_PERMISSION)
        elif "boom" in key:
            self._reply(500, _SERVER_ERROR)
        elif "trickle" in key:
            self._trickle(200, _BALANCE)
        elif "garbage" in key:
            self.wfile.write(b"this is not HTTP at all\r\n\r\n")
            self.close_connection = True
        else:
            if "slow" in key:
                owner._stopping.wait(SLOW_SECONDS)
            if "held" in key:
                owner._released.wait(SLOW_SECONDS)
            self._reply(200, _BALANCE)

    def _trickle(self, status: int, body: dict[str, Any]) -> None:
        """Send the answer one byte at a time: every read is quick, the whole is not."""
        payload = json.dumps(body).encode("utf-8")
        head = (
            f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode()
        steps = int(TRICKLE_SECONDS / TRICKLE_INTERVAL)
        try:
            for byte in (head + payload)[:steps]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self.server.owner._stopping.wait(TRICKLE_INTERVAL):
                    return
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        """Send a JSON answer, tolerating a client that already gave up."""
        payload = json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", "req_fake0000000000")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client timed out while a slow answer was pending; nothing to do.
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class FakeStripe:
    """Run a local HTTP server that mimics Stripe's balance endpoint."""

    def __init__(self) -> None:
        """Start serving on 127.0.0.1 at a free port."""
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        # Answers to "held" keys wait until the test releases them (see hold and release).
        self._released = threading.Event()
        self._released.set()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-stripe",
            daemon=True,
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        """Return the URL to pass as the Stripe API base."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Return a snapshot of the requests received so far."""
        with self._lock:
            return list(self._requests)

    def _record(self, request: RecordedRequest) -> None:
        """Remember a request; called from handler threads."""
        with self._lock:
            self._requests.append(request)

    def hold(self) -> None:
        """Keep answers to keys containing "held" waiting until ``release`` (at most 3 s)."""
        self._released.clear()

    def release(self) -> None:
        """Let the held answers go."""
        self._released.set()

    def stop(self) -> None:
        """Release pending slow answers, stop serving and close the socket."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        """Return the running fake."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the fake."""
        self.stop()
