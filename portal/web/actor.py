"""Small helpers views share: who acts and from where."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from portal.services.actor import Actor


def client_ip() -> str | None:
    """Return the client address (ProxyFix rewrites it behind trusted proxies)."""
    return request.remote_addr


def current_actor() -> Actor:
    """Return the signed-in user as the actor of a service call."""
    user = current_user if current_user.is_authenticated else None
    return Actor(user=user._get_current_object() if user else None, ip=client_ip())
