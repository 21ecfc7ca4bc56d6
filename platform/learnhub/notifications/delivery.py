"""Delivering outbox rows: claim, check, send, record (ARCHITECTURE.md rules 3 and 7).

Rows are claimed with one conditional UPDATE (queued -> sending); on PostgreSQL the rows of a
batch are picked with FOR UPDATE SKIP LOCKED, so several workers drain the outbox together and
never take the same row. A claim whose worker died is given back after a lease (at-least-once:
at most the rows in flight at the crash can go out twice). Transient failures (connection
errors, 4xx replies) go back to the queue with exponential backoff and jitter for about six
hours; permanent ones (5xx) are recorded with the server's reply and not retried.
"""

from __future__ import annotations

import binascii
import hashlib
import random
import re
import smtplib
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, parseaddr
from functools import cache, lru_cache
from itertools import islice
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import Connection, String, bindparam, func, or_, select, update

from ..database import begin_write_transaction, is_postgres
from ..extensions import db
from ..registration.models import Registration
from ..types import UTCDateTime, utcnow
from .models import DevMailboxMessage, OutboxMessage
from .services import render_deferred

#: How messages are written for the wire: classic MIME, CRLF line ends (RFC 5321).
SMTP_POLICY = compat32.clone(linesep="\r\n")
#: Rows one sweep claims at a time.
BATCH_SIZE = 100
#: After this many attempts a transiently failing message is given up (about six hours).
MAX_ATTEMPTS = 12
#: Kinds that only make sense while the registration is still confirmed.
CONFIRMED_ONLY_KINDS = ("reminder",)


class TransientDeliveryError(Exception):
    """The message went back to the queue; try again after `retry_in` seconds."""

    def __init__(self, reason: str, retry_in: float) -> None:
        super().__init__(reason)
        self.retry_in = retry_in


class PermanentDeliveryError(Exception):
    """The server refused the message for good (5xx)."""


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


