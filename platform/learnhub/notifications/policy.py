"""Organiser and administrator use cases around email: reminder policy, delivery, retries."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..catalogue.audit import record
from ..catalogue.models import Programme, Session
from ..database import begin_write_transaction, row_count
from ..errors import DomainError
from ..extensions import db
from ..registration.models import Registration
from ..types import utcnow
from .handover import dispatch
from .models import OutboxMessage, ReminderPolicy

#: Offsets organisers can pick from, in minutes, with their labels.
OFFSET_CHOICES = {
    14 * 24 * 60: "2 weeks before",
    7 * 24 * 60: "7 days before",
    3 * 24 * 60: "3 days before",
    24 * 60: "24 hours before",
    3 * 60: "3 hours before",
    60: "1 hour before",
    15: "15 minutes before",
}


class PolicyError(DomainError):
    """A change that cannot be made; the message says why."""


def offsets_for(programme_id: int, default: tuple[int, ...]) -> tuple[int, ...]:
    policy = db.session.get(ReminderPolicy, programme_id)
    return policy.offsets if policy else tuple(sorted(default))


@dataclass(frozen=True)
class ReminderPromise:
    """What a participant is told about reminders when they register (the answer page and
    the confirmation email; the `reminder_times` filter puts the offsets in words)."""

    #: Minutes before a session, as the programme's policy (or the default) has them.
    offsets: tuple[int, ...]
    #: False when the organisers turned reminders off for some of the sessions.
    every_session: bool


def reminder_promise(programme: Programme) -> ReminderPromise | None:
    """The programme's reminders as a participant is told of them (from its sessions as
    loaded); None when it sends none."""
    offsets = offsets_for(programme.id, current_app.config["REMINDER_OFFSETS_MINUTES"])
    enabled = sum(session.reminders_enabled for session in programme.sessions)
    if not offsets or not enabled:
        return None
    return ReminderPromise(tuple(offsets), every_session=enabled == len(programme.sessions))


def _offsets_in_words(text: str | None) -> str:
    chosen = [int(o) for o in (text or "").split(",") if o]
    return ", ".join(OFFSET_CHOICES.get(o, f"{o} minutes before") for o in chosen) or "none"


def set_reminder_policy(
    programme_id: int,
    offsets: list[int],
    sessions_enabled: dict[int, bool],
    user_id: int | None = None,
) -> None:
    """Save the programme's offsets and which sessions get reminders (one transaction)."""
    if any(o not in OFFSET_CHOICES for o in offsets):
        raise PolicyError("Choose reminder times from the list.", field="offsets")
    begin_write_transaction()
    policy = db.session.get(ReminderPolicy, programme_id)
    if policy is None:
        policy = ReminderPolicy(programme_id=programme_id)
        db.session.add(policy)
    before = policy.offsets_minutes
    policy.offsets_minutes = ",".join(str(o) for o in sorted(set(offsets)))
    policy.updated_at = utcnow()
    changes = []
    if before != policy.offsets_minutes:
        changes.append(
            f"reminders: {_offsets_in_words(before)} → {_offsets_in_words(policy.offsets_minutes)}"
        )
    sessions = db.session.scalars(select(Session).where(Session.programme_id == programme_id))
    for session in sessions:
        wanted = sessions_enabled.get(session.id, session.reminders_enabled)
        if wanted != session.reminders_enabled:
            changes.append(f"{session.title}: reminders {'off → on' if wanted else 'on → off'}")
            session.reminders_enabled = wanted
    if changes:
        record(programme_id, user_id, "changed reminders", "; ".join(changes))
    db.session.commit()


@dataclass
class DeliveryRow:
    registration: Registration
    messages: list[OutboxMessage]


#: Registrants a page of the deliveries report shows.
REPORT_PAGE_SIZE = 50
#: Failed emails a page of the administrators' list shows.
FAILED_PAGE_SIZE = 100


def delivery_report(programme_id: int, page: int = 1) -> tuple[Pagination, list[DeliveryRow]]:
    """A page of registrants, each with every email written for them, newest first (three
    queries: the page, its count, the emails)."""
    found = db.paginate(
        select(Registration)
        .where(Registration.programme_id == programme_id)
        .options(joinedload(Registration.user))
        .order_by(Registration.id),
        page=page,
        per_page=REPORT_PAGE_SIZE,
        error_out=False,
    )
    registrations = found.items
    by_registration: dict[int, list[OutboxMessage]] = {r.id: [] for r in registrations}
    if registrations:
        messages = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.registration_id.in_(list(by_registration)))
            .order_by(OutboxMessage.id.desc())
        )
        for message in messages:
            if message.registration_id is not None:  # the query asks for these only
                by_registration[message.registration_id].append(message)
    return found, [DeliveryRow(r, by_registration[r.id]) for r in registrations]


def failed_messages(page: int = 1) -> Pagination:
    """A page of the emails that failed, the newest first."""
    return db.paginate(
        select(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id.desc()),
        page=page,
        per_page=FAILED_PAGE_SIZE,
        error_out=False,
    )


def retry_failed(outbox_ids: list[int]) -> int:
    """An administrator sends failed messages again: back to the queue, due now."""
    if not outbox_ids:
        raise PolicyError("Choose at least one message to retry.")
    begin_write_transaction()
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.status == "failed")
        .values(status="queued", next_attempt_at=utcnow(), attempts=0, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    dispatch(list(outbox_ids))
    return row_count(result)
