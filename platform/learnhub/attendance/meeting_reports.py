"""Reading Zoom, Microsoft Teams and generic participant reports; pure functions, no database.

What the exports look like (the samples in tests/attendance/samples/ follow them):

- Zoom "Participants" export (CSV, UTF-8, sometimes with a BOM): optionally a meeting block
  first, then the header "Name (Original Name)","User Email","Join Time","Leave Time",
  "Duration (Minutes)","Guest","In Waiting Room", one row per connection, times like
  "11/14/2026 09:31:05 AM" in the account's zone (the file does not say which).
- Teams attendance report (UTF-16 LE TSV, or UTF-8 CSV): "1. Summary", then "2. Participants"
  with "Name","First Join","Last Leave","In-Meeting Duration","Email","Participant ID (UPN)",
  "Role" (one row per person), then optionally "3. In-Meeting Activities" with one row per
  connection ("Join Time","Leave Time","Duration"). Times like "11/14/26, 9:31:05 AM".
- Generic CSV: columns email, name (optional), join and leave.

Rows of one person (same email, else same name) are merged across reconnects: the minutes are
the union of their connections clipped to the session's time, so two devices at once or a
reconnect never count twice.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

#: Larger reports are refused: a 1,000-person meeting exports well under 1 MB.
MAX_REPORT_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000


class ReportError(Exception):
    """A report we cannot read; the message tells the organiser what to do."""


class Connection(NamedTuple):
    """One row of a report: someone's join and leave (a tuple: a report has thousands)."""

    line: int
    name: str
    email: str | None
    #: Join and leave instants, UTC epoch seconds.
    joined: float
    left: float
    #: Minutes the report itself gives, for reports with one summary row per person.
    reported_minutes: float | None = None
    alternative_name: str | None = None


class Person(NamedTuple):
    """Everything a report says about one person, merged across reconnects (a tuple)."""

    key: str
    name: str
    email: str | None
    #: The first join, UTC epoch seconds.
    joined: float
    minutes: int
    #: Seconds attended within the session; the rule uses these, not the rounded minutes.
    seconds: float
    #: The report's line numbers and the names (and Zoom's original names) of the person.
    lines: list[int]
    names: list[str]

    @property
    def first_join(self) -> datetime:
        return datetime.fromtimestamp(self.joined, UTC)


@dataclass
class ParsedReport:
    source: str
    connections: list[Connection]


# --- decoding and tables -------------------------------------------------------------------


def decode(data: bytes) -> str:
    if not data.strip():
        raise ReportError("The file is empty. Export the participant report again and upload it.")
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(
            f"The file is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MB, too large for a "
            "participant report. Check that you chose the right file."
        )
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        elif (head := data[:200]).count(0) >= len(head) // 3:  # UTF-16 without a BOM
            text = data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReportError(
            "The file is not UTF-8 or UTF-16 text. Export the report from Zoom or Teams again "
            "(or save your spreadsheet as 'CSV UTF-8') and upload that file."
        ) from None
    if "\x00" in text:
        raise ReportError(
            "The file contains NUL characters, so it is not a text export. Export the report "
            "from Zoom or Teams again and upload the file as it was downloaded."
        )
    return text


def _norm_header(cell: str) -> str:
    return re.sub(r"\s+", " ", cell.strip().strip('"').lower())


#: A Teams section title, e.g. "3. In-Meeting Activities", ends the table above it.
_SECTION = re.compile(r"^\W*\d+\.\s")


