"""`flask create-user` for operators who script their set-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select, text

from portal import create_app
from portal.core import passwords
from portal.extensions import db
from portal.models import Company, User
from tests.support.apps import overrides

ROOT = Path(__file__).resolve().parent.parent


def test_create_user_reads_the_password_from_stdin(app, runner) -> None:
    secret = "a scripted passphrase"
    result = runner.invoke(
        args=["create-user", "Ops@Example.com", "--role", "admin"], input=f"{secret}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created admin ops@example.com." in result.output
    assert secret not in result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.role) == ("ops@example.com", "admin")
        assert db.session.scalar(select(Company.name)) == "Default Company"


def test_create_user_refuses_a_duplicate_and_a_short_password(app, runner) -> None:
    good = "a scripted passphrase"
    runner.invoke(args=["create-user", "ops@example.com"], input=f"{good}\n")
    result = runner.invoke(args=["create-user", "OPS@example.com"], input=f"{good}\n")
    assert result.exit_code == 1 and "already exists" in result.output
    result = runner.invoke(args=["create-user", "new@example.com"], input="short\n")
    assert result.exit_code == 1 and "between 12 and 256" in result.output


def test_create_user_reads_one_line_from_a_pipe_and_checks_the_email(app, runner) -> None:
    secret = "a scripted passphrase"
    result = runner.invoke(args=["create-user", "not-an-email"], input=f"{secret}\n")
    assert result.exit_code == 1 and "Enter a valid e-mail address." in result.output
    # One line is the password, whole: a second line would have been a confirmation before.
    result = runner.invoke(args=["create-user", "ops@example.com"], input=f"{secret}\nother\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert passwords.verify_password(user.password_hash, secret)


# The web app's start: what `gunicorn wsgi:app` imports, in a process of its own.
WEB_START = """
import json, sys
import wsgi
from portal.core import passwords
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"loaded": loaded, "stand_in_made": passwords._dummy_hash is not None}))
"""


INSTANCE_SECRETS = ("SECRET_KEY", "ENCRYPTION_KEYS", "API_KEY_PEPPER")


def test_the_web_app_imports_no_migration_or_rare_page_library(tmp_path) -> None:
    """`gunicorn wsgi:app` loads neither alembic nor Flask-Migrate nor markdown-it nor Huey
    (whose storage brings redis and psycopg), and makes no password hash, at start: they cost
    every worker time and memory."""
    env = {
        **os.environ,
        # The instance secrets, from the environment as production gives them.
        **{f"PORTAL_{key}": overrides("")[key] for key in INSTANCE_SECRETS},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "PORTAL_JOBS_STORE": f"sqlite:///{tmp_path / 'jobs.db'}",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    answer = subprocess.run(
        [sys.executable, "-c", WEB_START],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    started = json.loads(answer.stdout.splitlines()[-1])
    unused_at_start = {"alembic", "flask_migrate", "mako", "markdown_it", "huey", "psycopg"}
    assert unused_at_start.isdisjoint(started["loaded"])
    assert "portal" in started["loaded"]
    assert started["stand_in_made"] is False


def test_flask_db_upgrade_migrates_a_new_database(tmp_path) -> None:
    """`flask db upgrade` still works, Flask-Migrate bound when the command is looked up."""
    app = create_app(overrides(f"sqlite:///{tmp_path / 'new.db'}"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM alembic_version")) == 1
