"""gunicorn settings, read from the project root by `make run` and the benchmark."""

# gunicorn's default access format logs %(u)s, the HTTP Basic user name, which is the API key
# itself for clients that authenticate the way FlexPay's do, and %(r)s, whose query string may
# hold a key a client put there by mistake. Log the method, path and protocol instead.
access_log_format = '%(h)s %(l)s - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'
