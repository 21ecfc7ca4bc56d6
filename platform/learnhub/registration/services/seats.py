"""A programme's seats: the one decision about a seat or a place in the queue, and the locks
it is made under (rule 5 of ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, select

from ...catalogue.models import Programme
from ...database import begin_write_transaction, is_postgres
from ...extensions import db
from ..errors import RegistrationError
from ..models import Registration


@dataclass(frozen=True)
class Placement:
    """Where a registration goes: its state, and its waiting-list key and place if queued."""

    status: str
    #: The queue key (lower is served first); None unless waitlisted.
    waitlist_position: int | None = None
    #: The 1-based place in the queue the person is told.
    place: int | None = None


#: What a person asking for a seat wants: registering (for the first time or again) or an
#: organiser's approval.
A_SEAT = "seat"


@dataclass(frozen=True)
class Seats:
    """A programme's seats as its row holds them (the counters the triggers keep, rule 5),
    read under the programme's lock: every decision about a seat or a place in the queue is
    made here, whichever use case asks."""

    capacity: int | None
    confirmed: int
    waitlisted: int
    #: The highest waiting-list key ever given; it never goes down.
    tail: int
    waitlist_enabled: bool

    @property
    def free(self) -> int | None:
        """Seats no one holds, to give now (also how many to promote); None when unlimited."""
        return None if self.capacity is None else max(self.capacity - self.confirmed, 0)

    def place(self, wanted: str = A_SEAT, *, approval_required: bool = False) -> Placement:
        """Where a registration goes. A person asking for a seat (`A_SEAT`) gets one while
        seats are free, else the end of the waiting list, else a refusal; with approval
        required, they wait for it. Any other state is taken as it is (an organiser's move, a
        cancellation, a promotion). The end of the queue is a key past every key given (the
        tail plus one), so the place told is the queue's length plus one."""
        if wanted == A_SEAT:
            if approval_required:
                return Placement("pending")
            if self.free != 0:
                return Placement("confirmed")
            if not self.waitlist_enabled:
                raise RegistrationError("Sorry, all seats for this programme are taken.")
            wanted = "waitlisted"
        if wanted == "waitlisted":
            return Placement("waitlisted", self.tail + 1, self.waitlisted + 1)
        return Placement(wanted)


def seats_of(programme_id: int) -> Seats:
    """The programme's seats now (after this transaction's own changes are flushed)."""
    return Seats(*db.session.execute(_SEATS, {"programme_id": programme_id}).one())


_SEATS = select(
    Programme.capacity,
    Programme.confirmed_count,
    Programme.waitlisted_count,
    Programme.waitlist_tail,
    Programme.waitlist_enabled,
).where(Programme.id == bindparam("programme_id"))


# --- locking --------------------------------------------------------------------------------


def lock_programme(programme_id: int) -> Programme | None:
    """Start the write transaction and lock the programme row that seats are counted against."""
    begin_write_transaction()
    query = select(Programme).where(Programme.id == programme_id)
    if is_postgres():
        query = query.with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def lock_registration(registration_id: int) -> tuple[Registration, Programme] | None:
    """Lock the programme of a registration, then read the registration under that lock."""
    programme_id = db.session.scalar(
        select(Registration.programme_id).where(Registration.id == registration_id)
    )
    if programme_id is None:
        return None
    programme = lock_programme(programme_id)
    registration = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id)
        .execution_options(populate_existing=True)
    )
    if programme is None or registration is None:
        return None
    return registration, programme


def waitlisted_ahead(counted: Any, programme_id: Any, position: Any) -> Select[Any]:
    """How many of the programme's waitlisted rows (`counted`: Registration or an alias of it)
    hold a queue key below `position` (a value, or an outer query's column)."""
    return (
        select(func.count())
        .select_from(counted)
        .where(
            counted.programme_id == programme_id,
            counted.status == "waitlisted",
            counted.waitlist_position < position,
        )
    )


def waitlist_place(registration: Registration) -> int | None:
    """1-based place in the queue (what the participant is told), None when not waitlisted."""
    if registration.status != "waitlisted" or registration.waitlist_position is None:
        return None
    ahead = db.session.scalar(
        waitlisted_ahead(Registration, registration.programme_id, registration.waitlist_position)
    )
    return (ahead or 0) + 1
