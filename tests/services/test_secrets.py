"""rotate-keys covers every encrypted column: connection secrets too."""

from __future__ import annotations

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.models import Connection
from portal.services import secrets as secret_service
from portal.services.actor import Actor
from portal.web.registry import secret_box
from tests import factories
from tests.support.apps import ENCRYPTION_KEY, overrides

SECRETS = {"password": "supersecure1", "api_secret": "ljkllLkklmKLlk3"}


def plaintexts(app: Flask) -> list[tuple[str, str | None, str | None]]:
    """Decrypt every connection secret with the app's keys."""
    with app.app_context():
        box = secret_box()
        rows = db.session.scalars(select(Connection).order_by(Connection.id)).all()
        values = [
            (
                box.decrypt(row.shared_secret_encrypted),
                row.password_encrypted and box.decrypt(row.password_encrypted),
                row.api_secret_encrypted and box.decrypt(row.api_secret_encrypted),
            )
            for row in rows
        ]
        db.session.remove()
        db.engine.dispose()
    return values


def test_connection_secrets_stay_readable_after_rotation_and_removal_of_the_old_key(
    app: Flask, database_url: str
) -> None:
    with app.app_context():
        factories.make_connection(config=SECRETS, shared_secret="OsEPpNrSr8hxYR3BO0F73YXMvMdDsM")
        factories.make_connection()  # generated shared secret, no password or API secret
    before = plaintexts(app)

    new = Fernet.generate_key().decode()
    rotating = create_app(overrides(database_url, ENCRYPTION_KEYS=f"{new},{ENCRYPTION_KEY}"))
    with rotating.app_context():
        report = secret_service.rotate_secrets(Actor.system("test"), secret_box())
        db.session.remove()
        db.engine.dispose()
    assert report.rewritten["connections.shared_secret_encrypted"] == 2
    assert report.rewritten["connections.password_encrypted"] == 1
    assert report.rewritten["connections.api_secret_encrypted"] == 1

    only_new = create_app(overrides(database_url, ENCRYPTION_KEYS=new))
    assert plaintexts(only_new) == before
    assert before[0] == ("OsEPpNrSr8hxYR3BO0F73YXMvMdDsM", *SECRETS.values())
