"""Operations commands: `flask settings check`, `flask outbox retry-failed | purge-failed`,
`flask retention apply`, `flask storage move-to-store` (docs/DEPLOYMENT.md)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import delete, func, select

from .database import begin_write_transaction
from .extensions import db

settings_cli = AppGroup("settings", help="Settings.")
retention_cli = AppGroup("retention", help="The data-retention policy.")
storage_cli = AppGroup("storage", help="Uploaded files.")


@settings_cli.command("check")
@click.option("--connect", is_flag=True, help="Also reach the database, broker and file store.")
def check_settings_command(connect: bool) -> None:
    """Name every missing or unsafe production setting in this environment (exit 1 if any)."""
    from .config import ProductionConfig

    problems = ProductionConfig(Path(current_app.instance_path)).problems()
    if connect:
        problems.extend(_unreachable())
    for problem in problems:
        click.echo(f"- {problem}")
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) with the production settings.")
    click.echo("The production settings are complete.")


def _unreachable() -> list[str]:
    from .health import broker_state, database_state
    from .storage import storage

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


@click.command("retry-failed")
@click.option("--kind", help="Only messages of this kind (reminder, confirmation, ...).")
def retry_failed_command(kind: str | None) -> None:
    """Queue every failed email again, due now (as /admin/outbox's Retry does)."""
    from .notifications.models import OutboxMessage
    from .notifications.policy import retry_failed

    query = select(OutboxMessage.id).where(OutboxMessage.status == "failed")
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    ids = list(db.session.scalars(query.order_by(OutboxMessage.id)))
    if not ids:
        click.echo("No failed message to retry.")
        return
    click.echo(f"{retry_failed(ids)} failed message(s) queued again.")


@click.command("purge-failed")
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
    from .notifications.models import OutboxMessage
    from .types import utcnow

    cutoff = utcnow() - timedelta(days=older_than_days)
    where = (OutboxMessage.status == "failed", OutboxMessage.created_at <= cutoff)
    if dry_run:
        count = db.session.scalar(select(func.count()).where(*where))
        click.echo(f"{count} failed message(s) would be deleted.")
        return
    begin_write_transaction()
    result = db.session.execute(delete(OutboxMessage).where(*where))
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
    from .retention import apply_policy

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
    from .storage import LocalStorage, S3Storage, StorageError, storage

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
    import mimetypes

    return mimetypes.guess_type(name)[0]
