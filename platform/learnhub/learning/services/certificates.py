"""Certificates: the completion rule, issuing (by the rule, or by hand with a reason),
revoking, verification codes and the organiser's overview.

The rule counts sessions with the attendance feature's own standing (see progress.py), plus
the modules an organiser marked as required. Marks that may meet it call
`award_due_certificates` through `attendance.services.marks.marks_written`, connected in
`create_app`: attendance knows nothing of certificates.
"""

from __future__ import annotations

import math
import secrets
from bisect import bisect_left
from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ...accounts.models import User
from ...attendance.models import ATTENDED_STATUSES, Attendance
from ...attendance.services.marks import confirmed
from ...catalogue.audit import record
from ...catalogue.models import Programme, ProgrammeOrganisation, Session
from ...database import begin_write_transaction, fit_column
from ...errors import NotFound
from ...extensions import db
from ...registration.models import Registration
from ...types import utcnow
from ..emails import queue_certificate_email
from ..errors import LearningError
from ..models import Certificate
from .progress import Progress, progress_with

#: Verification codes: no look-alike characters (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: Participants on one page of the organiser's certificates overview.
LINES_PER_PAGE = 50


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == 12 else code


def _programme_for_certificates(programme_id: int) -> Programme:
    programme = db.session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .options(
            selectinload(Programme.sessions),
            selectinload(Programme.modules),
            selectinload(Programme.organisation_links).joinedload(
                ProgrammeOrganisation.organisation
            ),
        )
    )
    if programme is None:
        raise NotFound()
    return programme


def meets_rule(progress: Progress) -> bool:
    """The completion rule: the programme's share of sessions attended, and every module
    the organisers marked as required completed."""
    line = progress.attendance
    sessions_ok = line.needed > 0 and line.attended >= line.needed
    modules_ok = all(m.id in progress.completed_module_ids for m in progress.required_modules)
    return sessions_ok and modules_ok


def award_due_certificates(programme_id: int, registration_ids: list[int]) -> list[Certificate]:
    """Inside a write use case (flushes only): give a certificate, and its email, to each of
    these registrations that now meets the completion rule and has none yet. A revoked
    certificate stays revoked."""
    if not registration_ids:
        return []
    registration_ids = _may_reach_attendance_rule(programme_id, registration_ids)
    if not registration_ids:
        return []
    programme = _programme_for_certificates(programme_id)
    registrations = list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.programme_id == programme_id,
                Registration.status == "confirmed",
                Registration.id.in_(registration_ids),
                ~Registration.id.in_(
                    select(Certificate.registration_id).where(
                        Certificate.programme_id == programme_id
                    )
                ),
            )
            .options(joinedload(Registration.user))
        )
    )
    for registration in registrations:
        set_committed_value(registration, "programme", programme)
    progress = progress_with(registrations, {programme.id: list(programme.modules)})
    issued = [
        _issue(programme, registration, "rule", None)
        for registration in registrations
        if meets_rule(progress[registration.id])
    ]
    return issued


def _may_reach_attendance_rule(programme_id: int, registration_ids: list[int]) -> list[int]:
    """The registrations that may meet the rule's share of sessions: a necessary condition
    read with two narrow queries and no ORM objects, before the programme is loaded, so that
    an import marking thousands of people present does not load anything to find that none
    qualifies yet. It only errs on the kept side (every attended or excused mark counts);
    `meets_rule` decides on the rest. A registration without a mark is never kept."""
    sessions = db.session.execute(
        select(Session.id, Session.ends_at, Programme.completion_percent)
        .join(Programme, Programme.id == Session.programme_id)
        .where(Session.programme_id == programme_id, Session.status != "cancelled")
    ).all()
    if not sessions:
        return []
    completion_percent = sessions[0].completion_percent
    ends = sorted(s.ends_at for s in sessions)
    kept = []
    for registration_id, since, attended, excused in db.session.execute(
        select(
            Registration.id,
            func.coalesce(Registration.confirmed_at, Registration.created_at),
            func.count().filter(Attendance.status.in_(ATTENDED_STATUSES)),
            func.count().filter(Attendance.status == "excused"),
        )
        .join(Attendance, Attendance.registration_id == Registration.id)
        .where(
            Registration.id.in_(registration_ids),
            Attendance.session_id.in_([s.id for s in sessions]),
        )
        .group_by(Registration.id)
    ):
        expected = len(ends) - (bisect_left(ends, since) if since is not None else 0)
        needed = math.ceil((expected - excused) * completion_percent / 100)
        if needed > 0 and attended >= needed:
            kept.append(registration_id)
    return kept


