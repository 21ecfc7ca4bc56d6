"""Meeting reports: reading one (see report_formats for the formats), merging each person's
connections, and the organiser's rule; pure functions, no database.

Rows of one person (same email, else same name) are merged across reconnects: the minutes are
the union of their connections clipped to the session's time, so two devices at once or a
reconnect never count twice.
"""

from __future__ import annotations

import csv
import unicodedata
from datetime import UTC, datetime
from itertools import groupby
from typing import NamedTuple

from .report_base import EXPECTED, Connection, ParsedReport, ReportError, decode
from .report_formats import read_report

__all__ = ["Connection", "ParsedReport", "Person", "ReportError", "merge_people", "parse_report"]


class Person(NamedTuple):
    """Everything a report says about one person, merged across reconnects: a tuple of plain
    values, which the cycle collector stops tracking (an import holds thousands)."""

    key: str
    name: str
    email: str | None
    #: The first join, UTC epoch seconds.
    joined: float
    minutes: int
    #: Seconds attended within the session; the rule uses these, not the rounded minutes.
    seconds: float
    #: The names (and Zoom's original names) the person connected with.
    names: tuple[str, ...]

    @property
    def first_join(self) -> datetime:
        return datetime.fromtimestamp(self.joined, UTC)


def parse_report(data: bytes, timezone: str, session_start: datetime) -> ParsedReport:
    """The report's connections, the format recognised and what was left out, or a
    ReportError saying what was expected."""
    try:
        report = read_report(decode(data), timezone, session_start.timestamp())
    except csv.Error as error:
        raise ReportError(
            f"The file is not a well-formed CSV ({error}). Export the report again and upload "
            "the file as it was downloaded."
        ) from None
    if not report.connections:
        reasons = sorted({why for _, _, why in report.ignored})
        raise ReportError(
            "The report lists no participants to mark"
            + (f" (rows left out: {'; '.join(reasons)})" if reasons else "")
            + f". {EXPECTED}"
        )
    return report


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
    every = report.connections
    keys = [c.email or "name:" + normalise_name(c.name) for c in every]
    by_key = keys.__getitem__
    start, end = starts_at.timestamp(), ends_at.timestamp()
    people: list[Person] = []
    names: tuple[str | None, ...]
    append, new = people.append, tuple.__new__
    # Grouped by sorting their positions: no list per person kept while the others are read.
    for key, group in groupby(sorted(range(len(every)), key=by_key), by_key):
        connections = [every[number] for number in group]
        first = connections[0]
        if len(connections) == 1:  # most people: one connection, no union to compute
            begin = first.joined if first.joined > start else start
            stop = first.left if first.left < end else end
            seconds = stop - begin if stop > begin else 0.0
            if first.reported_minutes is not None:
                seconds = min(seconds, first.reported_minutes * 60)
            names = (first.name, first.alternative_name)
        else:
            connections.sort(key=lambda c: c.joined)
            first = connections[0]
            seconds = _union_seconds(connections, start, end)
            names = (*(c.name for c in connections), *(c.alternative_name for c in connections))
        person = (
            key,
            first.name or first.email or "",
            first.email,
            first.joined,
            int(seconds // 60),
            seconds,
            tuple(name for name in names if name),
        )
        append(new(Person, person))  # built in C, without the NamedTuple's Python __new__
    # By name (then key, unique: two people never compare), names normalised in one pass.
    sort_names = normalise_names([p.name for p in people])
    keys = [p.key for p in people]
    people = [p for _, _, p in sorted(zip(sort_names, keys, people, strict=True))]
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
