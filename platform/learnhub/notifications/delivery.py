"""Delivering outbox rows: claim, check, send, record (ARCHITECTURE.md rules 3 and 7).

Rows are claimed with one conditional UPDATE (queued -> sending); on PostgreSQL the rows of a
batch are picked with FOR UPDATE SKIP LOCKED, so several workers drain the outbox together and
never take the same row. A claim whose worker died is given back after a lease (at-least-once:
at most the rows in flight at the crash can go out twice). Transient failures (connection
errors, 4xx replies) go back to the queue with exponential backoff and jitter for about six
hours; permanent ones (5xx) are recorded with the server's reply and not retried.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import Connection, String, bindparam, func, or_, select, update

from ..database import begin_write_transaction, is_postgres
from ..extensions import db
from ..registration.models import Registration
from ..types import UTCDateTime, utcnow
from .mail_backends import (
    ClaimedMessage,
    DevMailboxBackend,
    PermanentDeliveryError,
    SMTPBackend,
    TransientDeliveryError,
    backoff_seconds,
    mail_backend,
)
from .message import UnbuildableMessage, build_message
from .models import OutboxMessage
from .services import render_deferred

__all__ = [
    "ClaimedMessage",
    "DevMailboxBackend",
    "PermanentDeliveryError",
    "SMTPBackend",
    "TransientDeliveryError",
    "backoff_seconds",
    "build_message",
    "mail_backend",
]

#: Rows one sweep claims at a time.
BATCH_SIZE = 100
#: After this many attempts a transiently failing message is given up (about six hours).
MAX_ATTEMPTS = 12
#: Kinds that only make sense while the registration is still confirmed.
CONFIRMED_ONLY_KINDS = ("reminder",)


@dataclass
class DeliveryOutcome:
    outbox_id: int
    status: str
    reason: str | None = None


def _claim(now: datetime, *conditions, limit: int) -> list[ClaimedMessage]:
    """Take up to `limit` due rows (queued -> sending) and read what sending them needs."""
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
    messages = sorted(
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .returning(*_CLAIM_COLUMNS)
            .execution_options(synchronize_session=False)
        ).all(),
        key=lambda message: message.id,
    )
    if not messages:
        db.session.rollback()
        return []
    messages, unwritable, failures = _write_deferred(messages)
    statuses = _registration_statuses(messages)
    unsubscribed = _unsubscribed(messages)
    skip_reasons = [
        unwritable.get(message.id) or _skip_reason(message, now, statuses, unsubscribed)
        for message in messages
    ]
    db.session.commit()
    # Built after the commit: the write lock (SQLite) is not held while the bytes are made.
    claimed = []
    for message, skip_reason in zip(messages, skip_reasons, strict=True):
        message_id, raw, build_error = None, None, failures.get(message.id)
        if not (skip_reason or build_error):
            try:
                message_id, raw = build_message(message)
            except Exception as error:  # one message that cannot be written fails alone
                build_error = _build_error(message.id, error)
        claimed.append(
            ClaimedMessage(
                id=message.id,
                to_address=message.to_address,
                subject=message.subject,
                attempts=message.attempts,
                message_id=message_id,
                raw=raw,
                skip_reason=skip_reason,
                build_error=build_error,
            )
        )
    return claimed


def _build_error(outbox_id: int, error: Exception) -> str:
    current_app.logger.warning("outbox %s cannot be written: %r", outbox_id, error)
    if isinstance(error, UnbuildableMessage):
        return f"the message cannot be written: {error}"
    return f"the message cannot be written: {type(error).__name__}: {error}"[:1000]


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
        "expires_at",
        "render_args",
    )
)
_CLAIM_COLUMN_NAMES = tuple(column.key for column in _CLAIM_COLUMNS)


def _write_deferred(messages: list) -> tuple[list, dict[int, str], dict[int, str]]:
    """Rows queued with `render_args` (registration emails) get their subject and bodies
    written now, in this claim's transaction (`render_deferred`). Returns the claimed rows
    with those replaced by plain snapshots of their written values, why a row is not to be
    written (skipped) and why one could not be (failed). Snapshots, not ORM objects: reading
    an expired object after the commit would open a read transaction that stays open across
    the send."""
    deferred_ids = [message.id for message in messages if message.render_args]
    if not deferred_ids:
        return messages, {}, {}
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(deferred_ids))
        .execution_options(populate_existing=True)
    ).all()
    unwritable, failures = render_deferred(list(rows))
    db.session.flush()
    written = {
        row.id: SimpleNamespace(**{name: getattr(row, name) for name in _CLAIM_COLUMN_NAMES})
        for row in rows
    }
    failures = {row_id: _build_error(row_id, error) for row_id, error in failures.items()}
    return [written.get(message.id, message) for message in messages], unwritable, failures


def claim(outbox_id: int, now: datetime) -> ClaimedMessage | None:
    """Take one row if it is due and still queued; None when someone else has it."""
    claimed = _claim(now, OutboxMessage.id == outbox_id, limit=1)
    return claimed[0] if claimed else None


def deliver(outbox_id: int) -> DeliveryOutcome | None:
    """Deliver one row (the task run after commit); None when another worker has it.

    Raises TransientDeliveryError, after putting the row back in the queue, so that the task
    can retry with the row's backoff."""
    claimed = claim(outbox_id, utcnow())
    if claimed is None:
        return None
    with _ClaimKept([claimed.id]), mail_backend().connection() as send, _recorder() as recorder:
        return _send_and_record(claimed, send, recorder, raise_transient=True)


