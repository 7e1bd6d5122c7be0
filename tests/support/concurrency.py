"""Run the same work in threads that start together, as racing requests would."""

from __future__ import annotations

import threading

from flask import Flask

from portal.extensions import db


def run_concurrently(app: Flask, count: int, work) -> list[object]:
    """Run work(n) in threads that start together; return each result or exception."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def target(n: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[n] = work(n)
            except Exception as error:
                results[n] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
