"""Hands new outbox rows to the worker only after their transaction commits (rule 2 and 3).

If the broker cannot be reached the rows simply stay queued: the periodic outbox sweep
delivers them, so a registration never fails because the broker or the mail server is down.
"""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_KEY = "learnhub_new_outbox_ids"


def remember_new_outbox_ids(session: Session, ids: list[int]) -> None:
    session.info.setdefault(_KEY, []).extend(ids)


#: Up to this many new rows get a delivery task each; more (reminders, announcements) are
#: drained in batches over one SMTP connection by a few drain tasks working side by side.
SINGLE_TASK_LIMIT = 10
#: Drain tasks sent for a large hand-over (claims never overlap, so they share the work).
DRAIN_TASKS = 2


def dispatch(ids: list[int]) -> None:
    """Hand new outbox rows to the worker; failures are logged, the sweep catches up."""
    if not ids or current_app.config["OUTBOX_DISPATCH"] != "celery":
        return
    celery = current_app.extensions["celery"]
    try:
        with celery.producer_or_acquire() as producer:
            if len(ids) <= SINGLE_TASK_LIMIT:
                for outbox_id in ids:
                    celery.send_task(
                        "notifications.deliver", args=[outbox_id], producer=producer, retry=False
                    )
            else:
                for _ in range(DRAIN_TASKS):
                    celery.send_task("notifications.drain", producer=producer, retry=False)
    except Exception as error:  # the broker being down must never fail the request
        log.warning("outbox: could not hand %d message(s) to the broker: %s", len(ids), error)


@event.listens_for(Session, "after_flush")
def _collect_new_rows(session: Session, _context) -> None:
    from .notifications.models import OutboxMessage

    ids = [obj.id for obj in session.new if isinstance(obj, OutboxMessage)]
    if ids:
        remember_new_outbox_ids(session, ids)


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    ids = session.info.pop(_KEY, None)
    if ids and has_app_context():
        dispatch(ids)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
