"""Celery tasks. Each takes ids, re-reads the database and calls a service (rule 7)."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from learnhub.extensions import db
from learnhub.learning import services as learning
from learnhub.notifications import announcements, delivery, reminders
from learnhub.notifications.models import WorkerHeartbeat
from learnhub.types import utcnow

log = logging.getLogger(__name__)


@shared_task(name="notifications.deliver")
def deliver(outbox_id: int) -> str | None:
    """Deliver one outbox row. After a transient failure the row is back in the queue with
    its next attempt time, and the sweep tries it again then (the one retry mechanism)."""
    try:
        outcome = delivery.deliver(outbox_id)
    except delivery.TransientDeliveryError:
        return "queued"
    finally:
        db.session.remove()
    status = outcome.status if outcome else None
    log.info("outbox message %s: %s", outbox_id, status or "nothing to do")
    return status


@shared_task(name="notifications.plan_reminders")
def plan_reminders() -> int:
    """Beat, every minute: write the reminders whose instant has passed (rule 4)."""
    try:
        now = utcnow()
        ids = reminders.plan_due_reminders(now)  # commits each chunk; ends in a write
        heartbeat = db.session.get(WorkerHeartbeat, "beat")
        if heartbeat is None:
            db.session.add(WorkerHeartbeat(name="beat", beat_at=now))
        else:
            heartbeat.beat_at = now
        db.session.commit()  # the new rows are handed to `deliver` after this commit
        if ids:
            log.info("planned %d reminder(s)", len(ids))
        return len(ids)
    finally:
        db.session.remove()


@shared_task(name="notifications.sweep_outbox")
def sweep_outbox() -> int:
    """Beat, every minute: deliver rows never handed over, due for a retry, or lost with a
    worker that died (after the claim lease), and the rows of announcements a lost task did
    not finish writing."""
    try:
        now = utcnow()
        delivery.release_lost_claims(now)
        for announcement_id in announcements.queued_ids():
            announcements.write_emails(announcement_id)
        grace = current_app.config["OUTBOX_SWEEP_GRACE_SECONDS"]
        return len(delivery.deliver_due(now, grace_seconds=grace))
    finally:
        db.session.remove()


@shared_task(name="notifications.write_announcement")
def write_announcement(announcement_id: int) -> int:
    """Write a sent announcement's emails into the outbox, in batches; safe to repeat."""
    try:
        return announcements.write_emails(announcement_id)
    finally:
        db.session.remove()


@shared_task(name="notifications.drain")
def drain() -> int:
    """Deliver every due row now, in batches (sent after a large hand-over)."""
    try:
        return len(delivery.deliver_due(utcnow()))
    finally:
        db.session.remove()


@shared_task(name="learning.send_digests")
def send_digests() -> int:
    """Beat, hourly: one digest email per subscriber with new discussion posts (outbox)."""
    try:
        return learning.send_digests()
    finally:
        db.session.remove()
