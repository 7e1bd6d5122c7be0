"""`flask` commands for operators; they call the same services as the views."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from portal.services.errors import DomainError


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "editor", "viewer"]), default="viewer")
@click.password_option(prompt="Password", confirmation_prompt=True)
@with_appcontext
def create_user_command(email: str, role: str, password: str) -> None:
    """Create a user (the password comes from a prompt, or from stdin when piped)."""
    from portal.services.setup import create_user_from_cli

    try:
        user = create_user_from_cli(email, password, role)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created {user.role} {user.email}.")


def register(app: Flask) -> None:
    """Add the commands to the app's CLI."""
    app.cli.add_command(create_user_command)