@dataclass(frozen=True)
class ClaimedMessage:
    """What a delivery needs, read while the claim's transaction was open.

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


class UnbuildableMessage(ValueError):
    """The row cannot become an email (a header with a line break would inject headers)."""


def build_message(message) -> tuple[str, bytes]:
    """The message as the SMTP server receives it: (Message-ID, bytes).

    `message` is an outbox row (ORM object or plain row). A message without a calendar file,
    the bulk of what goes out (reminders, announcements), is written straight to bytes
    (`_write_alternative`): the same bytes the email package writes, at a fraction of the cost,
    which matters when thousands of reminders go at once. The rest goes through the email
    package's classic MIME classes (`_build_with_email_package`). Raises UnbuildableMessage
    for a header value with a line break or another control character."""
    config = current_app.config
    message_id = message.message_id or stable_message_id(message, config["BASE_URL"])
    headers = [
        ("From", config["MAIL_FROM"]),
        ("To", message.to_address),
        ("Subject", message.subject),
        ("Date", format_datetime(utcnow())),
        ("Message-ID", message_id),
        ("X-LearnHub-Kind", message.kind),
    ]
    if message.reply_to:
        headers.append(("Reply-To", message.reply_to))
    if message.unsubscribe_url:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to this address.
        headers.append(("List-Unsubscribe", f"<{message.unsubscribe_url}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    for name, value in headers:
        if _CONTROL.search(value):
            raise UnbuildableMessage(f"its {name} contains a line break or a control character")
    if message.ics or not message.text_body or not message.html_body:
        return message_id, _build_with_email_package(message, headers)
    return message_id, _write_alternative(headers, message.text_body, message.html_body)


#: Characters no header value may hold (tabs fold harmlessly and are allowed).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\u2028\u2029]")


def stable_message_id(message, base_url: str) -> str:
    """The same Message-ID every time a row is sent, so that a copy sent again after a lost
    worker is recognised as the same message by mail systems (RFC 5322 section 3.6.4)."""
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:16]
    return f"<outbox{message.id}.{digest}@{_msgid_domain(base_url)}>"


@cache
def _msgid_domain(base_url: str) -> str:
    return urlsplit(base_url).hostname or "learnhub.local"


def _header_value(name: str, value: str) -> str | Header:
    return value if value.isascii() or name != "Subject" else Header(value, "utf-8")


def _build_with_email_package(message, headers: list[tuple[str, str]]) -> bytes:
    """A message with a calendar file is multipart/mixed: multipart/alternative (text, HTML,
    and the calendar as `text/calendar; method=...`, the part Gmail and Outlook read as an
    invitation or update, RFC 6047) and the same file attached (sessions.ics or invite.ics)."""
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(message.text_body, "plain", "utf-8"))
    body.attach(MIMEText(message.html_body, "html", "utf-8"))
    root = body
    if message.ics:
        method = "PUBLISH"
        for line in message.ics.splitlines():
            if line.startswith("METHOD:"):
                method = line.split(":", 1)[1].strip()
                break
        invitation = MIMEText(message.ics, "calendar", "utf-8")
        invitation.set_param("method", method)
        body.attach(invitation)
        # Without a method the attached copy is a plain file, not a second iTIP message.
        attachment = MIMEText(message.ics, "calendar", "utf-8")
        filename = "sessions.ics" if method == "PUBLISH" else "invite.ics"
        attachment.set_param("name", filename)
        attachment.add_header("Content-Disposition", "attachment", filename=filename)
        root = MIMEMultipart("mixed")
        root.attach(body)
        root.attach(attachment)
    for name, value in headers:
        root[name] = _header_value(name, value)
    return root.as_bytes(policy=SMTP_POLICY)


#: A stand-in boundary of the real one's length (the email package's: 15 "=", 19 digits, "==").
_BOUNDARY_STANDIN = "=" * 15 + "0" * 19 + "=="
_PART_HEADERS = (
    'Content-Type: text/{}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
    "Content-Transfer-Encoding: base64\r\n\r\n"
)
_PLAIN_HEAD = _PART_HEADERS.format("plain").encode()
_HTML_HEAD = _PART_HEADERS.format("html").encode()


def _write_alternative(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """multipart/alternative with base64 text and HTML parts, written as the email package's
    BytesGenerator writes it under SMTP_POLICY (tests compare the two byte for byte)."""
    boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
    lines = [_root_content_type().replace(_BOUNDARY_STANDIN, boundary)]
    for name, value in headers:
        lines.append(_fold(name, value))
    head = "".join(lines).encode("ascii", "surrogateescape")
    dash = f"--{boundary}\r\n".encode()
    return b"".join(
        (
            head,
            b"\r\n",
            dash,
            _PLAIN_HEAD,
            _base64_lines(text.encode()),
            b"\r\n",
            dash,
            _HTML_HEAD,
            _base64_lines(html.encode()),
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )


def _base64_lines(data: bytes) -> bytes:
    """base64 in lines of 76 characters, each ended by CRLF (as the email package writes it)."""
    encoded = binascii.b2a_base64(data, newline=False)
    if not encoded:
        return b""
    return b"\r\n".join([encoded[at : at + 76] for at in range(0, len(encoded), 76)]) + b"\r\n"


@cache
def _root_content_type() -> str:
    value = f'multipart/alternative; boundary="{_BOUNDARY_STANDIN}"'
    return _fold_long("Content-Type", value) + "MIME-Version: 1.0\r\n"


def _fold(name: str, value: str) -> str:
    """One header line as compat32 folds it; a short ASCII line is written as it is.

    compat32 folds an ASCII value by its lengths, its white space and its split characters
    (";" and ","), never by the other characters themselves: a long value (an unsubscribe
    address, a title) is folded once per shape and each message's own characters are put
    back into the shape's folding."""
    if len(name) + len(value) < 77 and value.isascii() and value.isprintable():
        return f"{name}: {value}\r\n"
    if not (value.isascii() and value.isprintable()):
        return _fold_long(name, value)
    shape = value.translate(_SHAPE)
    prefix = f"{name}: "
    folded = _fold_long(name, shape).removeprefix(prefix)
    kept = iter(value.translate(_FOLDING_CHARACTERS))
    pieces = _SHAPE_RUN.split(folded)
    return prefix + "".join(
        "".join(islice(kept, len(piece))) if index % 2 else piece
        for index, piece in enumerate(pieces)
    )


_FOLDING = " \t;,"
#: Every character that does not steer folding, as "x"; those that do, as they are.
_SHAPE = {code: "x" for code in range(128) if chr(code) not in _FOLDING}
_FOLDING_CHARACTERS = {ord(character): None for character in _FOLDING}
_SHAPE_RUN = re.compile("(x+)")


@lru_cache(maxsize=1024)
def _fold_long(name: str, value: str) -> str:
    folded = SMTP_POLICY.fold_binary(name, _header_value(name, value))
    return folded.decode("ascii", "surrogateescape")


class DevMailboxBackend:
    """Keeps the message in the database; /dev/mailbox shows it (development only)."""

    @contextmanager
    def connection(self) -> Iterator:
        yield self.send

    def send(self, message: ClaimedMessage) -> None:
        begin_write_transaction()
        db.session.add(
            DevMailboxMessage(
                outbox_id=message.id,
                to_address=message.to_address,
                subject=message.subject,
                raw=message.raw.decode(),
            )
        )
        db.session.commit()


