"""TCP stand-ins for a database that goes away: a proxy that can be cut, and a black hole.

Both listen on 127.0.0.1 on a port of their own. ``TcpProxy`` forwards to a real server until
``cut()`` closes every connection and refuses new ones; ``restore()`` serves again on the same
port. ``BlackHole`` accepts connections and never answers, like a server that hangs.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from typing import Self


def _listen(port: int = 0) -> socket.socket:
    """Return a listening socket on 127.0.0.1."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    return server


class BlackHole:
    """A server that accepts connections and never sends a byte."""

    def __init__(self) -> None:
        self.server = _listen()
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self.server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.held.append(connection)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for connection in self.held:
            connection.close()
        self.server.close()


class TcpProxy:
    """Forward 127.0.0.1:<port> to a target until cut; then refuse, until restored."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: socket.socket | None = _listen()
        self.port = self.server.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        while not self._stop.is_set():
            with self._lock:
                server = self.server
                pairs = list(self._pairs)
            selector = selectors.DefaultSelector()
            if server is not None:
                selector.register(server, selectors.EVENT_READ, None)
            for pair in pairs:
                for side in pair:
                    with contextlib.suppress(ValueError, KeyError, OSError):
                        selector.register(side, selectors.EVENT_READ, pair)
            for key, _ in selector.select(timeout=0.1):
                if key.data is None:
                    self._accept(key.fileobj)
                else:
                    self._pump(key.fileobj, key.data)
            selector.close()

    def _accept(self, server) -> None:
        try:
            client, _ = server.accept()
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            return
        with self._lock:
            self._pairs.append((client, upstream))

    def _pump(self, source: socket.socket, pair: tuple[socket.socket, socket.socket]) -> None:
        other = pair[1] if source is pair[0] else pair[0]
        try:
            data = source.recv(65536)
            if data:
                other.sendall(data)
                return
        except OSError:
            pass
        self._drop(pair)

    def _drop(self, pair: tuple[socket.socket, socket.socket]) -> None:
        with self._lock:
            if pair in self._pairs:
                self._pairs.remove(pair)
        for side in pair:
            with contextlib.suppress(OSError):
                side.close()

    def cut(self) -> None:
        """Close every open connection and stop listening: new connections are refused."""
        with self._lock:
            server, self.server = self.server, None
            pairs, self._pairs = self._pairs, []
        if server is not None:
            server.close()
        for pair in pairs:
            for side in pair:
                with contextlib.suppress(OSError):
                    side.shutdown(socket.SHUT_RDWR)
                    side.close()

    def restore(self) -> None:
        """Listen on the same port again."""
        with self._lock:
            self.server = _listen(self.port)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: object,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.cut()


class Unaccepting:
    """A port whose listen queue is full: a new connection neither succeeds nor is refused."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(0)
        self.port = self.server.getsockname()[1]
        # Fill the queue; the kernel then drops further SYNs, so connect() hangs.
        self.fillers = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self.fillers.append(filler)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        for filler in self.fillers:
            filler.close()
        self.server.close()
