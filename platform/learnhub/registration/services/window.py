"""Whether a programme takes registrations now (published, not over, inside its window)."""

from __future__ import annotations

from datetime import datetime

from ...catalogue.models import Programme
from ...types import utcnow
from ..errors import RegistrationError


def check_open(programme: Programme | None, now: datetime) -> None:
    """Refuses unless `programme` takes registrations at `now`."""
    sessions = programme.sessions if programme is not None else []
    refuse_if_closed(
        programme, now, taken_place=bool(sessions) and all(s.ends_at <= now for s in sessions)
    )


def refuse_if_closed(programme, now: datetime, *, taken_place: bool) -> None:
    """`programme`: a Programme or a row of its status and registration window (None: no such
    programme); `taken_place`: every session of it has ended."""
    if programme is None or programme.status != "published":
        raise RegistrationError("Registration for this programme is closed.")
    if taken_place:
        raise RegistrationError("This programme has already taken place.")
    opens_at, closes_at = programme.registration_opens_at, programme.registration_closes_at
    if opens_at is not None and now < opens_at:
        raise RegistrationError("Registration for this programme has not opened yet.")
    if closes_at is not None and now >= closes_at:
        raise RegistrationError("Registration for this programme has closed.")


def registration_is_open(programme: Programme) -> bool:
    try:
        check_open(programme, utcnow())
    except RegistrationError:
        return False
    return True
