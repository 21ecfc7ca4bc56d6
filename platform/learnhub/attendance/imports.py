"""Importing a meeting report: upload (staged, nothing marked), preview, apply or discard.

Uploading parses the file, merges each person's connections, matches them to confirmed
registrants (by email, else by a unique name), applies the organiser's rule, and keeps that
result on the AttendanceImport row (`import_staging`); the preview shows it and applying saves
exactly it, plus the organiser's matches for the rows left unmatched: neither recomputes it.
Applying stores the file's hash in `applied_sha256`, unique per session: the same file is
never applied twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from operator import itemgetter

from sqlalchemy import func, select

from ..accounts.models import User
from ..catalogue.audit import record as log_change
from ..catalogue.models import Session
from ..database import begin_write_transaction, fetch_tuples, release_read_transaction
from ..errors import NotFound
from ..extensions import db
from ..registration.models import Registration
from ..timefmt import format_moment, is_valid_timezone
from ..types import utcnow
from .import_checks import about_report, refuse_no_overlap, refuse_other_times
from .import_staging import (
    ImportSettings,
    Outcome,
    Registrant,
    ReportImportError,
    _current_marks,
    _match,
    _new_tuple,
    _outcomes,
    _registrant_rows,
    _stage,
    _staged_about,
    _staged_marks,
    _staged_shown,
)
from .meeting_reports import ReportError, merge_people, parse_report
from .models import AttendanceImport
from .services.marks import write_marks

__all__ = ["ImportSettings", "Preview", "ReportImportError"]


@dataclass
class Preview:
    record: AttendanceImport
    session: Session
    outcomes: list[Outcome]
    missing: list[Registrant] = field(default_factory=list)
    unmatched_registrants: list[Registrant] = field(default_factory=list)
    #: What was read: {"label", "columns", "ignored", "day_first", "join_times"}.
    report: dict = field(default_factory=dict)

    @property
    def matched_by_name(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.matched_by == "name"]

    @property
    def marked_absent(self) -> list[str]:
        """Everyone applying marks absent, by name: people of the report under the rule,
        then registrants missing from it."""
        names = [
            o.registrant_name
            for o in self.outcomes
            if o.registration_id is not None
            and o.registrant_name is not None
            and o.status == "absent"
            and o.change != "kept"
            and o.expected
        ]
        return names + [r.full_name for r in self.missing]

    @property
    def matched(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.registration_id is not None]

    @property
    def unmatched(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.registration_id is None]

    def count(self, change: str) -> int:
        return sum(1 for o in self.outcomes if o.change == change)


# --- the use cases -------------------------------------------------------------------------


def stage_import(
    session_id: int, file_name: str, data: bytes, settings: ImportSettings, uploaded_by: User
) -> int:
    """Read and match the report and keep the result for the preview; nothing is marked."""
    if not is_valid_timezone(settings.times_timezone):
        raise ReportImportError("Choose the time zone the report's times are written in.")
    if not 1 <= settings.present_percent <= 100 or not 0 <= settings.late_minutes <= 240:
        raise ReportImportError("The rule needs a percentage of 1-100 and 0-240 minutes.")
    session = _session(session_id)
    starts_at, ends_at = session.starts_at, session.ends_at
    if starts_at > utcnow():
        raise ReportImportError(
            "This session has not started yet (it starts "
            f"{format_moment(starts_at, session.timezone)}): import its meeting report after it "
            "has taken place."
        )
    release_read_transaction()
    source, sha256, staged = _read_and_stage(session, data, settings, starts_at, ends_at)
    record = AttendanceImport(
        session_id=session_id,
        source=source,
        file_name=(file_name or "report.csv")[:300],
        sha256=sha256,
        people=staged,
        uploaded_by_id=uploaded_by.id,
        **asdict(settings),
    )
    db.session.add(record)
    db.session.flush()
    record_id = record.id  # read before the commit expires it (no reload of the staged text)
    db.session.commit()
    return record_id


def _read_and_stage(
    session: Session, data: bytes, settings: ImportSettings, starts_at: datetime, ends_at: datetime
) -> tuple[str, str, str]:
    """(source, SHA-256, staged rows) of a report, in the write transaction it opens; its
    thousands of intermediate objects are gone when it returns."""
    try:
        report = parse_report(data, settings.times_timezone, starts_at)
        refuse_other_times(report, session)
        people = merge_people(report, starts_at, ends_at)
        if not any(person.seconds for person in people):
            refuse_no_overlap(report, session)
    except ReportError as error:
        raise ReportImportError(str(error)) from None
    source, about = report.source, about_report(report)
    del report
    sha256 = hashlib.sha256(data).hexdigest()
    begin_write_transaction()
    _refuse_if_applied(session.id, sha256)
    matches = _match(people, _registrant_rows(session))
    about["matched"] = len(matches) - list(map(itemgetter(0), matches)).count(None)
    return source, sha256, _stage(people, matches, starts_at, ends_at, settings, about)


def _refuse_if_applied(session_id: int, sha256: str) -> None:
    applied = db.session.scalar(
        select(AttendanceImport).where(
            AttendanceImport.session_id == session_id,
            AttendanceImport.applied_sha256 == sha256,
        )
    )
    if applied is not None:
        if applied.applied_at is None:
            raise ValueError("An applied import keeps the time it was applied.")
        when = format_moment(applied.applied_at, applied.session.timezone)
        raise ReportImportError(
            f"This report was already imported for this session on {when}; nothing changed."
        )


def _session(session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None:
        raise NotFound()
    return session


def _staged(session: Session, import_id: int) -> AttendanceImport:
    record = db.session.get(AttendanceImport, import_id)
    if record is None or record.session_id != session.id:
        raise ReportImportError("This import does not exist.")
    if record.state != "preview":
        raise ReportImportError(f"This import was already {record.state}; nothing changed.")
    return record


def preview_import(session: Session, import_id: int) -> Preview:
    """What applying would do, against the marks as they are now (read only)."""
    record = _staged(session, import_id)
    current = _current_marks(session.id)
    outcomes = _outcomes(record, current)
    taken = {o.registration_id for o in outcomes}
    untouched = [
        _new_tuple(Registrant, r)
        for r in _registrant_rows(session, by_name=True)
        if r[0] not in taken
    ]
    missing = (
        [r for r in untouched if r.expected and r.registration_id not in current]
        if record.absent_if_missing
        else []
    )
    return Preview(record, session, outcomes, missing, untouched, _staged_about(record))


def _by_hand(
    session: Session, chosen: dict[str, str], record: AttendanceImport, marks: list, marks_end: int
) -> dict[int, Registrant]:
    """The registrants the organiser named (by email) for unmatched rows, by row number."""
    chosen = {key: email.strip().lower() for key, email in chosen.items() if email.strip()}
    if not chosen:
        return {}
    rows = {}  # the unmatched rows the organiser matched: row number -> email
    for number, (mark, shown) in enumerate(
        zip(marks, _staged_shown(record, marks_end), strict=True)
    ):
        key = shown[2] if shown[0] is None else shown[0]
        if mark[0] is None and key in chosen:
            rows[number] = chosen[key]
    if not rows:
        return {}
    wanted = set(rows.values())
    found = {
        row[2]: _new_tuple(Registrant, row) for row in _registrant_rows(session, emails=wanted)
    }
    unknown = wanted - set(found)
    if unknown:
        raise ReportImportError(
            f"{', '.join(sorted(unknown))} is not the email of a confirmed registrant of this "
            "programme; nothing was saved."
        )
    taken = {mark[0] for mark in marks if mark[0] is not None}
    matches = {}
    for number, email in rows.items():
        registrant = found[email]
        if registrant.registration_id in taken:
            raise ReportImportError(
                f"{registrant.full_name} already has a row of this report; nothing was saved."
            )
        taken.add(registrant.registration_id)
        matches[number] = registrant
    return matches


def apply_import(session_id: int, import_id: int, chosen: dict[str, str], applied_by: User) -> int:
    """Save the staged marks, with the organiser's matches (report key -> registrant email)."""
    begin_write_transaction()
    session = _session(session_id)
    record = _staged(session, import_id)
    _refuse_if_applied(session_id, record.sha256)
    changed = _write_staged(session, record, chosen, applied_by)
    record.state = "applied"
    record.applied_sha256 = record.sha256
    record.applied_at = utcnow()
    record.changed_count = changed
    record.people = None
    log_change(
        session.programme_id,
        applied_by.id,
        "applied meeting report",
        f"{session.title}: “{record.file_name}” ({record.source}), {changed} marks changed",
    )
    db.session.commit()
    return changed