def deliver_due(
    now: datetime, *, grace_seconds: float = 0, batches: int = 50
) -> list[DeliveryOutcome]:
    """Drain due rows in batches (the sweep, the CLI, tests); one mail connection per batch.

    With `grace_seconds`, rows that have never been tried are left alone until they are that
    old: they were just handed to a delivery task, which normally takes them first."""
    conditions = []
    if grace_seconds:
        conditions.append(
            or_(
                OutboxMessage.attempts > 0,
                OutboxMessage.created_at <= now - timedelta(seconds=grace_seconds),
            )
        )
    outcomes: list[DeliveryOutcome] = []
    for _ in range(batches):
        claimed = _claim(utcnow(), *conditions, limit=BATCH_SIZE)
        if not claimed:
            break
        backend = mail_backend()
        connections = current_app.config["OUTBOX_SMTP_CONNECTIONS"]
        with _ClaimKept([message.id for message in claimed]) as kept:
            if isinstance(backend, SMTPBackend) and connections > 1 and len(claimed) > 1:
                outcomes += _deliver_side_by_side(
                    claimed, backend, min(connections, len(claimed)), kept
                )
                continue
            with backend.connection() as send, _recorder() as recorder:
                for index, message in enumerate(claimed):
                    if not kept.held():
                        _give_back([m.id for m in claimed[index:]])
                        break
                    outcomes.append(
                        _send_and_record(message, send, recorder, raise_transient=False)
                    )
    return outcomes


class _ClaimKept:
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
        self._app = current_app._get_current_object()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-lease", daemon=True)

    def __enter__(self) -> _ClaimKept:
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
                        update(OutboxMessage.__table__)
                        .where(
                            OutboxMessage.__table__.c.id.in_(self.outbox_ids),
                            OutboxMessage.__table__.c.status == "sending",
                        )
                        .values(claimed_at=utcnow())
                    )
                    connection.commit()
                self.renewed = started
            except Exception as error:  # out of reach now: held() says so after half a lease
                self._app.logger.warning("could not renew the outbox claim: %r", error)


