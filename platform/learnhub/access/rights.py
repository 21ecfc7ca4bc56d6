"""What a signed-in person may do on a programme: the team rights they hold."""

from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import TEAM_RIGHTS, ProgrammeTeamMember, User
from ..catalogue.models import Programme, Session
from ..extensions import db


def rights_of(member: ProgrammeTeamMember) -> frozenset[str]:
    return frozenset(right for right in TEAM_RIGHTS if getattr(member, right))


def team_rights(user: User) -> dict[int, frozenset[str]]:
    """The rights `user` holds, by programme id (1 query)."""
    rows = db.session.scalars(
        select(ProgrammeTeamMember).where(ProgrammeTeamMember.user_id == user.id)
    )
    return {member.programme_id: rights_of(member) for member in rows}


def programme_and_rights(user: User, slug: str) -> tuple[Programme | None, frozenset[str]]:
    """The programme and the rights `user` holds on it (2 queries)."""
    programme = db.session.scalar(select(Programme).where(Programme.slug == slug))
    if programme is None:
        return None, frozenset()
    if user.role == "admin":
        return programme, frozenset(TEAM_RIGHTS)
    member = db.session.scalar(
        select(ProgrammeTeamMember).where(
            ProgrammeTeamMember.programme_id == programme.id,
            ProgrammeTeamMember.user_id == user.id,
        )
    )
    return programme, frozenset() if member is None else rights_of(member)


def session_of(programme: Programme, session_id: int) -> Session | None:
    session = db.session.get(Session, session_id)
    return session if session is not None and session.programme_id == programme.id else None
