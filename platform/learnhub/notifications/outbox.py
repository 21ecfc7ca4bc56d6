"""The outbox side of delivery: claiming due rows, keeping the claim while they are sent, and
recording each outcome (ARCHITECTURE.md rule 3).

Rows are claimed with one conditional UPDATE (queued -> sending); on PostgreSQL the rows of a
batch are picked with FOR UPDATE SKIP LOCKED, so several workers drain the outbox together and
never take the same row. A claim is renewed while its worker works on it and given back a
lease after the last renewal when the worker died (at-least-once: at most the rows in flight
at the crash can go out twice). The claimed rows are written into emails (`rendering`) and
built (`message`) after the claim's commit, so no write lock is held meanwhile.

Retries have one mechanism: a transient failure puts the row back in the queue with its next
attempt time (exponential backoff with jitter, about six hours over MAX_ATTEMPTS), and the
minute sweep delivers the rows that are due again.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from flask import current_app
from sqlalchemy import Boolean, Connection, String, Text, bindparam, case, func, select, update

from ..database import begin_write_transaction, is_postgres, row_count, table_of
from ..extensions import db
from ..registration.models import Registration
from ..types import UTCDateTime, utcnow
from .compose import Unwritable, Written
from .message import UnbuildableMessage, build_message
from .models import OutboxMessage
from .preferences import opted_out
from .rendering import write_rows

#: Rows one sweep claims at a time.
BATCH_SIZE = 100
#: After this many attempts a transiently failing message is given up (about six hours).
MAX_ATTEMPTS = 12
#: Kinds that only make sense while the registration is still confirmed.
CONFIRMED_ONLY_KINDS = ("reminder",)


@dataclass(frozen=True)
class ClaimedMessage:
    """What a delivery needs, read and written while no transaction is open.

    No transaction stays open while the mail server is talked to: on SQLite a read held across
    the send would make the write that records the outcome fail (SQLITE_BUSY_SNAPSHOT) as soon
    as anyone else had written in between, and the sent message would be sent again later.
    """

    id: int
    to_address: str
    subject: str
    attempts: int
    message_id: str | None
    raw: bytes | None
    skip_reason: str | None
    #: Why the message could not be written (a header with a line break, a template error):
    #: it fails on its own, with this reason, and the rest of its batch goes out.
    build_error: str | None = None
    #: The email written at this claim, kept in the row with the outcome.
    written: Written | None = None


@dataclass
class DeliveryOutcome:
    outbox_id: int
    status: str
    reason: str | None = None


def backoff_seconds(attempts: int) -> float:
    """30 s, 1 min, 2 min ... capped at 1 h, each with up to 20 % jitter; with 12 attempts
    the last one comes about six hours after the first."""
    first = current_app.config.get("OUTBOX_BACKOFF_BASE_SECONDS", 30.0)
    base = min(first * 2 ** max(attempts - 1, 0), 3600)
    return base * (1 + random.uniform(0, 0.2))


#: What a claim reads of each row: plain rows, no ORM objects to build and track.
_CLAIM_COLUMNS = tuple(
    getattr(OutboxMessage, name)
    for name in (
        "id",
        "kind",
        "dedupe_key",
        "to_address",
        "subject",
        "text_body",
        "html_body",
        "ics",
        "attempts",
        "message_id",
        "reply_to",
        "unsubscribe_url",
        "category",
        "user_id",
        "registration_id",
        "session_id",
        "expires_at",
        "render_args",
    )
)


def claim_due(now: datetime, *conditions, limit: int) -> list[ClaimedMessage]:
    """Take up to `limit` due rows (queued -> sending), then write and build their emails."""
    begin_write_transaction()
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now, *conditions)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres():
        due = due.with_for_update(skip_locked=True)
    # The claimed rows come back with what sending them needs: one round trip.
    rows = sorted(
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .returning(*_CLAIM_COLUMNS)
            .execution_options(synchronize_session=False)
        ).all(),
        key=lambda row: row.id,
    )
    if not rows:
        db.session.rollback()
        return []
    skip_reasons = _skip_reasons(rows, now)
    db.session.commit()
    written = write_rows([row for row in rows if not skip_reasons.get(row.id)])
    db.session.commit()  # ends the read the writing opened: nothing is held across the send
    return [_claimed(row, skip_reasons.get(row.id), written.get(row.id)) for row in rows]


def _claimed(row, skip_reason: str | None, written: Written | Exception | None) -> ClaimedMessage:
    """One claimed row, its email built from what was written (or from the row itself)."""
    if isinstance(written, Unwritable):
        skip_reason, written = str(written), None
    message_id = raw = build_error = None
    if isinstance(written, Exception):
        build_error, written = _build_error(row.id, written), None
    elif not skip_reason:
        try:
            message_id, raw = build_message(row, written)
        except Exception as error:  # noqa: BLE001  (one message that cannot be built fails alone)
            build_error = _build_error(row.id, error)
    return ClaimedMessage(
        id=row.id,
        to_address=row.to_address,
        subject=written.subject if written else row.subject,
        attempts=row.attempts,
        message_id=message_id,
        raw=raw,
        skip_reason=skip_reason,
        build_error=build_error,
        written=written,
    )


def _build_error(outbox_id: int, error: Exception) -> str:
    current_app.logger.warning("outbox %s cannot be written: %r", outbox_id, error)
    if isinstance(error, UnbuildableMessage):
        return f"the message cannot be written: {error}"
    return f"the message cannot be written: {type(error).__name__}: {error}"[:1000]


def _skip_reasons(rows: list, now: datetime) -> dict[int, str]:
    """Why, by row id, a claimed row is not to be sent: it is late, its recipient switched
    its category off, or its registration is no longer confirmed."""
    statuses = _registration_statuses(rows)
    unsubscribed = _unsubscribed(rows)
    reasons = {}
    for row in rows:
        if row.expires_at is not None and now >= row.expires_at:
            reasons[row.id] = "the session had already started; a late reminder is not sent"
        elif (row.user_id, row.category) in unsubscribed:
            reasons[row.id] = f"the recipient has switched off {row.category}"
        elif row.kind in CONFIRMED_ONLY_KINDS and row.registration_id is not None:
            status = statuses.get(row.registration_id)
            if status != "confirmed":
                reasons[row.id] = f"the registration is {status or 'gone'}, no longer confirmed"
    return reasons


def _registration_statuses(rows: list) -> dict[int, str]:
    ids = {
        row.registration_id
        for row in rows
        if row.kind in CONFIRMED_ONLY_KINDS and row.registration_id is not None
    }
    if not ids:
        return {}
    statuses = db.session.execute(
        select(Registration.id, Registration.status).where(Registration.id.in_(ids))
    )
    return dict(statuses.all())


def _unsubscribed(rows: list) -> set[tuple[int, str]]:
    """(user, category) pairs among these rows that the person has switched off."""
    found: set[tuple[int, str]] = set()
    for category in {row.category for row in rows if row.category and row.user_id}:
        user_ids = [row.user_id for row in rows if row.category == category and row.user_id]
        found |= {(user_id, category) for user_id in opted_out(user_ids, category)}
    return found


class ClaimKept:
    """Renews the claim of rows while this process works on them (a heartbeat), so a short
    lease (`OUTBOX_CLAIM_LEASE_SECONDS`) is enough: the rows of a worker that was killed come
    back to the queue a lease after its last renewal, while a slow batch keeps its rows.

    `held()` turns false when no renewal has gone through for half a lease (the database
    out of reach): the batch then stops and gives back what it has not started, so another
    worker that takes the rows over after the lease never sends them a second time."""

    def __init__(self, outbox_ids: list[int]) -> None:
        self.outbox_ids = outbox_ids
        self.lease = current_app.config["OUTBOX_CLAIM_LEASE_SECONDS"]
        self.renewed = time.monotonic()
        self._app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-lease", daemon=True)

    def __enter__(self) -> ClaimKept:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def held(self) -> bool:
        return time.monotonic() - self.renewed < self.lease / 2

    def _run(self) -> None:
        while not self._stop.wait(self.lease / 4):
            started = time.monotonic()
            try:
                with self._app.app_context(), db.engine.connect() as connection:
                    connection.execute(
                        update(table_of(OutboxMessage))
                        .where(
                            table_of(OutboxMessage).c.id.in_(self.outbox_ids),
                            table_of(OutboxMessage).c.status == "sending",
                        )
                        .values(claimed_at=utcnow())
                    )
                    connection.commit()
                self.renewed = started
            except Exception as error:  # noqa: BLE001  (held() says so after half a lease)
                self._app.logger.warning("could not renew the outbox claim: %r", error)


def give_back(outbox_ids: list[int]) -> None:
    """Return claimed rows that were not started to the queue, as if never claimed."""
    begin_write_transaction()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.status == "sending")
        .values(status="queued", claimed_at=None, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def release_lost_claims(now: datetime) -> int:
    """Give back rows whose worker died mid-send (at-least-once: it may be sent again)."""
    lease = timedelta(seconds=current_app.config["OUTBOX_CLAIM_LEASE_SECONDS"])
    begin_write_transaction()
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - lease)
        .values(status="queued", claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return row_count(result)


@contextmanager
def recorder() -> Iterator[Connection]:
    """A connection in autocommit for outcomes: one statement, one round trip each, and no
    transaction left open across a send.

    On PostgreSQL these commits do not wait for the WAL flush (synchronous_commit off, reset
    before the connection goes back to the pool): a worker that dies right after still leaves
    the outcome recorded; only a crash of the database server itself could lose the last few
    outcomes, whose messages would then go out once more."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.exec_driver_sql("SET synchronous_commit TO OFF")
        try:
            yield connection
        finally:
            if postgres:
                connection.exec_driver_sql("RESET synchronous_commit")


