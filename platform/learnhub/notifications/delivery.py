"""Delivering outbox rows: claim (`outbox`), send (`smtp` or the development mailbox), record.

A task delivers one row handed over after its commit (`deliver`); drain tasks, the minute
sweep and the CLI deliver due rows in batches (`deliver_due`), over OUTBOX_SMTP_CONNECTIONS
connections side by side. Transient failures (connection errors, 4xx replies) put the row
back in the queue with its backoff, permanent ones (5xx) are recorded with the server's reply.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Connection, or_

from ..types import utcnow
from .dev_mailbox import DevMailboxBackend
from .message import build_message
from .models import OutboxMessage
from .outbox import (
    BATCH_SIZE,
    MAX_ATTEMPTS,
    ClaimedMessage,
    ClaimKept,
    DeliveryOutcome,
    backoff_seconds,
    claim_due,
    give_back,
    record,
    recorder,
    release_lost_claims,
)
from .smtp import PermanentDeliveryError, SMTPBackend, TransientDeliveryError

__all__ = [
    "MAX_ATTEMPTS",
    "DevMailboxBackend",
    "PermanentDeliveryError",
    "SMTPBackend",
    "TransientDeliveryError",
    "backoff_seconds",
    "build_message",
    "release_lost_claims",
]


def mail_backend() -> DevMailboxBackend | SMTPBackend:
    if current_app.config["MAIL_BACKEND"] == "smtp":
        return SMTPBackend(current_app.config)
    return DevMailboxBackend()


def claim(outbox_id: int, now: datetime) -> ClaimedMessage | None:
    """Take one row if it is due and still queued; None when someone else has it."""
    claimed = claim_due(now, OutboxMessage.id == outbox_id, limit=1)
    return claimed[0] if claimed else None


def deliver(outbox_id: int) -> DeliveryOutcome | None:
    """Deliver one row (the task run after commit); None when another worker has it.

    Raises TransientDeliveryError after putting the row back in the queue with its next
    attempt time: the sweep tries it again then."""
    claimed = claim(outbox_id, utcnow())
    if claimed is None:
        return None
    with ClaimKept([claimed.id]), mail_backend().connection() as send, recorder() as connection:
        outcome, transient = _send_and_record(claimed, send, connection)
    if transient is not None:
        raise transient
    return outcome


def drain(limit_batches: int = 50) -> list[DeliveryOutcome]:
    """Deliver every due row now, in this process."""
    return deliver_due(utcnow(), batches=limit_batches)


def deliver_due(
    now: datetime, *, grace_seconds: float = 0, batches: int = 50
) -> list[DeliveryOutcome]:
    """Drain due rows in batches (drain tasks, the sweep, the CLI, tests).

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
        claimed = claim_due(utcnow(), *conditions, limit=BATCH_SIZE)
        if not claimed:
            break
        with ClaimKept([message.id for message in claimed]) as kept:
            outcomes += _deliver_batch(claimed, mail_backend(), kept)
    return outcomes


def _deliver_batch(
    claimed: list[ClaimedMessage], backend: DevMailboxBackend | SMTPBackend, kept: ClaimKept
) -> list[DeliveryOutcome]:
    connections = min(current_app.config["OUTBOX_SMTP_CONNECTIONS"], len(claimed))
    if isinstance(backend, SMTPBackend) and connections > 1:
        return _deliver_side_by_side(claimed, backend, connections, kept)
    outcomes = []
    with backend.connection() as send, recorder() as connection:
        for index, message in enumerate(claimed):
            if not kept.held():
                give_back([m.id for m in claimed[index:]])
                break
            outcomes.append(_send_and_record(message, send, connection)[0])
    return outcomes


def _deliver_side_by_side(
    claimed: list[ClaimedMessage], backend: SMTPBackend, connections: int, kept: ClaimKept
) -> list[DeliveryOutcome]:
    """Send a batch over several SMTP connections at once, one thread each, in this process.

    Each thread gives the server a message's envelope (MAIL, RCPT, DATA) on its own; the
    content, whose final dot makes the server accept it, and the recording of the outcome
    happen under one lock. So, as with one connection, at most one message of the batch is
    ever accepted by the server without its outcome recorded (a worker killed at that moment
    sends it again after the lease), while the other connections' round trips overlap it.
    Rows not started while the claim was still held (`kept`) are given back."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
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

    def run(connection: Connection) -> None:
        try:
            with app.app_context(), backend.steps() as (envelope, content):
                while (message := next_message()) is not None:
                    result = _not_to_send(message) or _attempt(message, envelope)
                    with accepting:
                        if result is None:
                            result = _attempt(message, content) or _SENT
                        outcomes.append(_record(connection, message, result))
        except BaseException as error:  # noqa: BLE001  (re-raised in the task's thread below)
            failures.append(error)

    with recorder() as connection:
        threads = [threading.Thread(target=run, args=(connection,)) for _ in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if pending:
        give_back([message.id for message in pending])
    if failures:
        raise failures[0]
    return outcomes


#: An outcome to record: status, reason, and the transient error if any.
Attempt = tuple[str, str | None, TransientDeliveryError | None]
_SENT: Attempt = ("sent", None, None)


def _send_and_record(
    claimed: ClaimedMessage, send, connection: Connection
) -> tuple[DeliveryOutcome, TransientDeliveryError | None]:
    result = _not_to_send(claimed) or _attempt(claimed, send) or _SENT
    return _record(connection, claimed, result), result[2]


def _record(connection: Connection, claimed: ClaimedMessage, result: Attempt) -> DeliveryOutcome:
    status, reason, transient = result
    return record(
        connection, claimed, status, reason, sent=status == "sent", retry=transient is not None
    )


def _not_to_send(claimed: ClaimedMessage) -> Attempt | None:
    """The outcome of a message that is not to be sent (skipped) or cannot be (failed)."""
    if claimed.skip_reason:
        return "skipped", claimed.skip_reason, None
    if claimed.build_error:
        return "failed", claimed.build_error, None
    return None


def _attempt(claimed: ClaimedMessage, step) -> Attempt | None:
    """Run one step of sending; None when it went through, else the outcome to record."""
    try:
        step(claimed)
    except PermanentDeliveryError as error:
        return "failed", str(error), None
    except TransientDeliveryError as error:
        if claimed.attempts >= MAX_ATTEMPTS:
            return "failed", f"gave up after {claimed.attempts} attempts: {error}", None
        return "queued", str(error), error
    return None
