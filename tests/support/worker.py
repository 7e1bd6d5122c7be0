"""Run a real job worker (`flask --app wsgi worker`) as a subprocess, as production does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

from prometheus_client.parser import text_string_to_metric_families

from tests.support.gunicorn import ROOT, free_port, get

#: Variables of the test run's own process that a worker must not inherit.
NOT_INHERITED = ("PROMETHEUS_MULTIPROC_DIR", "TEST_DATABASE_URL", "TEST_REDIS_URL")


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0) -> object:
    """Poll until the condition holds (returning its value), or fail naming what never came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting {timeout:g} s for {what}")


class Worker:
    """A job worker with its metrics port; its log goes to a file the test can show."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        """Prepare the command; nothing runs before the `with` block."""
        self.metrics_port = free_port()
        self.command = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "worker",
            "--metrics-port",
            str(self.metrics_port),
            *args,
        ]
        inherited = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        self.env = {**inherited, **env}
        self.log = log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        """Start the worker and wait until its metrics port answers (its consumer runs next)."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_for(self._answers, "the worker's metrics port")
        except AssertionError:
            self.__exit__(None, None, None)
            raise AssertionError(f"the worker did not start:\n{self.log.read_text()}") from None
        return self

    def _answers(self) -> bool:
        """Tell whether the metrics port answers (failing at once if the worker died)."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{self.log.read_text()}")
        try:
            return get(self.metrics_port, "/metrics", timeout=2)[0] == 200
        except OSError:
            return False

    def metrics(self) -> dict[tuple, float]:
        """Scrape the worker: {(sample name, sorted labels): value}."""
        status, _, text = get(self.metrics_port, "/metrics")
        assert status == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def terminate(self, timeout: float = 30.0) -> int:
        """Send SIGTERM, as systemd or a container runtime would; return the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def __exit__(self, *exc: object) -> None:
        """Stop the worker if it still runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
