"""The `flask` commands: `demo load`, `accounts create-admin`, `outbox drain | retry-failed |
purge-failed`, `settings check`, `retention apply`, `storage move-to-store` (docs/DEPLOYMENT.md)."""

from __future__ import annotations

import mimetypes
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import CursorResult, String, delete, func, select
from sqlalchemy.orm import InstrumentedAttribute

from .accounts.models import User
from .accounts.services import MIN_PASSWORD_LENGTH, find_user_by_email, normalise_email
from .accounts.services import set_password as hash_password
from .catalogue.models import Programme
from .config import ProductionConfig
from .database import begin_write_transaction
from .demo.data import load_demo
from .extensions import db
from .health import broker_state, database_state
from .notifications.delivery import drain
from .notifications.models import OutboxMessage
from .notifications.policy import retry_failed
from .retention import apply_policy
from .storage import LocalStorage, S3Storage, StorageError, storage
from .types import utcnow

demo_cli = AppGroup("demo", help="Demo data.")
accounts_cli = AppGroup("accounts", help="Accounts.")
outbox_cli = AppGroup("outbox", help="The email outbox.")
settings_cli = AppGroup("settings", help="Settings.")
retention_cli = AppGroup("retention", help="The data-retention policy.")
storage_cli = AppGroup("storage", help="Uploaded files.")


def register_cli(app: Flask) -> None:
    for group in (demo_cli, accounts_cli, outbox_cli, settings_cli, retention_cli, storage_cli):
        app.cli.add_command(group)


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when programmes already exist.")
def load_demo_command(if_empty: bool) -> None:
    """Load the two demo programmes, an organiser and a participant."""
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


def _max_length(attribute: InstrumentedAttribute[Any]) -> int:
    """The length of a String column."""
    column_type = attribute.property.columns[0].type
    if not isinstance(column_type, String) or column_type.length is None:
        raise TypeError(f"{attribute} is not a String column of limited length")
    return column_type.length


@accounts_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.password_option(help="At least 10 characters.")
def create_admin_command(email: str, full_name: str, password: str) -> None:
    """Make the site's first administrator (who then invites organisers at /admin/organisers/)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")
    email_length, name_length = _max_length(User.email), _max_length(User.full_name)
    if len(normalise_email(email)) > email_length:
        raise click.ClickException(f"Use an email address of at most {email_length} characters.")
    if len(full_name.strip()) > name_length:
        raise click.ClickException(f"Use a name of at most {name_length} characters.")
    begin_write_transaction()
    user = find_user_by_email(email) or User(
        email=normalise_email(email), full_name=full_name.strip()
    )
    user.role = "admin"
    hash_password(user, password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"{user.email} is an administrator.")


@outbox_cli.command("drain")
def drain_command() -> None:
    """Deliver every due outbox message now, in this process."""
    outcomes = drain()
    click.echo(f"{len(outcomes)} message(s) processed.")


@settings_cli.command("check")
@click.option("--connect", is_flag=True, help="Also reach the database, broker and file store.")
def check_settings_command(connect: bool) -> None:
    """Name every missing or unsafe production setting in this environment (exit 1 if any)."""
    problems = ProductionConfig(Path(current_app.instance_path)).problems()
    if connect:
        problems.extend(_unreachable())
    for problem in problems:
        click.echo(f"- {problem}")
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) with the production settings.")
    click.echo("The production settings are complete.")


def _unreachable() -> list[str]:
    found = []
    if (state := database_state()) != "ok":
        found.append(f"the database is {state}")
    if (state := broker_state()) != "ok":
        found.append(f"the broker is {state}")
    try:
        next(iter(storage().names()), None)
    except Exception as error:
        found.append(f"the file store cannot be listed: {type(error).__name__}: {error}")
    return found


@outbox_cli.command("retry-failed")
@click.option("--kind", help="Only messages of this kind (reminder, confirmation, ...).")
def retry_failed_command(kind: str | None) -> None:
    """Queue every failed email again, due now (as /admin/outbox's Retry does)."""
    query = select(OutboxMessage.id).where(OutboxMessage.status == "failed")
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    ids = list(db.session.scalars(query.order_by(OutboxMessage.id)))
    if not ids:
        click.echo("No failed message to retry.")
        return
    click.echo(f"{retry_failed(ids)} failed message(s) queued again.")


@outbox_cli.command("purge-failed")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Only messages written at least this many days ago.",
)
@click.option("--dry-run", is_flag=True, help="Count them; delete nothing.")
def purge_failed_command(older_than_days: int, dry_run: bool) -> None:
    """Delete failed emails (they hold addresses and text) once they are no longer needed."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    where = (OutboxMessage.status == "failed", OutboxMessage.created_at <= cutoff)
    if dry_run:
        count = db.session.scalar(select(func.count()).where(*where))
        click.echo(f"{count} failed message(s) would be deleted.")
        return
    begin_write_transaction()
    # A DELETE gives a CursorResult (its row count); execute() says Result.
    result = cast(CursorResult[Any], db.session.execute(delete(OutboxMessage).where(*where)))
    db.session.commit()
    click.echo(f"{result.rowcount} failed message(s) deleted.")


@retention_cli.command("apply")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    help="Keep personal data this many days after a programme's last session "
    "(default: DATA_RETENTION_DAYS).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
def retention_command(days: int | None, dry_run: bool) -> None:
    """Delete or anonymise the personal data of programmes that ended long enough ago."""
    chosen = current_app.config["DATA_RETENTION_DAYS"] if days is None else days
    report = apply_policy(chosen, dry_run=dry_run)
    for line in report.lines():
        click.echo(line)
    if dry_run:
        click.echo("Dry run: nothing was changed.")


@storage_cli.command("move-to-store")
@click.option("--keep-local", is_flag=True, help="Copy only: leave the files in the folder.")
def move_to_store_command(keep_local: bool) -> None:
    """Move the files in UPLOAD_FOLDER into the object store (STORAGE_BACKEND=s3).

    Safe to run again: a file already in the store with the same size is not sent twice. A
    local file is removed only once the store holds it with the same size."""
    try:
        target = storage()
    except StorageError as error:
        raise click.ClickException(str(error)) from error
    if not isinstance(target, S3Storage):
        raise click.ClickException(
            "Set STORAGE_BACKEND=s3 and the S3_* settings first: the files move to that store."
        )
    source = LocalStorage(current_app.config["UPLOAD_FOLDER"])
    moved = skipped = 0
    for name in source.names():
        path = source.folder / name
        size = path.stat().st_size
        if target.size(name) == size:
            skipped += 1
        else:
            target.save(name, path.read_bytes(), _content_type(name))
            if target.size(name) != size:
                raise click.ClickException(f"{name}: the store did not keep the whole file.")
            moved += 1
        if not keep_local:
            path.unlink()
    click.echo(f"{moved} file(s) copied to the store, {skipped} already there.")
    if not keep_local:
        click.echo(f"The folder {source.folder} no longer holds them.")


def _content_type(name: str) -> str | None:
    return mimetypes.guess_type(name)[0]
