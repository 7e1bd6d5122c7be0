"""Serve the portal with a real gunicorn on a free 127.0.0.1 port, for tests that need one."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(
    port: int, path: str, timeout: float = 20.0, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    """GET a path on a new connection; return the status, headers and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


class Gunicorn:
    """gunicorn serving wsgi:app with the given environment, as `make run` does."""

    def __init__(self, env: dict[str, str], *args: str, log: Path | None = None) -> None:
        self.port = free_port()
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            *args,
            "wsgi:app",
        ]
        self.env = {**os.environ, **env}
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        output = self.log.open("ab") if self.log else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT if self.log else subprocess.DEVNULL,
            )
        finally:
            if self.log:
                output.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if get(self.port, "/healthz", timeout=2)[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not answer /healthz")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: object,
    ) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
