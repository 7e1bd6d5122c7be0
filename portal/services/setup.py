"""First-run setup: the first administrator and the "Default Company"."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from portal.core import passwords
from portal.core.names import name_key
from portal.extensions import db
from portal.models import DEFAULT_COMPANY_NAME, SETTINGS_ID, AccountSettings, Company, Role, User
from portal.models.base import utcnow
from portal.schemas.accounts import Credentials, NewUser
from portal.services import audit
from portal.services.actor import Actor
from portal.services.users import create_user, normalise_email


class SetupAlreadyDone(Exception):
    """Setup runs once; after that it is gone."""


def is_needed() -> bool:
    """Tell whether the portal still has no user."""
    return not db.session.scalar(select(exists().where(User.id.is_not(None))))


def ensure_account(actor: Actor) -> AccountSettings:
    """Create the settings row and "Default Company" unless they exist (not committed)."""
    settings = db.session.get(AccountSettings, SETTINGS_ID)
    if settings is None:
        settings = AccountSettings(id=SETTINGS_ID, setup_completed_at=utcnow())
        db.session.add(settings)
        db.session.flush()
    if db.session.scalar(select(Company).limit(1)) is None:
        company = Company(name=DEFAULT_COMPANY_NAME, name_key=name_key(DEFAULT_COMPANY_NAME))
        db.session.add(company)
        db.session.flush()
        audit.record(actor, "company.create", company, changes={"name": company.name})
    return settings


def create_first_admin(data: Credentials, *, ip: str | None) -> User:
    """Create the first administrator and the default company, once."""
    if not is_needed():
        raise SetupAlreadyDone()
    email = normalise_email(data.email)
    actor = Actor(user=None, ip=ip, label_override=email)
    try:
        # The settings row has a fixed primary key, so a concurrent setup fails here.
        db.session.add(AccountSettings(id=SETTINGS_ID, setup_completed_at=utcnow()))
        db.session.flush()
        ensure_account(actor)
        user = User(
            email=email,
            password_hash=passwords.hash_password(data.password.get_secret_value()),
            role=Role.ADMIN,
        )
        db.session.add(user)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise SetupAlreadyDone() from None
    audit.record(Actor(user=user, ip=ip), "setup.complete", user, changes={"email": email})
    db.session.commit()
    return user


def create_user_from_cli(data: NewUser) -> User:
    """Create a user for operators who script their set-up (`flask create-user`)."""
    actor = Actor.system("cli")
    ensure_account(actor)
    return create_user(actor, data)