def _table(lines: list[str], header_at: int) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header at `header_at` and the rows under it, up to a blank line or a new section."""
    header_line = lines[header_at]
    delimiter = (
        "\t"
        if "\t" in header_line
        else ";"
        if header_line.count(";") > header_line.count(",")
        else ","
    )
    header = [_norm_header(c) for c in next(csv.reader([header_line], delimiter=delimiter))]
    body: list[str] = []
    numbers: list[int] = []
    for number in range(header_at + 1, len(lines)):
        line = lines[number]
        if not line.strip() or (not line[0].isalpha() and _SECTION.match(line)):
            break
        body.append(line)
        numbers.append(number + 1)
    if len(body) > MAX_ROWS:
        raise ReportError(f"The report has more than {MAX_ROWS:,} rows; split it and try again.")
    return header, list(zip(numbers, csv.reader(body, delimiter=delimiter), strict=False))


def _find(lines: list[str], predicate, start: int = 0) -> int | None:
    for number in range(start, len(lines)):
        if predicate(lines[number]):
            return number
    return None


# --- times ---------------------------------------------------------------------------------

_SLASHED = re.compile(
    r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?$"
)
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$")


def _clean_time(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ").strip()


class TimeReader:
    """Reads the report's naive local times as UTC epoch seconds; the day/month order is
    decided once per file. Floats, not datetimes, keep a 5,000-row report fast to merge."""

    def __init__(self, samples: list[str], timezone: str, session_start: datetime) -> None:
        self.zone = ZoneInfo(timezone)
        #: Epoch seconds of each local hour (year, month, day, hour): zones change on the hour.
        self._hours: dict[tuple[int, int, int, int], float] = {}
        #: Zoom's times by their minute ("11/14/2026 09:31 AM"): most new texts are a known
        #: minute and new seconds.
        self._zoom_minutes: dict[str, float] = {}
        self.day_first = self._decide_order(samples, session_start.timestamp())

    def _decide_order(self, samples: list[str], session_start: float) -> bool:
        firsts, seconds = set(), set()
        for text in samples:
            match = _SLASHED.match(_clean_time(text))
            if match:
                firsts.add(int(match.group(1)))
                seconds.add(int(match.group(2)))
        if any(value > 12 for value in firsts):
            return True
        if any(value > 12 for value in seconds):
            return False
        # Ambiguous (e.g. 11/12): take the order that puts the first time near the session.
        for text in samples[:1]:
            for day_first in (False, True):
                self.day_first = day_first
                try:
                    value = self._read_any(text, 0)  # not remembered: the order is a guess
                except ReportError:
                    continue
                if abs(value - session_start) < 2 * 86400:
                    return day_first
        return False

    def read(self, text: str, line: int) -> float:
        if len(text) == 22 and not self.day_first:
            minute = text[:16] + text[19:]
            base = self._zoom_minutes.get(minute)
            seconds = text[17:19]
            if base is not None and seconds.isdecimal() and int(seconds) < 60:
                return base + int(seconds)
            value = self._read_any(text, line)
            if self._zoom_fast(text) is not None:
                self._zoom_minutes[minute] = value - int(seconds)
            return value
        return self._read_any(text, line)

    def _read_any(self, text: str, line: int) -> float:
        parts = self._zoom_fast(text) or self._read_parts(text)
        if parts is not None:
            year, month, day, hour, minute, second = parts
            base = self._hours.get((year, month, day, hour))
            if base is None and 0 <= minute < 60 and 0 <= second < 60:
                try:
                    local = datetime(year, month, day, hour)
                    utc = (local - self.zone.utcoffset(local)).replace(tzinfo=UTC)
                except (ValueError, OverflowError):  # no such day, or past year 1 or 9999
                    pass
                else:
                    base = self._hours[(year, month, day, hour)] = utc.timestamp()
            if base is not None and 0 <= minute < 60 and 0 <= second < 60:
                return base + minute * 60 + second
        raise ReportError(
            f'Line {line}: "{text}" is not a date and time we can read '
            '(expected e.g. "11/14/2026 09:31:05 AM" or "2026-11-14 09:31:05").'
        )

    def _zoom_fast(self, text: str) -> tuple[int, ...] | None:
        """Zoom's fixed-width "11/14/2026 09:31:05 AM", read by position (5x the regex)."""
        if (
            len(text) != 22
            or self.day_first
            or text[2] != "/"
            or text[5] != "/"
            or text[13] != ":"
            or text[16] != ":"
        ):
            return None
        half = text[20:]
        try:
            hour = int(text[11:13])
            if half not in ("AM", "PM") or not 1 <= hour <= 12:
                return None
            return (
                int(text[6:10]),
                int(text[0:2]),
                int(text[3:5]),
                hour % 12 + (12 if half == "PM" else 0),
                int(text[14:16]),
                int(text[17:19]),
            )
        except ValueError:
            return None

    def _read_parts(self, text: str) -> tuple[int, ...] | None:
        cleaned = _clean_time(text)
        match = _SLASHED.match(cleaned)
        if match:
            a, b, year, hour, minute, second, half = match.groups()
            month, day = (int(b), int(a)) if self.day_first else (int(a), int(b))
            hour_value = int(hour)
            if half:
                if not 1 <= hour_value <= 12:
                    return None
                hour_value = hour_value % 12 + (12 if half.lower() == "pm" else 0)
            year_value = int(year) + (2000 if len(year) == 2 else 0)
            return (year_value, month, day, hour_value, int(minute), int(second or 0))
        match = _ISO.match(cleaned)
        if match:
            return tuple(int(p or 0) for p in match.groups())
        return None


_DURATION = re.compile(r"(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?")


def _teams_minutes(text: str, line: int) -> float:
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or not match or not any(match.groups()):
        raise ReportError(f'Line {line}: "{text}" is not a duration like "1h 5m 20s".')
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 60 + minutes + seconds / 60


# --- formats -------------------------------------------------------------------------------

