"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from portal import create_app
from portal.web.observability import configure_logging

app = create_app()
configure_logging(app.config)
