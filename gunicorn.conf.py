"""gunicorn settings, read from the project root by `make run` and the benchmarks."""

import os
import tempfile

from gunicorn.glogging import Logger

# Every worker writes its metrics here and /metrics adds them up (prometheus_client's
# multiprocess mode); gunicorn sets it before the workers import the portal. A fresh folder
# per server, unless the operator chose one.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    raw_env = [f"PROMETHEUS_MULTIPROC_DIR={tempfile.mkdtemp(prefix='portal-metrics-')}"]

# gunicorn's default access format logs %(u)s, the HTTP Basic user name, which is the API key
# itself for clients that authenticate the way FlexPay's do, and %(r)s, whose query string may
# hold a key a client put there by mistake. Log the method, path and protocol instead.
access_log_format = '%(h)s %(l)s - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'


class PortalLogger(Logger):
    """gunicorn's logger, with the Referer's query string left out of the access log."""

    def atoms(self, resp, req, environ, request_time):
        """Return the format's values, the Referer cut at its query string."""
        atoms = super().atoms(resp, req, environ, request_time)
        # A page's address may carry a search term or a token: the path says enough.
        atoms["f"] = atoms["f"].split("?", 1)[0]
        return atoms


logger_class = PortalLogger


def child_exit(server, worker):
    """Drop a finished worker's live gauges from the metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# On SIGTERM a worker stops accepting connections and finishes the requests it has; after this
# many seconds the rest are cut. Keep it above the slowest request (Stripe's deadline is 10 s).
graceful_timeout = 30
# A worker process that gives no sign of life for this long is killed and replaced (gunicorn's
# default, written down). With threads, one slow request does not stop the heartbeat; without
# them (sync workers) a request longer than this is cut.
timeout = 30
