"""Account Settings > Account settings: admins switch the scheduler."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.account_integrations import (
    INDEX,
    SETTINGS,
)
from tests.support.web import csrf_token


def test_only_admins_change_account_settings(app: Flask, client: FlaskClient, login) -> None:
    login("editor")
    assert client.get(SETTINGS).status_code == 403
    token = csrf_token(client, INDEX)
    response = client.post(SETTINGS, data={"csrf_token": token, "scheduler_enabled": "y"})
    assert response.status_code == 403
    with app.app_context():
        from portal.services.account_settings import scheduler_enabled

        assert not scheduler_enabled()
