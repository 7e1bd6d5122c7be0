"""Access control: every endpoint needs a signed-in user unless marked public (deny by default)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort, current_app, request
from flask_login import current_user

from portal.models import Role

F = TypeVar("F", bound=Callable)

#: Roles that may change data (viewers only read).
WRITERS = (Role.ADMIN.value, Role.EDITOR.value)
ADMINS = (Role.ADMIN.value,)


def public(view: F) -> F:
    """Mark a view as reachable without signing in."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def authenticates_itself(view: F) -> F:
    """Mark a view that checks its own credentials (API keys) and never the session cookie."""
    # Still protected: the view refuses requests without valid credentials, with its own 401.
    view.handles_own_auth = True  # type: ignore[attr-defined]
    return view


def is_public(view: Callable) -> bool:
    """Tell whether anyone may reach the view without credentials."""
    return bool(getattr(view, "is_public", False))


def roles_required(*roles: str) -> Callable[[F], F]:
    """Refuse (403) signed-in users who hold none of the roles."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


admin_required = roles_required(*ADMINS)
writer_required = roles_required(*WRITERS)


def require_login_by_default():
    """Send anonymous users to sign-in for every endpoint not marked public."""
    if request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is None or is_public(view) or request.endpoint == "static":
        return None
    if getattr(view, "handles_own_auth", False):
        # API views answer a JSON 401 themselves; a redirect to sign-in means nothing to them.
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None
