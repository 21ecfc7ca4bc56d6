"""The data-retention policy: personal data of finished programmes goes after a set period.

A programme is *expired* when its last session ended more than DATA_RETENTION_DAYS days ago
(`flask retention apply --days N` overrides it). For every expired programme:

- deleted: registration answers, the emails about its registrations (outbox rows), discussion
  digest subscriptions, and the names a meeting report listed (attendance imports' `people`);
- blanked: the text of its discussion posts (the posts stay, so threads keep their shape);
- anonymised: every participant account whose registrations all belong to expired
  programmes and who is on no programme team, exactly as `accounts.delete_account` does
  (email, name, organisation, job, city, country, password, sign-in links, calendar feeds,
  preferences), with their certificates' holder name.

What the statistics need stays: programmes, sessions, registrations with their statuses and
times, attendance, module completions, material views and certificates (codes, minutes).
`dry_run=True` reports the same figures and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, func, select, update

from .accounts.models import LoginToken, ProgrammeTeamMember, User
from .accounts.services import DELETED_EMAIL_DOMAIN
from .attendance.models import AttendanceImport, CheckInAttempt
from .catalogue.models import Module, Programme, Session
from .database import begin_write_transaction
from .extensions import db
from .learning.models import Certificate, DigestSubscription, DiscussionPost
from .notifications.models import CalendarFeed, NotificationPreference, OutboxMessage
from .registration.models import Registration, RegistrationAnswer
from .types import utcnow

REMOVED_POST = "[Removed under the data-retention policy]"


@dataclass
class RetentionReport:
    cutoff: datetime
    dry_run: bool
    programmes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        head = (
            f"Programmes whose last session ended before {self.cutoff:%Y-%m-%d %H:%M} UTC: "
            f"{len(self.programmes)}"
        )
        return [head, *(f"  {n} {what} {verb} removed" for what, n in self.counts.items())]


def expired_programme_ids(cutoff: datetime) -> list[int]:
    last_end = (
        select(Session.programme_id, func.max(Session.ends_at).label("last_end"))
        .group_by(Session.programme_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(last_end.c.programme_id)
            .where(last_end.c.last_end < cutoff)
            .order_by(last_end.c.programme_id)
        )
    )


def _people_to_anonymise(programme_ids: list[int]) -> list[int]:
    """Participants with a registration in an expired programme and none anywhere else."""
    elsewhere = exists().where(
        Registration.user_id == User.id, Registration.programme_id.not_in(programme_ids)
    )
    on_a_team = exists().where(ProgrammeTeamMember.user_id == User.id)
    here = exists().where(
        Registration.user_id == User.id, Registration.programme_id.in_(programme_ids)
    )
    return list(
        db.session.scalars(
            select(User.id).where(
                User.role == "participant",
                User.deleted_at.is_(None),
                here,
                ~elsewhere,
                ~on_a_team,
            )
        )
    )


def apply_policy(days: int, *, dry_run: bool, now: datetime | None = None) -> RetentionReport:
    """Remove (or with `dry_run`, count) the personal data of programmes expired `days` ago."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    report = RetentionReport(cutoff=cutoff, dry_run=dry_run)
    begin_write_transaction()  # its counts and its changes are one consistent picture
    ids = expired_programme_ids(cutoff)
    report.programmes = list(
        db.session.scalars(select(Programme.slug).where(Programme.id.in_(ids)))
    )
    if not ids:
        db.session.rollback()
        return report
    registrations = select(Registration.id).where(Registration.programme_id.in_(ids))
    sessions = select(Session.id).where(Session.programme_id.in_(ids))
    modules = select(Module.id).where(Module.programme_id.in_(ids))
    people = _people_to_anonymise(ids)
    steps = [
        ("registration answers", delete(RegistrationAnswer).where(
            RegistrationAnswer.registration_id.in_(registrations))),
        ("emails", delete(OutboxMessage).where(
            OutboxMessage.registration_id.in_(registrations))),
        ("digest subscriptions", delete(DigestSubscription).where(
            DigestSubscription.programme_id.in_(ids))),
        ("meeting-report name lists", update(AttendanceImport).where(
            AttendanceImport.session_id.in_(sessions), AttendanceImport.people.is_not(None)
        ).values(people=None)),
        ("discussion post texts", update(DiscussionPost).where(
            DiscussionPost.module_id.in_(modules), DiscussionPost.body != REMOVED_POST
        ).values(body=REMOVED_POST)),
    ]  # fmt: skip
    for what, statement in steps:
        # An UPDATE or DELETE gives a CursorResult (its row count); execute() says Result.
        result = cast(
            CursorResult[Any],
            db.session.execute(statement.execution_options(synchronize_session=False)),
        )
        report.counts[what] = result.rowcount
    report.counts["participant accounts (anonymised)"] = len(people)
    _anonymise(people)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return report


def _anonymise(user_ids: list[int]) -> None:
    if not user_ids:
        return
    for model in (LoginToken, CalendarFeed, NotificationPreference, CheckInAttempt):
        db.session.execute(
            delete(model)
            .where(model.user_id.in_(user_ids))
            .execution_options(synchronize_session=False)
        )
    emails = select(User.email).where(User.id.in_(user_ids))
    db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.to_address.in_(emails))
        .execution_options(synchronize_session=False)
    )
    now = utcnow()
    for user_id in user_ids:
        name = f"Deleted participant {user_id}"
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(
                email=f"deleted-{user_id}{DELETED_EMAIL_DOMAIN}",
                full_name=name,
                organisation_name=None,
                job_title=None,
                city=None,
                country=None,
                timezone="UTC",
                password_hash=None,
                deleted_at=now,
                session_generation=User.session_generation + 1,
            )
        )
        db.session.execute(
            update(Certificate)
            .where(
                Certificate.registration_id.in_(
                    select(Registration.id).where(Registration.user_id == user_id)
                )
            )
            .values(holder_name=name)
        )
