"""`flask` commands for operators; they call the same services as the views."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from pydantic import ValidationError

from portal.schemas.accounts import NewUser
from portal.schemas.base import field_errors
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import DomainError
from portal.services.secrets import rotate_secrets
from portal.services.setup import create_user_from_cli
from portal.web.registry import secret_box


def read_password() -> str:
    """Read the password: typed twice at a terminal, or one line from a pipe."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "editor", "viewer"]), default="viewer")
@with_appcontext
def create_user_command(email: str, role: str) -> None:
    """Create a user (the password is typed twice at a prompt, or read once from stdin)."""
    password = read_password()
    try:
        data = NewUser(email=email, password=password, role=role)
        user = create_user_from_cli(data)
    except ValidationError as error:
        raise click.ClickException(" ".join(field_errors(error).values())) from None
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created {user.role} {user.email}.")


@click.command("rotate-keys")
@with_appcontext
def rotate_keys_command() -> None:
    """Re-encrypt every stored secret with the newest key of PORTAL_ENCRYPTION_KEYS."""
    try:
        report = rotate_secrets(Actor.system("rotate-keys"), secret_box())
    except DomainError as error:
        raise click.ClickException(error.message) from None
    for label, count in report.rewritten.items():
        click.echo(f"{label}: {count} rewritten")
    click.echo(f"Re-encrypted {report.total} row(s) with the newest encryption key.")


@click.command("verify-audit")
@with_appcontext
def verify_audit_command() -> None:
    """Check the audit trail's hash chain; report the first event whose link is broken."""
    report = audit.verify_chain()
    if not report.intact:
        raise click.ClickException(
            f"The audit trail is broken at event #{report.broken_at}: it {report.problem}. "
            f"{report.checked} event(s) before it are intact."
        )
    click.echo(f"The audit trail is intact: {report.checked} event(s) checked.")


def register(app: Flask) -> None:
    """Add the commands to the app's CLI."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(rotate_keys_command)
    app.cli.add_command(verify_audit_command)