ZOOM_COLUMNS = ("join time", "leave time")
TEAMS_PARTICIPANT_COLUMNS = ("first join", "last leave")


def _column(header: list[str], *names: str) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    for index, cell in enumerate(header):
        if any(cell.startswith(name) for name in names):
            return index
    return None


def _require(header: list[str], what: str, *names: str) -> int:
    index = _column(header, *names)
    if index is None:
        raise ReportError(
            f'The report has no "{what}" column. Upload the participant report as Zoom or '
            "Teams export it, or a CSV with the columns email, name, join and leave."
        )
    return index


#: Teams appends these to people outside the organisation.
_GUEST_SUFFIX = re.compile(r"\s*\((guest|external|unverified)\)$", re.IGNORECASE)


_RENAMED = re.compile(r"(.+?)\s*\((.+)\)")


def _split_zoom_name(value: str) -> tuple[str, str | None]:
    """Zoom writes "Display Name (Original Name)" when someone renamed themselves."""
    match = _RENAMED.fullmatch(value) if value.endswith(")") else None
    if match and match.group(1).strip():
        return match.group(2).strip(), match.group(1).strip()
    return value, None


def parse_report(data: bytes, timezone: str, session_start: datetime) -> ParsedReport:
    try:
        return _parse(decode(data), timezone, session_start)
    except csv.Error as error:
        raise ReportError(
            f"The file is not a well-formed CSV ({error}). Export the report again and upload "
            "the file as it was downloaded."
        ) from None


_PARTICIPANTS = re.compile(r"^\W*2\.\s*participants")
_ACTIVITIES = re.compile(r"^\W*3\.\s*in-meeting activities")


def _marker(pattern: re.Pattern, word: str):
    """A predicate for a Teams section title: the regex runs only on lines holding `word`."""
    return lambda line: word in line and pattern.match(line) is not None


def _parse(text: str, timezone: str, session_start: datetime) -> ParsedReport:
    lines = text.splitlines()
    lowered = [line.lower() for line in lines]

    participants = _find(lowered, _marker(_PARTICIPANTS, "participants"))
    if participants is not None:
        activities = _find(lowered, _marker(_ACTIVITIES, "activities"), participants)
        if activities is not None:
            header_at = _find(lines, str.strip, activities + 1)
            if header_at is not None:
                return _read_connections("teams", lines, header_at, timezone, session_start)
        header_at = _find(lines, str.strip, participants + 1)
        if header_at is None:
            raise ReportError('The Teams report has an empty "Participants" section.')
        return _read_connections("teams", lines, header_at, timezone, session_start, summary=True)

    header_at = _find(
        lowered,
        lambda line: all(column in line for column in ZOOM_COLUMNS) and "email" in line,
    )
    if header_at is not None:
        return _read_connections("zoom", lines, header_at, timezone, session_start)
    header_at = _find(lowered, lambda line: "email" in line and "join" in line and "leave" in line)
    if header_at is not None:
        return _read_connections("generic", lines, header_at, timezone, session_start)
    raise ReportError(
        "This does not look like a Zoom or Teams participant report: no row names the join and "
        "leave times and email columns. Upload the participants export, or a CSV with the "
        "columns email, name, join and leave."
    )


def _read_connections(
    source: str,
    lines: list[str],
    header_at: int,
    timezone: str,
    session_start: datetime,
    *,
    summary: bool = False,
) -> ParsedReport:
    header, rows = _table(lines, header_at)
    if summary:
        join_col = _require(header, "First Join", "first join")
        leave_col = _require(header, "Last Leave", "last leave")
        duration_col = _require(header, "In-Meeting Duration", "in-meeting duration", "duration")
    else:
        join_col = _require(header, "Join Time", "join time", "join", "joined")
        leave_col = _require(header, "Leave Time", "leave time", "leave", "left")
        duration_col = None
    email_col = _column(header, "user email", "email", "participant id (upn)")
    name_col = _column(header, "name (original name)", "name", "full name")
    waiting_col = _column(header, "in waiting room")
    if email_col is None and name_col is None:
        raise ReportError('The report has neither an "Email" nor a "Name" column.')
    if not rows:
        raise ReportError("The report lists no participants.")
    width = max(join_col, leave_col, email_col or 0, name_col or 0)
    samples = [row[join_col] for _, row in rows[:50] if len(row) > width]
    reader = TimeReader(samples, timezone, session_start)
    connections: list[Connection] = []
    append, read, zoom, new = connections.append, reader.read, source == "zoom", tuple.__new__
    seen: dict[str, float] = {}  # a report repeats its times: each text is read once
    for line, row in rows:
        if len(row) <= width:
            raise ReportError(
                f"Line {line} has {len(row)} columns where the header has {len(header)}. "
                "The file may have been cut or edited; export it again."
            )
        if waiting_col is not None and row[waiting_col].strip().lower() in ("yes", "true"):
            continue  # time spent in Zoom's waiting room is not attendance
        text = row[join_col].strip()
        if (joined := seen.get(text)) is None:
            joined = seen[text] = read(text, line)
        text = row[leave_col].strip()
        if (left := seen.get(text)) is None:
            left = seen[text] = read(text, line)
        if left < joined:
            raise ReportError(f"Line {line}: the leave time is before the join time.")
        name = row[name_col].strip() if name_col is not None else ""
        alternative = None
        if name.endswith(")"):
            name = _GUEST_SUFFIX.sub("", name)
            if zoom:
                name, alternative = _split_zoom_name(name)
        email = (row[email_col].strip().lower() if email_col is not None else "") or None
        if email is not None and "@" not in email:
            email = None
        if not email and not name:
            raise ReportError(f"Line {line} has neither a name nor an email.")
        minutes = _teams_minutes(row[duration_col], line) if duration_col is not None else None
        append(new(Connection, (line, name, email, joined, left, minutes, alternative)))
    if not connections:
        raise ReportError("The report lists no participants outside the waiting room.")
    if abs(connections[0].joined - session_start.timestamp()) > 2 * 86400:
        raise ReportError(
            "The times in this report are not on the session's date. Check that you uploaded the "
            "report of this session, and the time zone the times are written in."
        )
    return ParsedReport(source=source, connections=connections)