class SMTPBackend:
    """SMTP with one connection per batch, opened on first use and reopened after a failure."""

    def __init__(self, config) -> None:
        self.host, self.port, self.username, self.password, self.use_ssl = _smtp_settings(config)
        self.starttls = config.get("SMTP_STARTTLS", False)
        self.timeout = 30
        self.sender = parseaddr(config["MAIL_FROM"])[1]

    def _open(self) -> smtplib.SMTP:
        smtp_class = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        smtp = smtp_class(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp

    @contextmanager
    def connection(self) -> Iterator:
        with self.steps() as (envelope, content):

            def send(message: ClaimedMessage) -> None:
                envelope(message)
                content(message)

            yield send

    @contextmanager
    def steps(self) -> Iterator:
        """(envelope, content) over one connection, opened on first use: smtplib's sendmail
        cut in two at the DATA command, so that a caller can decide when the content (and
        with it the server's acceptance) goes."""
        state: dict[str, smtplib.SMTP | None] = {"smtp": None}

        def guarded(message: ClaimedMessage, step) -> None:
            try:
                if state["smtp"] is None:
                    state["smtp"] = self._open()
                step(state["smtp"], message)
            except smtplib.SMTPRecipientsRefused as error:
                code, reply = next(iter(error.recipients.values()))
                if code == 421:  # the server is closing the connection
                    _close(state)
                _raise_for_reply(code, reply, message.attempts)
            except smtplib.SMTPResponseException as error:
                _close(state)
                _raise_for_reply(error.smtp_code, error.smtp_error, message.attempts)
            except (smtplib.SMTPException, OSError) as error:
                _close(state)
                raise TransientDeliveryError(
                    f"could not reach the mail server: {error}", backoff_seconds(message.attempts)
                ) from error

        try:
            yield (
                lambda message: guarded(message, self._envelope),
                lambda message: guarded(message, _content),
            )
        finally:
            if state["smtp"] is not None:
                with suppress(smtplib.SMTPException, OSError):
                    state["smtp"].quit()
                _close(state)

    def _envelope(self, smtp: smtplib.SMTP, message: ClaimedMessage) -> None:
        """MAIL, RCPT and DATA as smtplib.sendmail sends them, up to the server's 354."""
        smtp.ehlo_or_helo_if_needed()
        size = f" size={len(message.raw)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
        code, reply = smtp.docmd("mail", f"FROM:{_quoted(self.sender)}{size}")
        if code != 250:
            _reset_or_close(smtp, code)
            raise smtplib.SMTPSenderRefused(code, reply, self.sender)
        code, reply = smtp.docmd("rcpt", f"TO:{_quoted(message.to_address)}")
        if code not in (250, 251):
            _reset_or_close(smtp, code)
            raise smtplib.SMTPRecipientsRefused({message.to_address: (code, reply)})
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+")


def _quoted(address: str) -> str:
    """smtplib.quoteaddr, without its address parsing for a plain address (its result then)."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _content(smtp: smtplib.SMTP, message: ClaimedMessage) -> None:
    """The message and its final dot (smtplib's own quoting); the server's reply accepts it."""
    data = _LEADING_DOT.sub(b"..", message.raw)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    smtp.send(data + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        _reset_or_close(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _reset_or_close(smtp: smtplib.SMTP, code: int) -> None:
    if code == 421:
        smtp.close()
    else:
        smtp._rset()


def _close(state: dict) -> None:
    smtp = state.get("smtp")
    state["smtp"] = None
    if smtp is not None:
        with suppress(OSError):
            smtp.close()


def _raise_for_reply(code: int, reply: bytes | str, attempts: int) -> None:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if 500 <= code < 600:
        raise PermanentDeliveryError(f"{code} {text}")
    raise TransientDeliveryError(f"{code} {text}", backoff_seconds(attempts))


def _smtp_settings(config) -> tuple[str, int, str | None, str | None, bool]:
    if config.get("SMTP_URL"):
        parts = urlsplit(config["SMTP_URL"])
        use_ssl = parts.scheme == "smtps"
        return (
            parts.hostname or "localhost",
            parts.port or (465 if use_ssl else 25),
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            use_ssl,
        )
    return (
        config.get("SMTP_HOST") or "localhost",
        config.get("SMTP_PORT") or 25,
        config.get("SMTP_USERNAME"),
        config.get("SMTP_PASSWORD"),
        False,
    )


def mail_backend() -> DevMailboxBackend | SMTPBackend:
    if current_app.config["MAIL_BACKEND"] == "smtp":
        return SMTPBackend(current_app.config)
    return DevMailboxBackend()