def record(
    connection: Connection,
    claimed: ClaimedMessage,
    status: str,
    reason: str | None = None,
    *,
    sent: bool = False,
    retry: bool = False,
) -> DeliveryOutcome:
    """Write the outcome, with the email written at the claim, only while the claim is ours.

    One statement built once (SQLAlchemy caches its compiled form): per message this is a
    single round trip with no statement construction."""
    written = claimed.written
    now = utcnow()
    params = {
        "outbox_id": claimed.id,
        "new_status": status,
        "reason": reason,
        "sent_message_id": claimed.message_id if sent else None,
        "sent_at": now if sent else None,
        "retry_at": now + timedelta(seconds=backoff_seconds(claimed.attempts)) if retry else None,
        "written": written is not None,
        "subject": written.subject if written else None,
        "text_body": written.text_body if written else None,
        "html_body": written.html_body if written else None,
        "ics": written.ics if written else None,
        "reply_to": written.reply_to if written else None,
        "unsubscribe_url": written.unsubscribe_url if written else None,
    }
    if connection.dialect.name == "postgresql":
        # Straight to psycopg, as a prepared statement: SQLAlchemy's own work per execution
        # was most of a recorded outcome's cost in the worker.
        cast(Any, connection.connection.driver_connection).execute(
            _RECORD_SQL, params, prepare=True
        )
    else:
        connection.execute(_record_statement(), params)
    return DeliveryOutcome(claimed.id, status, reason)


