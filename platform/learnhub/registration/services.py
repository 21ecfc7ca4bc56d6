"""Registering for a programme: one use case, one transaction (ARCHITECTURE.md rules 2 and 5)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..accounts.services import ParticipantDetails, find_or_create_participant, issue_sign_in_link
from ..catalogue.models import Programme
from ..database import begin_write_transaction, is_postgres
from ..extensions import db
from ..notifications.services import queue_registration_confirmation
from ..types import utcnow
from .models import Registration

ACTIVE_STATUSES = ("pending", "confirmed", "waitlisted")


class RegistrationError(Exception):
    """A registration that cannot be made; the message is shown to the participant."""


@dataclass(frozen=True)
class RegistrationInput:
    programme_id: int
    participant: ParticipantDetails
    consent: bool


@dataclass(frozen=True)
class RegistrationResult:
    registration_id: int
    status: str
    already_registered: bool


def lock_programme(programme_id: int) -> Programme | None:
    """Start the write transaction and lock the programme row that seats are counted against."""
    begin_write_transaction()
    query = select(Programme).where(Programme.id == programme_id)
    if is_postgres():
        query = query.with_for_update()
    return db.session.scalar(query)


def register(data: RegistrationInput) -> RegistrationResult:
    if not data.consent:
        raise RegistrationError("Please accept the privacy notice to register.")
    programme = lock_programme(data.programme_id)
    if programme is None or programme.status != "published":
        raise RegistrationError("Registration for this programme is closed.")
    now = utcnow()
    if programme.sessions and all(s.ends_at <= now for s in programme.sessions):
        raise RegistrationError("This programme has already taken place.")

    user = find_or_create_participant(data.participant)
    registration = db.session.scalar(
        select(Registration).where(
            Registration.programme_id == programme.id, Registration.user_id == user.id
        )
    )
    if registration is not None and registration.status in ACTIVE_STATUSES:
        db.session.commit()
        return RegistrationResult(registration.id, registration.status, already_registered=True)

    if programme.capacity is not None and count_confirmed(programme.id) >= programme.capacity:
        raise RegistrationError("Sorry, all seats for this programme are taken.")

    if registration is None:
        registration = Registration(programme_id=programme.id, user_id=user.id, consent_at=now)
        db.session.add(registration)
    registration.status = "confirmed"
    registration.confirmed_at = now
    registration.cancelled_at = None
    registration.consent_at = now
    db.session.flush()

    login_token, link = issue_sign_in_link(user, url_for("registration.my_programmes"))
    queue_registration_confirmation(registration, link, sequence=login_token.id)
    db.session.commit()
    return RegistrationResult(registration.id, registration.status, already_registered=False)


def count_confirmed(programme_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.programme_id == programme_id, Registration.status == "confirmed")
        )
        or 0
    )


def cancel(registration_id: int, user: User) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.user_id != user.id:
        raise RegistrationError("We could not find that registration.")
    if registration.status == "cancelled":
        return registration
    registration.status = "cancelled"
    registration.cancelled_at = utcnow()
    db.session.commit()
    return registration


def registrations_of(user: User) -> list[Registration]:
    """The participant's registrations with their programmes and sessions (3 queries)."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.user_id == user.id)
            .options(joinedload(Registration.programme).selectinload(Programme.sessions))
            .order_by(Registration.created_at.desc())
        ).unique()
    )


def viewer_can_access_registered_material(programme: Programme) -> bool:
    """Confirmed registrants, the programme's team and administrators see registered-only items."""
    from flask_login import current_user

    from ..accounts.models import ProgrammeTeamMember

    if not current_user.is_authenticated:
        return False
    if current_user.role == "admin":
        return True
    is_team = db.session.scalar(
        select(func.count())
        .select_from(ProgrammeTeamMember)
        .where(
            ProgrammeTeamMember.programme_id == programme.id,
            ProgrammeTeamMember.user_id == current_user.id,
        )
    )
    if is_team:
        return True
    status = db.session.scalar(
        select(Registration.status).where(
            Registration.programme_id == programme.id, Registration.user_id == current_user.id
        )
    )
    return status == "confirmed"
