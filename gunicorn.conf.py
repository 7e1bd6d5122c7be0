"""gunicorn settings, read from the project root by `make run` and the benchmarks."""

from gunicorn.glogging import Logger

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