def _deliver_side_by_side(
    claimed: list[ClaimedMessage], backend: SMTPBackend, connections: int, kept: _ClaimKept
) -> list[DeliveryOutcome]:
    """Send a batch over several SMTP connections at once, one thread each, in this process.

    Each thread gives the server a message's envelope (MAIL, RCPT, DATA) on its own; the
    content, whose final dot makes the server accept it, and the recording of the outcome
    happen under one lock. So, as with one connection, at most one message of the batch is
    ever accepted by the server without its outcome recorded (a worker killed at that moment
    sends it again after the lease), while the other connections' round trips overlap it.
    Rows not started while the claim was still held (`kept`) are given back."""
    app = current_app._get_current_object()
    pending = deque(claimed)
    taking = threading.Lock()
    #: Held from a message's final dot until its outcome is recorded.
    accepting = threading.Lock()
    outcomes: list[DeliveryOutcome] = []
    failures: list[BaseException] = []

    def next_message() -> ClaimedMessage | None:
        with taking:
            if not pending or not kept.held():
                return None
            return pending.popleft()

    def run(recorder: Connection) -> None:
        try:
            with app.app_context(), backend.steps() as (envelope, content):
                while (message := next_message()) is not None:
                    result = _not_to_send(message) or _attempt(message, envelope)
                    with accepting:
                        if result is None:
                            result = _attempt(message, content) or _sent(message)
                        status, reason, values, _ = result
                        outcomes.append(_record(recorder, message, status, reason, **values))
        except BaseException as error:  # re-raised in the task's thread below
            failures.append(error)

    with _recorder() as recorder:
        threads = [threading.Thread(target=run, args=(recorder,)) for _ in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if pending:
        _give_back([message.id for message in pending])
    if failures:
        raise failures[0]
    return outcomes


def _give_back(outbox_ids: list[int]) -> None:
    begin_write_transaction()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.status == "sending")
        .values(status="queued", claimed_at=None, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def drain(limit_batches: int = 50) -> list[DeliveryOutcome]:
    """Deliver every due row now, in this process."""
    return deliver_due(utcnow(), batches=limit_batches)


def _send_and_record(
    claimed: ClaimedMessage, send, recorder: Connection, *, raise_transient: bool
) -> DeliveryOutcome:
    status, reason, values, transient = (
        _not_to_send(claimed) or _attempt(claimed, send) or _sent(claimed)
    )
    outcome = _record(recorder, claimed, status, reason, **values)
    if transient is not None and raise_transient:
        raise transient
    return outcome


#: An outcome to record: status, reason, other values, and the transient error if any.
Attempt = tuple[str, str | None, dict, TransientDeliveryError | None]


def _not_to_send(claimed: ClaimedMessage) -> Attempt | None:
    """The outcome of a message that is not to be sent (skipped) or cannot be (failed)."""
    if claimed.skip_reason:
        return "skipped", claimed.skip_reason, {}, None
    if claimed.build_error:
        return "failed", claimed.build_error, {}, None
    return None


def _attempt(claimed: ClaimedMessage, step) -> Attempt | None:
    """Run one step of sending; None when it went through, else the outcome to record."""
    try:
        step(claimed)
    except PermanentDeliveryError as error:
        return "failed", str(error), {}, None
    except TransientDeliveryError as error:
        if claimed.attempts >= MAX_ATTEMPTS:
            return "failed", f"gave up after {claimed.attempts} attempts: {error}", {}, None
        retry_at = utcnow() + timedelta(seconds=error.retry_in)
        return "queued", str(error), {"next_attempt_at": retry_at}, error
    return None


def _sent(claimed: ClaimedMessage) -> Attempt:
    return "sent", None, {"message_id": claimed.message_id, "sent_at": utcnow()}, None


@contextmanager
def _recorder() -> Iterator[Connection]:
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


def _record(
    recorder: Connection, claimed: ClaimedMessage, status: str, reason: str | None = None, **values
) -> DeliveryOutcome:
    """Write the outcome, only while the claim is still ours.

    One statement built once (SQLAlchemy caches its compiled form): per message this is a
    single round trip with no statement construction."""
    params = {
        "outbox_id": claimed.id,
        "new_status": status,
        "reason": reason,
        "sent_message_id": values.get("message_id"),
        "sent_at": values.get("sent_at"),
        "retry_at": values.get("next_attempt_at"),
    }
    if recorder.dialect.name == "postgresql":
        # Straight to psycopg, as a prepared statement: SQLAlchemy's own work per execution
        # was most of a recorded outcome's cost in the worker.
        recorder.connection.driver_connection.execute(_RECORD_SQL, params, prepare=True)
    else:
        recorder.execute(_record_statement(), params)
    return DeliveryOutcome(claimed.id, status, reason)


#: _record_statement() as PostgreSQL runs it (the recorder's connection is in autocommit).
_RECORD_SQL = (
    "UPDATE outbox_message SET status = %(new_status)s, last_error = %(reason)s, "
    "claimed_at = NULL, message_id = COALESCE(%(sent_message_id)s, message_id), "
    "sent_at = COALESCE(%(sent_at)s, sent_at), "
    "next_attempt_at = COALESCE(%(retry_at)s, next_attempt_at) "
    "WHERE id = %(outbox_id)s AND status = 'sending'"
)


@cache
def _record_statement():
    table = OutboxMessage.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("outbox_id"), table.c.status == "sending")
        .values(
            status=bindparam("new_status"),
            last_error=bindparam("reason"),
            claimed_at=None,
            message_id=func.coalesce(
                bindparam("sent_message_id", type_=String), table.c.message_id
            ),
            sent_at=func.coalesce(bindparam("sent_at", type_=UTCDateTime), table.c.sent_at),
            next_attempt_at=func.coalesce(
                bindparam("retry_at", type_=UTCDateTime), table.c.next_attempt_at
            ),
        )
    )


def _registration_statuses(messages: list[OutboxMessage]) -> dict[int, str]:
    ids = {
        m.registration_id
        for m in messages
        if m.kind in CONFIRMED_ONLY_KINDS and m.registration_id is not None
    }
    if not ids:
        return {}
    rows = db.session.execute(
        select(Registration.id, Registration.status).where(Registration.id.in_(ids))
    )
    return dict(rows.all())


def _unsubscribed(messages: list[OutboxMessage]) -> set[tuple[int, str]]:
    """(user, category) pairs among these messages that the person has switched off."""
    from .preferences import opted_out

    found: set[tuple[int, str]] = set()
    for category in {m.category for m in messages if m.category and m.user_id}:
        user_ids = [m.user_id for m in messages if m.category == category and m.user_id]
        found |= {(user_id, category) for user_id in opted_out(user_ids, category)}
    return found


def _skip_reason(
    message: OutboxMessage,
    now: datetime,
    statuses: dict[int, str],
    unsubscribed: set[tuple[int, str]],
) -> str | None:
    if message.expires_at is not None and now >= message.expires_at:
        return "the session had already started; a late reminder is not sent"
    if (message.user_id, message.category) in unsubscribed:
        return f"the recipient has switched off {message.category}"
    if message.kind in CONFIRMED_ONLY_KINDS and message.registration_id is not None:
        status = statuses.get(message.registration_id)
        if status != "confirmed":
            return f"the registration is {status or 'gone'}, no longer confirmed"
    return None


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
    return result.rowcount
