"""Command-line tools: `flask --app wsgi demo load`, `flask --app wsgi outbox drain`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from .extensions import db

demo_cli = AppGroup("demo", help="Demo data.")
outbox_cli = AppGroup("outbox", help="The email outbox.")


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


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(outbox_cli)