# --- merging and the rule ------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """For matching names: accents, case and spacing do not matter ("José" is "jose")."""
    if name.isascii():
        return " ".join(name.casefold().split())
    return _normalise_unicode(name)


def normalise_names(names: list[str]) -> list[str]:
    """normalise_name of each, the common ASCII case without a call per name."""
    return [
        " ".join(name.casefold().split()) if name.isascii() else _normalise_unicode(name)
        for name in names
    ]


def _normalise_unicode(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def merge_people(report: ParsedReport, starts_at: datetime, ends_at: datetime) -> list[Person]:
    """One Person per email (or name, for guests without one), minutes within the session."""
    grouped: dict[str, list[Connection]] = {}
    for connection in report.connections:
        key = connection.email or "name:" + normalise_name(connection.name)
        group = grouped.get(key)
        if group is None:
            grouped[key] = [connection]
        else:
            group.append(connection)
    start, end = starts_at.timestamp(), ends_at.timestamp()
    people = []
    append, new = people.append, tuple.__new__
    for key, connections in grouped.items():
        first = connections[0]
        if len(connections) == 1:  # most people: one connection, no union to compute
            begin = first.joined if first.joined > start else start
            stop = first.left if first.left < end else end
            seconds = stop - begin if stop > begin else 0.0
            if first.reported_minutes is not None:
                seconds = min(seconds, first.reported_minutes * 60)
            names = [first.name] if first.name else []
            if first.alternative_name:
                names.append(first.alternative_name)
        else:
            connections.sort(key=lambda c: c.joined)
            first = connections[0]
            seconds = _union_seconds(connections, start, end)
            names = [c.name for c in connections if c.name]
            names += [c.alternative_name for c in connections if c.alternative_name]
        person = (
            key,
            first.name or first.email or "",
            first.email,
            first.joined,
            int(seconds // 60),
            seconds,
            [c.line for c in connections],
            names,
        )
        append(new(Person, person))  # built in C, without the NamedTuple's Python __new__
    # By name (then key, unique: two people never compare), names normalised in one pass.
    names = normalise_names([p.name for p in people])
    keys = [p.key for p in people]
    people = [p for _, _, p in sorted(zip(names, keys, people, strict=True))]
    return people


def _union_seconds(connections: list[Connection], start: float, end: float) -> float:
    """Seconds within [start, end] covered by connections sorted by join: overlaps (a second
    device) count once; a report's own minutes (Teams' summary rows) cap the total."""
    seconds = 0.0
    covered_until = start
    for connection in connections:
        begin = connection.joined if connection.joined > covered_until else covered_until
        stop = connection.left if connection.left < end else end
        if stop > begin:
            seconds += stop - begin
            covered_until = stop
    reported = [c.reported_minutes for c in connections if c.reported_minutes is not None]
    return min(seconds, sum(reported) * 60) if reported else seconds


def status_by_rule(
    seconds: float, first_join: float, length: float, late_after: float, present_percent: int
) -> str:
    """Present when at least `present_percent` of the session's `length` (seconds) was
    attended, late if the first join (epoch seconds) came after `late_after`; else absent."""
    if length <= 0 or seconds * 100 < present_percent * length:
        return "absent"
    return "late" if first_join > late_after else "present"
