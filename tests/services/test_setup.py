"""First-run setup: exactly one administrator, whatever the race."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.models import AccountSettings, Company, User
from portal.schemas.accounts import Credentials
from portal.services import setup
from tests import factories
from tests.support.concurrency import run_concurrently
from tests.support.queries import count

pytestmark = pytest.mark.services


def test_concurrent_setups_create_exactly_one_admin(app: Flask) -> None:
    results = run_concurrently(
        app,
        4,
        lambda n: setup.create_first_admin(
            Credentials(email=f"admin{n}@example.com", password=factories.PASSWORD), ip=None
        ),
    )
    successes = [r for r in results if isinstance(r, User)]
    assert len(successes) == 1
    assert all(isinstance(r, setup.SetupAlreadyDone) for r in results if r not in successes)
    with app.app_context():
        assert count(User) == 1 and count(Company) == 1 and count(AccountSettings) == 1