def _issue(
    programme: Programme, registration: Registration, source: str, reason: str | None
) -> Certificate:
    # Any number of hosts, each name up to 300 characters: as printed, cut to the column.
    hosts = fit_column(
        ", ".join(o.name for o in programme.organisations("host")), Certificate.hosts
    )
    certificate = Certificate(
        code=new_code(),
        programme=programme,
        registration_id=registration.id,
        programme_id=programme.id,
        holder_name=registration.user.full_name,
        programme_title=programme.title,
        edition=programme.edition,
        hosts=hosts,
        minutes=minutes_attended(programme, registration.id),
        source=source,
        issue_reason=reason,
    )
    db.session.add(certificate)
    db.session.flush()
    queue_certificate_email(certificate, registration)
    return certificate


def minutes_attended(programme: Programme, registration_id: int) -> int:
    """The live time a participant attended (1 query): for each session of the programme
    they were marked present or late at (cancelled ones never count), the minutes recorded
    for them (from a meeting report), at most the session's length, else its length."""
    sessions = {s.id: s for s in programme.sessions if s.status != "cancelled"}
    if not sessions:
        return 0
    total = 0
    for session_id, minutes in db.session.execute(
        select(Attendance.session_id, Attendance.minutes_attended).where(
            Attendance.registration_id == registration_id,
            Attendance.session_id.in_(sessions),
            Attendance.status.in_(ATTENDED_STATUSES),
        )
    ):
        length = sessions[session_id].duration_minutes
        total += length if minutes is None else min(minutes, length)
    return total


def issue_by_hand(
    programme_id: int, registration_id: int, reason: str, user_id: int | None = None
) -> Certificate:
    """An organiser issues a certificate whatever the rule says, with a reason; a revoked one
    stays revoked under its code, and the new certificate gets a new code."""
    reason = reason.strip()
    if not reason:
        raise LearningError("Give a reason for issuing the certificate by hand.")
    begin_write_transaction()
    registration = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id, Registration.programme_id == programme_id)
        .options(joinedload(Registration.user))
    )
    if registration is None or registration.status != "confirmed":
        raise LearningError("Choose a participant with a confirmed registration.")
    existing = db.session.scalar(
        select(Certificate).where(
            Certificate.registration_id == registration_id, Certificate.revoked_at.is_(None)
        )
    )
    if existing is not None:
        raise LearningError(f"{registration.user.full_name} already has a certificate.")
    certificate = _issue(
        _programme_for_certificates(programme_id), registration, "organiser", reason
    )
    record(
        programme_id,
        user_id,
        "issued certificate by hand",
        f"{registration.user.full_name}: none → {certificate.code} ({certificate.hours:g} hours);"
        f" reason “{reason}”; emailed",
    )
    db.session.commit()
    return certificate


def revoke(
    programme_id: int, certificate_id: int, reason: str, user_id: int | None = None
) -> Certificate:
    """An organiser revokes a certificate with a reason; its page then says so."""
    reason = reason.strip()
    if not reason:
        raise LearningError("Give a reason for revoking the certificate.")
    begin_write_transaction()
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.programme_id != programme_id:
        raise NotFound()
    if certificate.revoked_at is not None:
        raise LearningError("This certificate is already revoked.")
    certificate.revoked_at = utcnow()
    certificate.revoke_reason = reason
    record(
        programme_id,
        user_id,
        "revoked certificate",
        f"{certificate.holder_name}: {certificate.code} valid → revoked; reason “{reason}”",
    )
    db.session.commit()
    return certificate


def certificate_of(programme_id: int, certificate_id: int) -> Certificate | None:
    certificate = db.session.get(Certificate, certificate_id)
    return certificate if certificate and certificate.programme_id == programme_id else None


def certificate_by_code(code: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.code == normalise_code(code)))


def own_certificate(programme: Programme, user: User) -> Certificate | None:
    return db.session.scalar(
        select(Certificate)
        .join(Registration, Registration.id == Certificate.registration_id)
        .where(Certificate.programme_id == programme.id, Registration.user_id == user.id)
        .order_by(Certificate.revoked_at.is_not(None), Certificate.id.desc())
        .limit(1)
    )


@dataclass
class CertificateLine:
    registration: Registration
    progress: Progress
    certificate: Certificate | None


@dataclass
class CertificatesPage:
    """A page of the organiser's overview: confirmed participants by name."""

    participants: Pagination
    lines: list[CertificateLine]


def certificate_overview(programme: Programme, page: int = 1) -> CertificatesPage:
    """A page of the confirmed participants with their progress and certificate (at most 6
    queries: the count, the page, then marks, completions and certificates)."""
    participants = db.paginate(
        confirmed(programme.id),
        page=page,
        per_page=LINES_PER_PAGE,
        max_per_page=LINES_PER_PAGE,
    )
    registrations = list(participants.items)
    for registration in registrations:
        set_committed_value(registration, "programme", programme)
    progress = (
        progress_with(registrations, {programme.id: list(programme.modules)})
        if registrations
        else {}
    )
    lines = [CertificateLine(r, progress[r.id], progress[r.id].certificate) for r in registrations]
    return CertificatesPage(participants, lines)