#: _record_statement() as PostgreSQL runs it (the recorder's connection is in autocommit).
_RECORD_SQL = (
    "UPDATE outbox_message SET status = %(new_status)s, last_error = %(reason)s, "
    "claimed_at = NULL, message_id = COALESCE(%(sent_message_id)s, message_id), "
    "sent_at = COALESCE(%(sent_at)s, sent_at), "
    "next_attempt_at = COALESCE(%(retry_at)s, next_attempt_at), "
    "subject = COALESCE(%(subject)s, subject), text_body = COALESCE(%(text_body)s, text_body), "
    "html_body = COALESCE(%(html_body)s, html_body), ics = COALESCE(%(ics)s, ics), "
    "reply_to = COALESCE(%(reply_to)s, reply_to), "
    "unsubscribe_url = COALESCE(%(unsubscribe_url)s, unsubscribe_url), "
    "render_args = CASE WHEN %(written)s THEN NULL ELSE render_args END "
    "WHERE id = %(outbox_id)s AND status = 'sending'"
)


@cache
def _record_statement():
    table = OutboxMessage.__table__

    def kept(name: str, column, type_) -> object:
        return func.coalesce(bindparam(name, type_=type_), column)

    return (
        update(table)
        .where(table.c.id == bindparam("outbox_id"), table.c.status == "sending")
        .values(
            status=bindparam("new_status"),
            last_error=bindparam("reason"),
            claimed_at=None,
            message_id=kept("sent_message_id", table.c.message_id, String),
            sent_at=kept("sent_at", table.c.sent_at, UTCDateTime),
            next_attempt_at=kept("retry_at", table.c.next_attempt_at, UTCDateTime),
            subject=kept("subject", table.c.subject, String),
            text_body=kept("text_body", table.c.text_body, Text),
            html_body=kept("html_body", table.c.html_body, Text),
            ics=kept("ics", table.c.ics, Text),
            reply_to=kept("reply_to", table.c.reply_to, String),
            unsubscribe_url=kept("unsubscribe_url", table.c.unsubscribe_url, String),
            render_args=case(
                (bindparam("written", type_=Boolean), None), else_=table.c.render_args
            ),
        )
    )
