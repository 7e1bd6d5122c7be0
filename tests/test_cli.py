"""`flask create-user` for operators who script their set-up."""

from __future__ import annotations

from sqlalchemy import select

from portal.core import passwords
from portal.extensions import db
from portal.models import Company, User


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