def _write_staged(
    session: Session, record: AttendanceImport, chosen: dict[str, str], applied_by: User
) -> int:
    """Write the staged rows' marks; how many changed. (Its temporaries die with it.)"""
    rows, marks_end = _staged_marks(record)
    by_hand = _by_hand(session, chosen, record, rows, marks_end)
    current = _current_marks(session.id)
    marks: dict[int, str | None] = {}
    details: dict[int, dict] = {}
    moment, utc = datetime.fromtimestamp, UTC
    for number, (rid, status, minutes, joined, expected) in enumerate(rows):
        if rid is None:
            registrant = by_hand.get(number)
            if registrant is None:
                continue  # left unmatched: ignored
            rid, expected = registrant.registration_id, registrant.expected
        if current.get(rid) == "excused":
            continue
        if status == "absent" and not expected:
            continue  # registered after the session: never absent
        marks[rid] = status
        details[rid] = {"minutes_attended": minutes, "first_seen_at": moment(joined, utc)}
    if record.absent_if_missing:
        since = func.coalesce(Registration.confirmed_at, Registration.created_at)
        expected_ids = fetch_tuples(
            select(Registration.id).where(
                Registration.programme_id == session.programme_id,
                Registration.status == "confirmed",
                since <= session.ends_at,
            )
        )
        for (registration_id,) in expected_ids:
            if registration_id not in marks and registration_id not in current:
                marks[registration_id] = "absent"
                details[registration_id] = {"minutes_attended": 0}
    return write_marks(
        session,
        marks,
        method="import",
        recorded_by_id=applied_by.id,
        details=details,
        import_id=record.id,
    )


def discard_import(session_id: int, import_id: int) -> None:
    begin_write_transaction()
    record = _staged(_session(session_id), import_id)
    record.state = "discarded"
    record.people = None
    db.session.commit()
