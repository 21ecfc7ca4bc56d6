"""A meeting report read once, at upload: its people matched to confirmed registrants (by
email, else by a unique name), the organiser's rule applied, and the result kept on the
AttendanceImport row as JSON (`_stage`), which the preview and the apply step read back
(`_staged_marks`, `_outcomes`) without computing it again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import func, select

from ..accounts.models import User
from ..catalogue.models import Session
from ..database import fetch_tuples
from ..registration.models import Registration
from .errors import AttendanceError
from .meeting_reports import Person, normalise_name, normalise_names
from .meeting_reports import status_by_rule as rule_status
from .models import Attendance, AttendanceImport


class ReportImportError(AttendanceError):
    """An import that cannot be staged or applied; the message is shown to the organiser,
    beside the report's file on the upload form."""

    status = 422

    def __init__(self, message: str, field: str | None = "report") -> None:
        super().__init__(message, field)


@dataclass(frozen=True)
class ImportSettings:
    times_timezone: str
    present_percent: int = 75
    late_minutes: int = 10
    absent_if_missing: bool = True


class Registrant(NamedTuple):
    """A confirmed registrant, as the import needs them (a tuple: 10,000 are cheap)."""

    registration_id: int
    full_name: str
    #: Stored lower-case.
    email: str
    #: Confirmed before the session ended (a registrant who was not is never absent).
    expected: bool


class Outcome(NamedTuple):
    """A person of the report, the status the rule gives them, whom they matched and that
    registrant's mark now. A flat tuple of plain values: a preview holds thousands."""

    key: str
    name: str
    email: str | None
    first_join: datetime
    minutes: int
    status: str
    #: The matched registrant (all None when unmatched).
    registration_id: int | None
    registrant_name: str | None
    registrant_email: str | None
    expected: bool | None
    matched_by: str | None
    current: str | None = None

    @property
    def registrant(self) -> Registrant | None:
        if self.registration_id is None:
            return None
        name, email, expected = self.registrant_name, self.registrant_email, self.expected
        if name is None or email is None or expected is None:
            raise ValueError("A matched row carries its registrant's name, email and standing.")
        return Registrant(self.registration_id, name, email, expected)

    @property
    def change(self) -> str:
        if self.registration_id is None:
            return "unmatched"
        if self.current == "excused":
            return "kept"
        if self.current is None:
            return "new"
        return "same" if self.current == self.status else "changed"


#: Builds a NamedTuple from a tuple of its fields in C, without `_make`'s Python frame (the
#: preview builds ten thousand of them).
_new_tuple = tuple.__new__


# --- reading what the database knows -------------------------------------------------------


def _registrant_rows(
    session: Session, *, by_name: bool = False, emails: set[str] | None = None
) -> list[tuple]:
    """Confirmed registrants (only those with these `emails`, if given) as Registrant-shaped
    plain tuples (ordered by name if asked): one Core query, milliseconds for 10,000 people.
    `expected` (seat confirmed before the session ended) comes as the driver gives it (1/0 on
    SQLite): use it as a truth value."""
    since = func.coalesce(Registration.confirmed_at, Registration.created_at)
    statement = (
        select(Registration.id, User.full_name, User.email, since <= session.ends_at)
        .join(User, User.id == Registration.user_id)
        .where(
            Registration.programme_id == session.programme_id,
            Registration.status == "confirmed",
        )
    )
    if emails is not None:
        statement = statement.where(User.email.in_(emails))
    if by_name:
        statement = statement.order_by(User.full_name)
    return fetch_tuples(statement)


def _current_marks(session_id: int) -> dict[int, str]:
    statement = select(Attendance.registration_id, Attendance.status).where(
        Attendance.session_id == session_id
    )
    return dict(fetch_tuples(statement))


# --- matching and the rule, once, at upload --------------------------------------------------


def _match(people: list[Person], registrants: list[tuple]) -> list[tuple]:
    """(registrant row or None, how) per person, in order: by email, else by a name that only
    one registrant has (accents and case aside); one registrant is never matched twice."""
    by_email = {r[2]: r for r in registrants}
    by_name: dict[str, tuple | None] = {}

    def named(name: str) -> tuple | None:
        if not by_name:
            names = normalise_names([r[1] for r in registrants])
            for registrant, key in zip(registrants, names, strict=True):
                by_name[key] = None if key in by_name else registrant  # ambiguous: no match
        return by_name.get(normalise_name(name))

    matches, taken = [], set()
    for person in people:
        registrant, how = None, None
        if person.email and person.email in by_email:
            registrant, how = by_email[person.email], "email"
        else:
            for name in person.names:
                registrant = named(name)
                if registrant is not None:
                    how = "name"
                    break
        if registrant is not None and registrant[0] in taken:
            registrant, how = None, None  # two people of the report cannot be one registrant
        if registrant is not None:
            taken.add(registrant[0])
        matches.append((registrant, how))
    return matches


