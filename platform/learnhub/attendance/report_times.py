"""Reading the times and durations meeting reports write, in the languages they write them.

The day/month order is one for the whole file, never guessed row by row: a value over 12 in
either place settles it (the first row's, else the first row that only reads the other way),
dots ("13.12.26") or a report in a day-first language (German, French, Spanish, Portuguese)
mean day-first, else the order that puts the report near the session. Every row is then read
in that order, so a file written both ways is refused. Zones: the file carries none, the
organiser chooses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from .report_base import ReportError

_SLASHED = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*([AaPp]\.?\s?[Mm]\.?)?$"
)
#: The date at the start of a time text, enough to decide the day/month order.
_DATE_PREFIX = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$")
#: Zoom's webinar reports: "Dec 13, 2026 14:52:03" (or with AM/PM).
_NAMED_MONTH = re.compile(
    r"^([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*([AaPp][Mm])?$"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def clean_time(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ").strip()


class UnreadableTime(ReportError):
    """A time text we cannot read in the file's order (perhaps in the other one)."""

    def __init__(self, message: str, text: str, line: int) -> None:
        super().__init__(message)
        self.text, self.line = text, line


def decide_day_first(
    texts: Iterable[str], day_first_language: bool, near: tuple[float, str, str] | None = None
) -> tuple[bool, str, bool]:
    """The date order, why, and whether a date settled it, from time texts (see the module's
    docstring): the first date with a value over 12 (or written with dots) settles it, and a
    row written the other way round then fails to read, naming the order. `near` is
    (session start, zone, a sample time) for the last resort."""
    seen: set[str] = set()
    match = _DATE_PREFIX.match
    for text in texts:
        date = text[:10]
        if date in seen:
            continue
        seen.add(date)
        found = match(date.strip())
        if found is None:
            continue
        shown = found.group(0)
        if int(found.group(1)) > 12 or "." in shown:
            return True, f"{shown} can only be day-first", True
        if int(found.group(2)) > 12:
            return False, f"{shown} can only be month-first", True
    if day_first_language:
        return True, "the report's language writes the day first", False
    if near is not None:
        start, zone, sample = near
        for day_first in (False, True):
            try:
                value = TimeReader(zone, day_first).read(sample, 0)
            except ReportError:
                continue
            if abs(value - start) < 2 * 86400:
                return day_first, "that order puts the report on the session's date", False
    return False, "no date tells otherwise", False


class TimeReader:
    """Reads the report's naive local times as UTC epoch seconds. Floats, not datetimes, keep
    a 5,000-row report fast to merge."""

    def __init__(
        self, timezone: str, day_first: bool, why: str = "", decisive: bool = False
    ) -> None:
        self.zone = ZoneInfo(timezone)
        self.day_first = day_first
        #: True when a date of the file settled the order (not the language or a guess).
        self.decisive = decisive
        #: Why the file's dates are read in this order, for the message of a row that fails.
        self.why = why
        #: Epoch seconds of each local hour (year, month, day, hour): zones change on the hour.
        self._hours: dict[tuple[int, int, int, int], float] = {}
        #: Zoom's times by their minute ("11/14/2026 09:31 AM"): most new texts are a known
        #: minute and new seconds.
        self._zoom_minutes: dict[str, float] = {}

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
                    # A ZoneInfo has an offset for every moment (tzinfo's signature allows None).
                    offset = cast(timedelta, self.zone.utcoffset(local))
                    utc = (local - offset).replace(tzinfo=UTC)
                except (ValueError, OverflowError):  # no such day, or past year 1 or 9999
                    pass
                else:
                    base = self._hours[(year, month, day, hour)] = utc.timestamp()
            if base is not None and 0 <= minute < 60 and 0 <= second < 60:
                return base + minute * 60 + second
        order = "day-first" if self.day_first else "month-first"
        because = f" ({self.why})" if self.why else ""
        raise UnreadableTime(
            f'Line {line}: "{text}" is not a date and time we can read '
            '(expected e.g. "11/14/2026 09:31:05 AM" or "2026-11-14 09:31:05"; this file\'s '
            f"dates are read {order}{because}). If its dates are written both ways, export it "
            "again without editing it.",
            text,
            line,
        )

    def can_read(self, text: str) -> bool:
        try:
            self._read_any(text, 0)
        except ReportError:
            return False
        return True

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
        cleaned = clean_time(text)
        match = _SLASHED.match(cleaned)
        if match:
            a, b, year, hour, minute, second, half = match.groups()
            month, day = (int(b), int(a)) if self.day_first else (int(a), int(b))
            year_value = int(year) + (2000 if len(year) == 2 else 0)
            return _with_half(year_value, month, day, hour, minute, second, half)
        match = _NAMED_MONTH.match(cleaned)
        if match:
            month_name, day_text, year, hour, minute, second, half = match.groups()
            named_month = _MONTHS.get(month_name.lower())
            if named_month is None:
                return None
            return _with_half(int(year), named_month, int(day_text), hour, minute, second, half)
        match = _ISO.match(cleaned)
        if match:
            return tuple(int(p or 0) for p in match.groups())
        return None


def _with_half(year, month, day, hour, minute, second, half) -> tuple[int, ...] | None:
    hour_value = int(hour)
    if half:
        if not 1 <= hour_value <= 12:
            return None
        hour_value = hour_value % 12 + (12 if half.lower().startswith("p") else 0)
    return (year, month, day, hour_value, int(minute), int(second or 0))


# --- durations -----------------------------------------------------------------------------

_UNITS = {
    **dict.fromkeys(
        ("h", "hr", "hrs", "hour", "hours", "std", "stunde", "stunden", "heure", "heures",
         "hora", "horas"),
        3600,
    ),
    **dict.fromkeys(
        ("m", "min", "mins", "minute", "minutes", "minuten", "minuto", "minutos"), 60
    ),
    **dict.fromkeys(
        ("s", "sec", "secs", "second", "seconds", "sek", "sekunde", "sekunden", "seconde",
         "secondes", "seg", "segundo", "segundos"),
        1,
    ),
}  # fmt: skip
_DURATION_PART = re.compile(r"(\d+)\s*([^\d\s]+)")


def duration_minutes(text: str, line: int) -> float:
    """Minutes of a Teams duration in any of its languages: "1h 2m 3s", "1 Std. 2 Min.
    3 Sek.", "1 h 2 min 3 s", "2 min", or a bare clock "1:02:03"."""
    cleaned = clean_time(text).lower()
    if re.fullmatch(r"\d{1,3}:\d{2}:\d{2}", cleaned):
        hours, minutes, seconds = (int(part) for part in cleaned.split(":"))
        return hours * 60 + minutes + seconds / 60
    parts = _DURATION_PART.findall(cleaned)
    rest = _DURATION_PART.sub("", cleaned).strip()
    total = 0.0
    for number, unit in parts:
        factor = _UNITS.get(unit.rstrip("."))
        if factor is None:
            parts = []
            break
        total += int(number) * factor
    if not parts or rest:
        raise ReportError(f'Line {line}: "{text}" is not a duration like "1h 5m 20s".')
    return total / 60
