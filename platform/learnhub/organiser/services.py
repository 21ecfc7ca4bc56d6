"""What the organiser workspace reads: the programmes an organiser may manage."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..accounts.models import ProgrammeTeamMember, User
from ..catalogue.models import Programme, Session
from ..extensions import db
from ..registration.models import Registration


def managed_programmes(user: User) -> list[Programme]:
    query = select(Programme).options(selectinload(Programme.sessions)).order_by(Programme.title)
    if user.role != "admin":
        query = query.join(
            ProgrammeTeamMember, ProgrammeTeamMember.programme_id == Programme.id
        ).where(ProgrammeTeamMember.user_id == user.id)
    return list(db.session.scalars(query))


def programme_for(user: User, slug: str, right: str) -> Programme | None:
    """The programme if `user` holds `right` on it (administrators hold every right)."""
    programme = db.session.scalar(select(Programme).where(Programme.slug == slug))
    if programme is None or user.role == "admin":
        return programme
    member = db.session.scalar(
        select(ProgrammeTeamMember).where(
            ProgrammeTeamMember.programme_id == programme.id,
            ProgrammeTeamMember.user_id == user.id,
        )
    )
    return programme if member is not None and getattr(member, right) else None


def session_of(programme: Programme, session_id: int) -> Session | None:
    session = db.session.get(Session, session_id)
    return session if session is not None and session.programme_id == programme.id else None


def registration_counts(programme_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Registration.status, func.count())
        .where(Registration.programme_id == programme_id)
        .group_by(Registration.status)
    )
    return dict(rows.all())
