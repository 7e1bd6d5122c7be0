"""User and setup services: rules, concurrency and audit."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, User
from portal.schemas.accounts import NewUser
from portal.services import users
from portal.services.actor import Actor
from portal.services.errors import Conflict, PermissionDenied
from tests import factories
from tests.support.concurrency import run_concurrently
from tests.support.queries import count
from tests.support.refusals import refusal_message

pytestmark = pytest.mark.services


def test_concurrent_duplicate_users_give_one_success_and_clear_errors(app: Flask) -> None:
    with app.app_context():
        factories.setup_account()
    results = run_concurrently(
        app, 4, lambda n: factories.make_user("viewer", email="same@example.com")
    )
    assert sum(isinstance(r, User) for r in results) == 1
    errors = [r for r in results if not isinstance(r, User)]
    assert all(isinstance(e, Conflict) and e.field == "email" for e in errors), errors
    with app.app_context():
        assert count(User) == 1


def test_roles_and_passwords_are_checked(app_context) -> None:
    between = "Password must be between 12 and 256 characters."
    assert refusal_message(lambda: factories.make_user("owner")) == "Choose a role from the list."
    assert refusal_message(lambda: factories.make_user("viewer", password="short")) == between
    assert refusal_message(lambda: factories.make_user("viewer", password="x" * 257)) == between
    assert factories.make_user("viewer", password="x" * 256).role == "viewer"
    assert count(User) == 1


@pytest.mark.usefixtures("default_password_costs")
def test_passwords_are_argon2id_at_or_above_owasp_minimum(app_context) -> None:
    user = factories.make_user("viewer")
    assert user.password_hash.startswith("$argon2id$")
    params = dict(p.split("=") for p in user.password_hash.split("$")[3].split(","))
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2 and int(params["p"]) >= 1


@pytest.mark.usefixtures("default_password_costs")
def test_weak_hashes_are_upgraded_on_sign_in(app: Flask, app_context) -> None:
    from argon2 import PasswordHasher
    from limits.storage import MemoryStorage

    from portal.core.throttle import LoginThrottle

    user = factories.make_user("viewer")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(
        factories.PASSWORD
    )
    db.session.commit()
    throttle = LoginThrottle(MemoryStorage(), 5, 30, 900)
    users.sign_in(user.email, factories.PASSWORD, ip=None, user_agent=None, throttle=throttle)
    assert "m=65536" in db.session.get(User, user.id).password_hash


def test_last_admin_cannot_be_demoted_but_one_of_two_can(app_context) -> None:
    first = factories.make_user("admin")
    actor = Actor(user=first)
    with pytest.raises(PermissionDenied):
        users.change_role(actor, first, "viewer")
    second = factories.make_user("admin")
    users.change_role(actor, second, "editor")
    assert db.session.get(User, second.id).role == "editor"


def test_every_change_writes_exactly_one_event(app_context) -> None:
    admin = factories.make_user("admin")
    actor = Actor(user=admin, ip="10.0.0.1")
    before = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    data = NewUser(email="t@example.com", password=factories.PASSWORD, role="viewer")
    target = users.create_user(actor, data)
    users.change_role(actor, target, "editor")
    users.deactivate(actor, target)
    users.activate(actor, target)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [
        "user.create",
        "user.change_role",
        "user.deactivate",
        "user.activate",
    ]
    assert {e.ip for e in events} == {"10.0.0.1"}
    assert {e.actor_label for e in events} == {admin.email}
