"""Whether a programme takes registrations now (published, not over, inside its window)."""

from __future__ import annotations

from datetime import datetime

from ...catalogue.models import Programme
from ...types import utcnow
from ..errors import RegistrationError


def check_open(programme: Programme | None, now: datetime) -> Programme:
    if programme is None:
        raise RegistrationError("Registration for this programme is closed.")
    refuse_if_closed(
        programme.status,
        programme.registration_opens_at,
        programme.registration_closes_at,
        bool(programme.sessions) and all(s.ends_at <= now for s in programme.sessions),
        now,
    )
    return programme


def refuse_if_closed(
    status: str,
    opens_at: datetime | None,
    closes_at: datetime | None,
    taken_place: bool,
    now: datetime,
) -> None:
    if status != "published":
        raise RegistrationError("Registration for this programme is closed.")
    if taken_place:
        raise RegistrationError("This programme has already taken place.")
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
