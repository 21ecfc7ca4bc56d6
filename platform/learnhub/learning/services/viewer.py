"""Who is looking: the signed-in person's standing in one programme."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from ...accounts.models import ProgrammeTeamMember, User
from ...catalogue.models import Programme
from ...extensions import db
from ...registration.models import Registration


@dataclass
class Viewer:
    """The signed-in person's standing in one programme."""

    user: User | None
    registration: Registration | None = None
    is_team: bool = False

    @property
    def is_participant(self) -> bool:
        return self.registration is not None

    @property
    def can_see_registered(self) -> bool:
        """Confirmed registrants, the programme's team and administrators."""
        return self.is_participant or self.is_team


def viewer_of(programme: Programme, user) -> Viewer:
    """1 query for a signed-in person (registration and team membership together), 0 else."""
    if user is None or not user.is_authenticated:
        return Viewer(None)
    team = (
        select(func.count())
        .select_from(ProgrammeTeamMember)
        .where(
            ProgrammeTeamMember.programme_id == programme.id,
            ProgrammeTeamMember.user_id == user.id,
        )
        .scalar_subquery()
    )
    row = db.session.execute(
        select(Registration, team)
        .select_from(User)
        .outerjoin(
            Registration,
            (Registration.user_id == User.id)
            & (Registration.programme_id == programme.id)
            & (Registration.status == "confirmed"),
        )
        .where(User.id == user.id)
    ).first()
    registration, in_team = row if row else (None, 0)
    if registration is not None:
        set_committed_value(registration, "programme", programme)
    return Viewer(user, registration, bool(in_team) or user.role == "admin")


def own_registration(programme_id: int, user: User) -> Registration | None:
    """The person's confirmed registration in the programme, if any."""
    return db.session.scalar(
        select(Registration).where(
            Registration.programme_id == programme_id,
            Registration.user_id == user.id,
            Registration.status == "confirmed",
        )
    )
