"""Users: sign-in, creation, roles, deactivation and passwords."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.core import passwords
from portal.core.throttle import LoginThrottle
from portal.extensions import db
from portal.models import Role, User
from portal.models.base import utcnow
from portal.schemas.accounts import NewUser, PasswordChangeInput
from portal.services import audit, sessions
from portal.services.actor import Actor
from portal.services.errors import Conflict, InvalidInput, PermissionDenied, Throttled
from portal.services.listing import NEVER, Sort, SortedPage, sorted_page
from portal.services.listing import parse_sort as parse_sort_token
from portal.services.persistence import get_or_not_found, unique_or_conflict


class InvalidCredentials(Exception):
    """The e-mail and password do not match an active account (deliberately vague)."""


class SignInThrottled(Throttled):
    """Too many failed sign-ins for the account; try again later."""


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: the user and the token of the new session."""

    user: User
    token: str


def normalise_email(email: str) -> str:
    """Return the e-mail address as stored: trimmed and lower-cased."""
    return email.strip().lower()


def sign_in(
    email: str,
    password: str,
    *,
    ip: str | None,
    user_agent: str | None,
    throttle: LoginThrottle,
) -> SignIn:
    """Check the credentials, start a session and audit the attempt either way."""
    email = normalise_email(email)
    actor = Actor(user=None, ip=ip, label_override=email[:254] or "anonymous")
    # Counted before the check, atomically: concurrent attempts cannot outrun the lock.
    retry_after = throttle.attempt(email)
    if retry_after:
        audit.record_alone(actor, "auth.sign_in", object_type="User", outcome="throttled")
        raise SignInThrottled(retry_after)
    user = db.session.scalar(select(User).where(User.email == email))
    valid = passwords.verify_password(user.password_hash if user else None, password)
    if not valid or user is None or not user.active:
        audit.record_alone(
            actor,
            "auth.sign_in",
            user,
            object_type="User",
            outcome="failure",
        )
        raise InvalidCredentials()
    throttle.succeeded(email)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    token = sessions.start(user, ip=ip, user_agent=user_agent)
    audit.record(Actor(user=user, ip=ip), "auth.sign_in", user)
    db.session.commit()
    return SignIn(user=user, token=token)


def record_rate_limited_sign_in(email: str | None, ip: str | None) -> None:
    """Audit a sign-in refused by the per-address limit before any check ran."""
    label = normalise_email(email or "")[:254] or "anonymous"
    actor = Actor(user=None, ip=ip, label_override=label)
    audit.record_alone(actor, "auth.sign_in", object_type="User", outcome="rate_limited")


def sign_out(actor: Actor, token: str | None) -> None:
    """End the current session for real, so a copied cookie stops working."""
    sessions.end(token)
    if actor.user is not None:
        audit.record(actor, "auth.sign_out", actor.user)
    db.session.commit()


#: The orders the list offers; each ends with the id so every row has one place. A user who
#: never signed in sorts as the oldest sign-in.
SORTS = {
    "email": (User.email, User.id),
    "role": (User.role, User.id),
    "last_sign_in": (func.coalesce(User.last_login_at, NEVER), User.id),
}
DEFAULT_SORT = "email"
DEFAULT = Sort(DEFAULT_SORT)


def parse_sort(raw: str | None) -> Sort:
    """Read the list's sort from its URL token ("email", "-last_sign_in"...)."""
    return parse_sort_token(raw, SORTS, DEFAULT_SORT)


def list_users(
    search: str = "",
    *,
    sort: Sort | None = None,
    after: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> SortedPage[User]:
    """Return a page of users whose e-mail contains the search, in the sort's order (keyset)."""
    sort = sort or DEFAULT
    query = select(User)
    if search.strip():
        escaped = (
            search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        query = query.where(User.email.like(f"%{escaped}%", escape="\\"))
    return sorted_page(query, User.id, SORTS, sort, after=after, before=before, limit=limit)


def get_user(user_id: int) -> User:
    """Return the user or raise NotFound."""
    return get_or_not_found(User, user_id, "That user does not exist.")


def create_user(actor: Actor, data: NewUser) -> User:
    """Create a user with a role; e-mails are unique regardless of case."""
    user = User(
        email=normalise_email(data.email),
        password_hash=passwords.hash_password(data.password.get_secret_value()),
        role=Role(data.role).value,
    )
    db.session.add(user)
    unique_or_conflict(Conflict("A user with this e-mail already exists.", field="email"))
    audit.record(actor, "user.create", user, changes={"email": user.email, "role": user.role})
    db.session.commit()
    return user


def _active_admins() -> int:
    query = select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    return db.session.scalar(query) or 0


def change_role(actor: Actor, user: User, role: str) -> User:
    """Give the user another role; the last active admin keeps theirs."""
    new_role = Role(role)
    if user.role == new_role:
        return user
    if user.is_admin and user.active and _active_admins() <= 1:
        raise PermissionDenied("The last active administrator must stay an administrator.")
    changes = audit.diff({"role": user.role}, {"role": new_role.value})
    user.role = new_role.value
    audit.record(actor, "user.change_role", user, changes=changes)
    db.session.commit()
    return user


def deactivate(actor: Actor, user: User) -> User:
    """Deactivate the user and end every session they have."""
    if actor.user_id == user.id:
        raise PermissionDenied("You cannot deactivate your own account.")
    if not user.active:
        return user
    user.active = False
    sessions.end_all(user)
    audit.record(actor, "user.deactivate", user)
    db.session.commit()
    return user


def activate(actor: Actor, user: User) -> User:
    """Let a deactivated user sign in again."""
    if user.active:
        return user
    user.active = True
    audit.record(actor, "user.activate", user)
    db.session.commit()
    return user


def change_password(
    actor: Actor, user: User, data: PasswordChangeInput, *, keep_token: str | None
) -> None:
    """Change the user's own password and sign out every other session."""
    if not passwords.verify_password(user.password_hash, data.current_password.get_secret_value()):
        raise InvalidInput("The current password is not correct.", field="current_password")
    user.password_hash = passwords.hash_password(data.password.get_secret_value())
    sessions.end_all(user, except_token=keep_token)
    audit.record(actor, "user.change_password", user)
    db.session.commit()