#: Version of the staged layout; a preview staged with another is uploaded again.
STAGED_FORMAT = 4
#: Values per person in the staged marks, and in what the preview shows.
MARK_VALUES, SHOWN_VALUES = 5, 6
_DECODER = json.JSONDecoder()


def _stage(
    people: list[Person],
    matches: list[tuple],
    starts_at: datetime,
    ends_at: datetime,
    settings: ImportSettings,
    about: dict,
) -> str:
    """The staged import: the rule's status and minutes decided once, for the preview and
    applying to read without recomputing anything.

    Three JSON documents, the people in the same order in the first two, each a flat array
    (one list to decode, not one per person). First what applying needs, {"format": 4,
    "marks": [registration id, status, minutes, first join (epoch s), expected, ...]} (id
    and expected null when unmatched); then what only the preview shows (and applying, for
    matches made by hand), [key, name, email, registrant's name, registrant's email, matched
    by, ...]: the key, the registrant's name and email are null where they equal the person's
    email, name and email (most rows); last what the preview says about the file (`about`:
    format, columns, ignored rows, date order).
    """
    length = (ends_at - starts_at).total_seconds()
    late_after = starts_at.timestamp() + settings.late_minutes * 60
    percent = settings.present_percent
    marks: list[object] = []
    shown: list[str | None] = []
    for p, (r, how) in zip(people, matches, strict=True):
        name, email, seconds, joined = p.name, p.email, p.seconds, p.joined
        status = rule_status(seconds, joined, length, late_after, percent)
        if joined.is_integer():
            joined = int(joined)  # reports give whole seconds: shorter to write and read
        key = None if p.key == email else p.key
        if r is None:
            marks += (None, status, int(seconds // 60), joined, None)
            shown += (key, name, email, None, None, None)
        else:
            marks += (r[0], status, int(seconds // 60), joined, bool(r[3]))
            full_name, r_email = r[1], r[2]
            shown += (
                key,
                name,
                email,
                None if full_name == name else full_name,
                None if r_email == email else r_email,
                how,
            )
    # Plain lists of plain values: no need for the encoder's circular-reference bookkeeping.
    dump = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")).encode
    return "\n".join((dump({"format": STAGED_FORMAT, "marks": marks}), dump(shown), dump(about)))


def _rows(flat: list, width: int) -> list[tuple]:
    """A flat staged array cut into rows: plain tuples of plain values, which the cycle
    collector stops tracking (a list per person would be scanned again and again)."""
    return list(zip(*[iter(flat)] * width, strict=True))


def _staged_marks(record: AttendanceImport) -> tuple[list[tuple], int]:
    """The staged marks, a tuple per person, and where the preview's document starts."""
    try:
        staged, end = _DECODER.raw_decode(record.people or "")
    except ValueError:
        staged, end = None, 0
    if not isinstance(staged, dict) or staged.get("format") != STAGED_FORMAT:
        raise ReportImportError(
            "This preview was prepared by an earlier version of LearnHub; discard it and upload "
            "the report again."
        )
    return _rows(staged["marks"], MARK_VALUES), end


def _staged_shown(record: AttendanceImport, marks_end: int) -> list[tuple]:
    """The preview's document, after the marks' and the newline, a tuple per person."""
    return _rows(_DECODER.raw_decode(_staged_text(record), marks_end + 1)[0], SHOWN_VALUES)


def _staged_about(record: AttendanceImport) -> dict:
    """What the file was (the last document): format, columns, ignored rows, date order."""
    people = _staged_text(record)
    return json.loads(people[people.rindex("\n") + 1 :])


def _staged_text(record: AttendanceImport) -> str:
    """The staged preview (after `_staged_marks` found it there)."""
    if record.people is None:
        raise ReportImportError("This preview was discarded; upload the report again.")
    return record.people


_UNMATCHED = (None,) * 6


def _outcomes(record: AttendanceImport, current: dict[int, str]) -> list[Outcome]:
    """The staged rows as the preview shows them, with each matched registrant's mark now."""
    marks, end = _staged_marks(record)
    outcomes: list[Outcome] = []
    row: tuple[object, ...]
    append, moment, utc, new = outcomes.append, datetime.fromtimestamp, UTC, _new_tuple
    for (rid, status, minutes, joined, expected), (key, name, email, r_name, r_email, how) in zip(
        marks, _staged_shown(record, end), strict=True
    ):
        key = email if key is None else key
        if rid is None:
            row = (key, name, email, moment(joined, utc), minutes, status) + _UNMATCHED
        else:
            row = (
                key,
                name,
                email,
                moment(joined, utc),
                minutes,
                status,
                rid,
                name if r_name is None else r_name,
                email if r_email is None else r_email,
                expected,
                how,
                current.get(rid),
            )
        append(new(Outcome, row))
    return outcomes
