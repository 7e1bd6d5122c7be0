"""Response headers every page carries, and the session cookie's Secure flag."""

from __future__ import annotations

from flask import Flask, Request, Response, request
from flask.sessions import NullSession, SecureCookieSessionInterface, SessionMixin

from portal.api.errors import API_PREFIX

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'; "
    # Pico.css draws select chevrons, checkbox ticks and switch knobs as data: SVG images.
    "img-src 'self' data:"
)


def add_security_headers(response: Response) -> Response:
    """Set CSP, nosniff, referrer policy and, over HTTPS, HSTS."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
        )
    return response


class NoSession(NullSession):
    """The session of an API request: empty, never saved, and writing to it is a mistake."""

    def _fail(self, *args, **kwargs):
        """Refuse: the APIs authenticate every request by key or signature, never by cookie."""
        raise RuntimeError("API requests have no session: they authenticate by key or signature")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class SessionInterface(SecureCookieSessionInterface):
    """The signed cookie session: Secure over HTTPS, and then named with the __Host- prefix.

    Requests to the JSON APIs and webhooks (under /api/) get none: their cookie is not read
    (nor its signature checked), and their answers set no cookie and send no `Vary: Cookie`.
    """

    null_session_class = NoSession

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """Read the signed cookie, except for API requests (by path: routing comes later)."""
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Mark the cookie Secure when configured or when served over HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def get_cookie_name(self, app: Flask) -> str:
        """Name the cookie "__Host-..." over HTTPS: browsers then refuse it from HTTP and
        from other subdomains (it must be Secure, for this host only, with Path=/)."""
        name = app.config["SESSION_COOKIE_NAME"]
        return f"__Host-{name}" if request.is_secure else name
