"""The tables inside a report, their columns, and their rows read into connections.

A header that appears twice never silently picks one: columns are looked up within the
participant block (from its first column on), and a column that still matches twice is
refused, naming both. The row loop is shared by every format and kept tight: a 5,000-row
Zoom report is read in milliseconds.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .report_base import MAX_ROWS, Connection, ReportError, delimiter_of, norm_header
from .report_times import TimeReader, UnreadableTime, decide_day_first, duration_minutes

#: A Teams section title, e.g. "3. In-Meeting Activities", ends the table above it.
SECTION = re.compile(r"^\W*(\d)\.\s*(\w[^\t,;\"]*)")


def table(
    lines: list[str], header_at: int, end: int | None = None
) -> tuple[list[str], list[tuple[int, tuple[str, ...]]]]:
    """The header at `header_at` and the rows under it (line number, cells), up to a blank
    line, a new section or `end`. Plain tuples of strings: the cycle collector stops tracking
    them, where the csv module's lists would be scanned over and over while a report of
    thousands of rows is read."""
    delimiter = delimiter_of(lines[header_at])
    header = next(csv.reader([lines[header_at]], delimiter=delimiter))
    body: list[str] = []
    numbers: list[int] = []
    for number in range(header_at + 1, len(lines) if end is None else end):
        line = lines[number]
        if not line.strip() or (not line[0].isalpha() and SECTION.match(line)):
            break
        body.append(line)
        numbers.append(number + 1)
    if len(body) > MAX_ROWS:
        raise ReportError(f"The report has more than {MAX_ROWS:,} rows; split it and try again.")
    rows = map(tuple, csv.reader(body, delimiter=delimiter))
    return header, list(zip(numbers, rows, strict=False))


class Columns:
    """Finds the columns of a header within its participant block (from `start` on) and
    remembers which it used, for the preview."""

    def __init__(self, header: list[str], start: int = 0) -> None:
        self.raw = [cell.strip().strip('"') for cell in header]
        self.norm = [norm_header(cell) for cell in header]
        self.start = start
        self.used: list[tuple[str, str, int]] = []

    def require(self, what: str, *args: tuple[str, ...], exclude: tuple[str, ...] = ()) -> int:
        """`find`, for a column the report must have."""
        found = self.find(what, *args, exclude=exclude, required=True)
        if found is None:  # find refuses first
            raise ReportError(f"The report has no {what} column.")
        return found

    def find(
        self,
        what: str,
        names: tuple[str, ...] = (),
        tokens: tuple[str, ...] = (),
        *,
        exclude: tuple[str, ...] = (),
        required: bool = False,
    ) -> int | None:
        block = range(self.start, len(self.norm))
        hits = [i for i in block if self.norm[i] in names]
        if not hits and tokens:
            hits = [
                i
                for i in block
                if any(t in self.norm[i] for t in tokens)
                and not any(x in self.norm[i] for x in exclude)
            ]
        if len(hits) > 1:
            listed = " and ".join(f'column {i + 1} "{self.raw[i]}"' for i in hits)
            raise ReportError(
                f"The {what} column is ambiguous: {listed} could both be it, and nothing in "
                "the file tells which belongs to the participants. Export the participant "
                "report again without editing it, or delete the column that is not theirs."
            )
        if not hits:
            if required:
                raise ReportError(
                    f"The report has no {what} column (its columns are "
                    f"{', '.join(repr(c) for c in self.raw if c)}). Upload the participant "
                    "report as Zoom or Teams export it, or a CSV with the columns email, name, "
                    "join and leave."
                )
            return None
        self.used.append((what, self.raw[hits[0]], hits[0] + 1))
        return hits[0]


@dataclass
class Layout:
    """Where a table keeps what we read, and which of its rows are left out."""

    source: str
    name: int | None
    email: int | None
    join: int | None
    leave: int | None
    #: A per-person duration column (Teams' participants section, Zoom's unique users).
    minutes: int | None = None
    minutes_in_words: bool = True
    waiting: int | None = None
    role: int | None = None
    host_roles: frozenset[str] = frozenset()
    #: Participant-ID (UPN) column, read when the email column is empty.
    upn: int | None = None
    host_emails: set[str] = field(default_factory=set)
    zoom_names: bool = False
    #: Rows with an empty join are no-shows (webinars), not errors.
    empty_join_is_no_show: bool = False


#: Teams appends these to people outside the organisation.
_GUEST_SUFFIX = re.compile(
    r"\s*\((guest|external|unverified|invité|gast|invitado|convidado)\)$", re.I
)
_RENAMED = re.compile(r"(.+?)\s*\((.+)\)")


def _split_zoom_name(value: str) -> tuple[str, str | None]:
    """Zoom writes "Display Name (Original Name)" when someone renamed themselves."""
    match = _RENAMED.fullmatch(value) if value.endswith(")") else None
    if match and match.group(1).strip():
        return match.group(2).strip(), match.group(1).strip()
    return value, None


def time_reader(
    rows: list[tuple[int, list[str]]],
    layout: Layout,
    timezone: str,
    session_start: float,
    day_first_language: bool,
) -> TimeReader:
    """A reader in the order the first row's date, the language or the session's date give;
    `read_table` turns it round, once, if a later row only reads the other way."""
    join = layout.join
    sample = next(
        (
            row[join].strip()
            for _, row in rows
            if join is not None and len(row) > join and any(ch.isdigit() for ch in row[join])
        ),
        None,
    )
    near = (session_start, timezone, sample) if sample else None
    texts = [sample] if sample else []
    return TimeReader(timezone, *decide_day_first(texts, day_first_language, near))


def read_table(
    read: Callable[[TimeReader], list[Connection]],
    reader: TimeReader,
    ignored: list[tuple[int, str, str]],
) -> tuple[list[Connection], TimeReader]:
    """`read` (the table's rows, as `read_rows` reads them) in one order for the whole table:
    when the order was not settled by a date and a row only reads the other way, every row is
    read again the other way (the rows it left out, in `ignored`, are forgotten first)."""
    kept = len(ignored)
    try:
        return read(reader), reader
    except UnreadableTime as error:
        other = not reader.day_first
        turned = TimeReader(
            str(reader.zone),
            other,
            f"{error.text[:10].strip()} can only be {'day' if other else 'month'}-first",
            True,
        )
        if reader.decisive or not turned.can_read(error.text):
            raise
    del ignored[kept:]
    return read(turned), turned


def _left_out(row: list[str], email: str | None, lay: Layout, no_show: bool) -> str | None:
    """Why a row is not a participant's connection, or None when it is one."""
    if lay.waiting is not None and row[lay.waiting].strip().lower() in ("yes", "true"):
        return "time in the waiting room"
    if (email is not None and email in lay.host_emails) or (
        lay.role is not None and norm_header(row[lay.role]) in lay.host_roles
    ):
        return "the meeting's host or organiser"
    if no_show and lay.join is not None and not row[lay.join].strip():
        return "no join time: registered, did not join"
    return None


def read_rows(
    rows: list[tuple[int, list[str]]],
    layout: Layout,
    reader: TimeReader,
    header_width: int,
    ignored: list[tuple[int, str, str]],
) -> list[Connection]:
    """The connections of a table's rows; rows left out go to `ignored` with the reason.
    (Columns in locals: this loop runs once per row of a 5,000-row report.)"""
    lay = layout
    join, leave, email_col, upn, minutes_col = lay.join, lay.leave, lay.email, lay.upn, lay.minutes
    name_col = lay.name
    no_show = join is not None and lay.empty_join_is_no_show
    width = max(c for c in (join, leave, email_col, name_col, minutes_col, 0) if c is not None)
    connections: list[Connection] = []
    append, read, new = connections.append, reader.read, tuple.__new__
    seen: dict[str, float] = {}  # a report repeats its times: each text is read once
    for line, row in rows:
        if len(row) <= width:
            raise ReportError(
                f"Line {line} has {len(row)} columns where the header has {header_width}. "
                "The file may have been cut or edited; export it again."
            )
        name, alternative = row[name_col].strip() if name_col is not None else "", None
        if name.endswith(")"):
            name, alternative = _name(name, lay)
        email = (row[email_col].strip().lower() if email_col is not None else "") or None
        if email is None and upn is not None:
            email = row[upn].strip().lower() or None
        if email is not None and "@" not in email:
            email = None
        if (why := _left_out(row, email, lay, no_show)) is not None:
            ignored.append((line, name or email or "", why))
            continue
        if not email and not name:
            raise ReportError(f"Line {line} has neither a name nor an email.")
        minutes = _minutes(row[minutes_col], line, lay) if minutes_col is not None else None
        if join is None or leave is None:  # minutes only: placed from the session's start
            if minutes is None:
                raise ReportError(f"Line {line} has neither join and leave times nor minutes.")
            append(new(Connection, (line, name, email, 0.0, minutes * 60, minutes, alternative)))
            continue
        text = row[join].strip()
        if (joined := seen.get(text)) is None:
            joined = seen[text] = read(text, line)
        text = row[leave].strip()
        if (left := seen.get(text)) is None:
            left = seen[text] = read(text, line)
        if left < joined:
            raise ReportError(f"Line {line}: the leave time is before the join time.")
        append(new(Connection, (line, name, email, joined, left, minutes, alternative)))
    return connections


def _name(name: str, layout: Layout) -> tuple[str, str | None]:
    """A name without Teams' guest suffix, and Zoom's original name apart."""
    name = _GUEST_SUFFIX.sub("", name)
    return _split_zoom_name(name) if layout.zoom_names else (name, None)


def _minutes(text: str, line: int, layout: Layout) -> float:
    if layout.minutes_in_words:
        return duration_minutes(text, line)
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100_000:
        raise ReportError(f'Line {line}: "{text}" is not a number of minutes.')
    return value
