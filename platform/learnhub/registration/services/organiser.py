"""The organisers' use cases: approving, rejecting, moving registrations, the registration
settings (capacity, window, approval, waiting list)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ...catalogue.audit import apply_changes, moment_in, record
from ...catalogue.models import Programme
from ...extensions import db
from ...types import utcnow
from ..errors import RegistrationError, RegistrationNotFound
from ..models import ACTIVE_STATUSES, REGISTRATION_STATUSES, Registration
from .seats import Placement, lock_programme, seats_of
from .transitions import announce, fill_free_seats, move


@dataclass(frozen=True)
class RegistrationSettings:
    capacity: int | None
    opens_at: datetime | None
    closes_at: datetime | None
    approval_required: bool
    waitlist_enabled: bool


def _registrations_in(programme_id: int, ids: Iterable[int]) -> list[Registration]:
    ids = sorted(set(ids))
    if not ids:
        raise RegistrationError("Select at least one registration.")
    found = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.programme_id == programme_id, Registration.id.in_(ids))
            .order_by(Registration.created_at, Registration.id)
        )
    )
    if len(found) != len(ids):
        raise RegistrationError("Some of the selected registrations are not in this programme.")
    return found


def approve(
    programme_id: int, registration_ids: Iterable[int], *, user_id: int | None = None
) -> dict[str, int]:
    """Approve pending registrations in the order they came: a seat each while seats last,
    then the waiting list. All or nothing."""
    programme = lock_programme(programme_id)
    if programme is None:
        raise RegistrationNotFound("We could not find that programme.")
    now = utcnow()
    outcome = {"confirmed": 0, "waitlisted": 0}
    for registration in _registrations_in(programme_id, registration_ids):
        if registration.status != "pending":
            raise RegistrationError(
                f"{registration.user.full_name} is {registration.status}, not awaiting approval."
            )
        try:
            placement = seats_of(programme_id).place()
        except RegistrationError as error:
            raise RegistrationError(
                "There are not enough seats to approve everyone selected and the waiting list "
                "is off. Raise the capacity or approve fewer people."
            ) from error
        move(registration, placement, now)
        outcome[registration.status] += 1
        announce(registration, "approved" if registration.status == "confirmed" else "waitlisted")
        record(
            programme_id,
            user_id,
            "approved registration",
            f"{registration.user.full_name}: awaiting approval → {registration.status}",
        )
    db.session.commit()
    return outcome


def reject(
    programme_id: int, registration_ids: Iterable[int], *, user_id: int | None = None
) -> int:
    """Reject registrations (any active state); seats they held go to the waiting list."""
    programme = lock_programme(programme_id)
    if programme is None:
        raise RegistrationNotFound("We could not find that programme.")
    now = utcnow()
    selected = _registrations_in(programme_id, registration_ids)
    for registration in selected:
        if registration.status not in ACTIVE_STATUSES:
            raise RegistrationError(
                f"{registration.user.full_name} is already {registration.status}."
            )
        previous = registration.status
        move(registration, Placement("rejected"), now)
        announce(registration, "rejected")
        record(
            programme_id,
            user_id,
            "rejected registration",
            f"{registration.user.full_name}: {previous} → rejected",
        )
    fill_free_seats(programme_id, now)
    db.session.commit()
    return len(selected)


#: The email each organiser move sends, by (from, to); default: the target state's email.
_MOVE_EVENTS = {("pending", "confirmed"): "approved", ("waitlisted", "confirmed"): "promoted"}


def move_registration(
    programme_id: int, registration_id: int, status: str, *, user_id: int | None = None
) -> Registration:
    """An organiser moves one registration to another state, with the email that goes with it."""
    if status not in REGISTRATION_STATUSES:
        raise RegistrationError("Choose a state from the list.")
    programme = lock_programme(programme_id)
    registration = db.session.get(Registration, registration_id)
    if programme is None or registration is None or registration.programme_id != programme.id:
        raise RegistrationNotFound("We could not find that registration.")
    previous = registration.status
    now = utcnow()
    seats = seats_of(programme.id)
    if status == "confirmed" and seats.free == 0:
        raise RegistrationError("Every seat is taken. Raise the capacity first.")
    if status == "waitlisted":
        if previous == "confirmed":
            # The seat it frees would be offered to the head of the queue at once.
            raise RegistrationError("A confirmed registration cannot be moved to the waiting list.")
        if seats.free != 0:
            raise RegistrationError("Seats are free, so no one needs to wait. Confirm instead.")
    move(registration, seats.place(status), now)
    announce(registration, _MOVE_EVENTS.get((previous, status), status))
    record(
        programme_id,
        user_id,
        "moved registration",
        f"{registration.user.full_name}: {previous} → {status}",
    )
    fill_free_seats(programme.id, now)
    db.session.commit()
    return registration


def update_registration_settings(
    programme_id: int, settings: RegistrationSettings, *, user_id: int | None = None
) -> int:
    """Change capacity, window, approval and waiting list; returns how many were promoted."""
    programme = lock_programme(programme_id)
    if programme is None:
        raise RegistrationNotFound("We could not find that programme.")
    if settings.capacity is not None:
        if settings.capacity < 0:
            raise RegistrationError("Capacity cannot be negative.")
        confirmed = seats_of(programme.id).confirmed
        if settings.capacity < confirmed:
            raise RegistrationError(
                f"{confirmed} people already hold a seat: the capacity cannot be lower than that."
            )
    if settings.opens_at and settings.closes_at and settings.closes_at <= settings.opens_at:
        raise RegistrationError("Registration must close after it opens.")
    shown = moment_in(programme.timezone)
    changed = apply_changes(
        programme,
        {
            "capacity": settings.capacity,
            "registration_opens_at": settings.opens_at,
            "registration_closes_at": settings.closes_at,
            "approval_required": settings.approval_required,
            "waitlist_enabled": settings.waitlist_enabled,
        },
        shown={"registration_opens_at": shown, "registration_closes_at": shown},
        labels={
            "capacity": "seats",
            "registration_opens_at": "registration opens",
            "registration_closes_at": "registration closes",
            "approval_required": "approval required",
            "waitlist_enabled": "waiting list",
        },
    )
    if changed:
        record(programme_id, user_id, "changed registration settings", "; ".join(changed))
    db.session.flush()
    promoted = fill_free_seats(programme.id, utcnow())
    db.session.commit()
    return len(promoted)


def change_capacity(programme_id: int, capacity: int | None) -> int:
    """Only the capacity; the other settings stay (a shortcut used by tests and the CLI)."""
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise RegistrationNotFound("We could not find that programme.")
    return update_registration_settings(
        programme_id,
        RegistrationSettings(
            capacity=capacity,
            opens_at=programme.registration_opens_at,
            closes_at=programme.registration_closes_at,
            approval_required=programme.approval_required,
            waitlist_enabled=programme.waitlist_enabled,
        ),
    )
