"""`flask` commands for operators; they call the same services as the views."""

from __future__ import annotations

import logging
import sys

import click
import prometheus_client
from flask import Flask
from flask.cli import with_appcontext
from flask_sqlalchemy import SQLAlchemy
from pydantic import ValidationError

from portal.jobs import job_queue
from portal.schemas.accounts import NewUser
from portal.schemas.base import field_errors
from portal.services import audit
from portal.services.actor import Actor
from portal.services.errors import DomainError
from portal.services.secrets import rotate_secrets
from portal.services.setup import create_user_from_cli
from portal.web.registry import secret_box

#: Seconds a worker told to stop lets its running jobs finish (gunicorn's graceful_timeout too).
SHUTDOWN_TIMEOUT = 30.0


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


@click.command("worker")
@click.option("--threads", default=1, show_default=True, help="Deliveries run at once.")
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also run the periodic re-enqueue of stale deliveries (one worker needs it).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve this worker's Prometheus metrics (jobs, outbound calls) on this port.",
)
@click.option(
    "--metrics-bind",
    default="127.0.0.1",
    show_default=True,
    help="Address the metrics port listens on (0.0.0.0 for a scraper on another host).",
)
@click.option(
    "--shutdown-timeout",
    type=click.FloatRange(min=0),
    default=SHUTDOWN_TIMEOUT,
    show_default=True,
    help="On SIGTERM, seconds to let running jobs finish before leaving them to the lease.",
)
@with_appcontext
def worker_command(
    threads: int,
    periodic: bool,
    metrics_port: int | None,
    metrics_bind: str,
    shutdown_timeout: float,
) -> None:
    """Run a background worker: deliveries to FlexCharge and the periodic re-enqueue."""
    # Huey reports each job it runs (task name and id only: jobs carry delivery ids).
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    consumer = job_queue().huey.create_consumer(
        workers=max(1, threads),
        worker_type="thread",
        periodic=periodic,
        # An idle worker looks for new jobs at least once a second.
        max_delay=1.0,
        # Huey stops at once on SIGTERM by default, cutting a delivery mid-call. SIGTERM (what
        # systemd, Docker and honcho send) now lets running jobs finish, then exits 0; a second
        # SIGTERM, or SIGINT, stops at once. A job cut short keeps its claim until the lease
        # ends, and the periodic task enqueues it again.
        graceful_signal="TERM",
        shutdown_timeout=shutdown_timeout,
    )
    if metrics_port is not None:
        # A thread of this process serves what its jobs counted (prometheus_client's server).
        prometheus_client.start_http_server(metrics_port, addr=metrics_bind)
    consumer.run()


# Flask-Migrate imports alembic, mako and pygments: 0.1 s and 12 MB in every web worker
# (benchmarks/startup.py) for code that only migrations run. The web app never imports it;
# `flask db ...` and code that migrates (the tests' and benchmarks' `flask_migrate.upgrade()`)
# bind it on first use.
class MigrationCommands(click.Group):
    """`flask db ...`: Flask-Migrate's command group, imported when the CLI reads it."""

    def load(self) -> None:
        """Take Flask-Migrate's options, callback and commands (once)."""
        if not self.commands:
            group = flask_migrate_commands()
            self.params, self.callback, self.commands = group.params, group.callback, group.commands

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        """Return Flask-Migrate's options (`--directory`, `--x-arg`)."""
        self.load()
        return super().get_params(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Name Flask-Migrate's commands."""
        self.load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Return one of Flask-Migrate's commands."""
        self.load()
        return super().get_command(ctx, name)


def flask_migrate_commands() -> click.Group:
    """Return Flask-Migrate's `db` command group."""
    from flask_migrate.cli import db  # deferred: see MigrationCommands

    return db


class DeferredMigrate:
    """Flask-Migrate's entry in `app.extensions`, bound to the app when first read."""

    def __init__(self, app: Flask, db: SQLAlchemy, directory: str) -> None:
        """Remember what Flask-Migrate will need."""
        self.app, self.db, self.directory = app, db, directory

    def __getattr__(self, name: str):
        """Bind Flask-Migrate (it replaces this entry with its own), then read from it."""
        from flask_migrate import Migrate  # deferred: see MigrationCommands

        Migrate(self.app, self.db, directory=self.directory)
        return getattr(self.app.extensions["migrate"], name)


def defer_migrations(app: Flask, db: SQLAlchemy, directory: str) -> None:
    """Offer `flask db ...` and Flask-Migrate's functions without importing them now."""
    app.extensions["migrate"] = DeferredMigrate(app, db, directory)
    app.cli.add_command(MigrationCommands("db", help="Perform database migrations."))


def register(app: Flask) -> None:
    """Add the commands to the app's CLI."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(rotate_keys_command)
    app.cli.add_command(verify_audit_command)
    app.cli.add_command(worker_command)
