"""What LearnHub keeps about a person: the export of it all, and the account's deletion.

Both reach into registrations and attendance, so they live above `accounts.services`, which
registering itself builds on (the account made on the way, the sign-in link)."""

from __future__ import annotations

from sqlalchemy import delete, select

from ..attendance.models import Attendance
from ..extensions import db
from ..notifications.models import OutboxMessage
from ..registration.models import Registration
from ..registration.services import release_places_of_deleted_account
from ..types import utcnow
from .models import LoginToken, User
from .services import DELETED_EMAIL_DOMAIN, AccountError, locked_user, normalise_email, profile_of


def export_data(user: User) -> dict:
    """Everything LearnHub keeps about the person, as JSON-ready data."""
    registrations = db.session.scalars(
        select(Registration).where(Registration.user_id == user.id).order_by(Registration.id)
    ).all()
    attendance = db.session.scalars(
        select(Attendance)
        .join(Registration, Registration.id == Attendance.registration_id)
        .where(Registration.user_id == user.id)
    ).all()

    def when(moment):
        return moment.isoformat() if moment else None

    return {
        "exported_at": when(utcnow()),
        "profile": {
            "email": user.email,
            **profile_of(user),
            "role": user.role,
            "has_password": bool(user.password_hash),
            "created_at": when(user.created_at),
            "last_login_at": when(user.last_login_at),
        },
        "registrations": [
            {
                "programme": r.programme.title,
                "status": r.status,
                "registered_at": when(r.created_at),
                "confirmed_at": when(r.confirmed_at),
                "cancelled_at": when(r.cancelled_at),
                "consent_at": when(r.consent_at),
                "answers": {a.question.label: a.value for a in r.answers},
            }
            for r in registrations
        ],
        "attendance": [
            {
                "programme": a.session.programme.title,
                "session": a.session.title,
                "starts_at": when(a.session.starts_at),
                "status": a.status,
            }
            for a in attendance
        ],
    }


def delete_account(user_id: int, typed_email: str) -> None:
    """Remove the person's data; their registrations stay, anonymised, so attendance figures
    stay right. Upcoming registrations are cancelled first and their seats go to the waiting
    lists, in the same transaction."""
    user = locked_user(user_id)
    if normalise_email(typed_email) != user.email:
        raise AccountError("Type your email address exactly to confirm.")
    if user.role != "participant":
        raise AccountError("Organiser and administrator accounts are removed by an administrator.")
    old_email = user.email
    release_places_of_deleted_account(user)
    db.session.execute(delete(LoginToken).where(LoginToken.user_id == user.id))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.to_address == old_email))
    user.email = f"deleted-{user.id}{DELETED_EMAIL_DOMAIN}"
    user.full_name = f"Deleted participant {user.id}"
    user.organisation_name = user.job_title = user.city = user.country = None
    user.timezone = "UTC"
    user.password_hash = None
    user.deleted_at = utcnow()
    db.session.commit()
