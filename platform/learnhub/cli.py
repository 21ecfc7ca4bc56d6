"""Command-line tools: `flask --app wsgi demo load`, `outbox drain`, `accounts create-admin`;
the operations commands (settings, retry/purge failed email, retention, storage) are in
ops_cli.py."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from .extensions import db

demo_cli = AppGroup("demo", help="Demo data.")
outbox_cli = AppGroup("outbox", help="The email outbox.")
accounts_cli = AppGroup("accounts", help="Accounts.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when programmes already exist.")
def load_demo_command(if_empty: bool) -> None:
    """Load the two demo programmes, an organiser and a participant."""
    from .catalogue.models import Programme
    from .demo.data import load_demo

    existing = db.session.scalar(select(func.count()).select_from(Programme)) or 0
    if existing:
        if if_empty:
            click.echo(f"Demo not loaded: the database already has {existing} programme(s).")
            return
        raise click.ClickException(
            "The database already has programmes; the demo loads into an empty database only."
        )
    logins = load_demo()
    click.echo("Demo loaded. Sign in at http://127.0.0.1:5000/login with:")
    for role, login in logins.items():
        click.echo(f"  {role:12} {login}")


@outbox_cli.command("drain")
def drain_command() -> None:
    """Deliver every due outbox message now, in this process."""
    from .notifications.delivery import drain

    outcomes = drain()
    click.echo(f"{len(outcomes)} message(s) processed.")


@accounts_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.password_option(help="At least 10 characters.")
def create_admin_command(email: str, full_name: str, password: str) -> None:
    """Make the site's first administrator (who then invites organisers at /admin/organisers/)."""
    from .accounts.models import User
    from .accounts.services import MIN_PASSWORD_LENGTH, find_user_by_email, normalise_email
    from .accounts.services import set_password as hash_password
    from .database import begin_write_transaction

    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")
    columns = User.__table__.c
    if len(normalise_email(email)) > columns.email.type.length:
        raise click.ClickException(
            f"Use an email address of at most {columns.email.type.length} characters."
        )
    if len(full_name.strip()) > columns.full_name.type.length:
        raise click.ClickException(
            f"Use a name of at most {columns.full_name.type.length} characters."
        )
    begin_write_transaction()
    user = find_user_by_email(email) or User(
        email=normalise_email(email), full_name=full_name.strip()
    )
    user.role = "admin"
    hash_password(user, password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"{user.email} is an administrator.")


def register_cli(app: Flask) -> None:
    from .ops_cli import (
        purge_failed_command,
        retention_cli,
        retry_failed_command,
        settings_cli,
        storage_cli,
    )

    outbox_cli.add_command(retry_failed_command)
    outbox_cli.add_command(purge_failed_command)
    app.cli.add_command(demo_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(accounts_cli)
    app.cli.add_command(settings_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(storage_cli)
