"""VTIMEZONE blocks (RFC 5545 3.6.5) written from zoneinfo's own transitions.

icalendar's `Timezone.from_tzid` (7.3) writes each onset's DTSTART in the offset the change
goes *to*: New York's spring change as `DTSTART:20250309T030000` with `TZOFFSETFROM:-0500`,
that is 08:00 UTC, an hour after the real change, so a parser that reads the block (vobject,
Outlook) put times of that hour an hour off. RFC 5545 wants the onset as local time in the
offset it changes *from* (`20250309T020000`). Here the transitions are found by asking the
zone for its offset, and each onset is written in the offset in force just before it.

A change that happens each year on the same weekday of the same month at the same local time
(the rules of nearly every zone) is written as a yearly RRULE, the form Outlook takes a zone's
rules from (MS-OXCICAL; RDATE it may ignore); anything else is written as the onsets themselves
(DTSTART and one RDATE line each).
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

#: Zones change their offset at most once in this span (checked between samples).
_STEP = timedelta(hours=12)
_SECOND = timedelta(seconds=1)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class _State(NamedTuple):
    """A zone's offset and abbreviation between two changes."""

    offset: timedelta
    name: str


@dataclass(frozen=True)
class _Onset:
    """One change: when (UTC), its local start (in the offset before it), from what to what."""

    instant: datetime
    local: datetime
    before: _State
    after: _State


def _state(zone: ZoneInfo, instant: datetime) -> _State:
    local = instant.astimezone(zone)
    offset = local.utcoffset()
    assert offset is not None  # an aware datetime in a ZoneInfo always has one
    return _State(offset, local.tzname() or "")


def _onsets(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[_Onset]:
    """Every change of offset or name between two UTC instants, to the second."""
    at, state = start, _state(zone, start)
    while at < end:
        step = min(at + _STEP, end)
        after = _state(zone, step)
        if after != state:
            low, high = at, step
            while high - low > _SECOND:
                middle = (low + (high - low) / 2).replace(microsecond=0)
                if _state(zone, middle) == state:
                    low = middle
                else:
                    high = middle
            yield _Onset(high, (high + state.offset).replace(tzinfo=None), state, after)
        at, state = step, after


def _yearly_rule(starts: list[datetime], last_year: int) -> dict | None:
    """A yearly RRULE that gives exactly these onsets, when they follow one: consecutive years
    up to the last one covered, one month, one weekday, one time, the nth (or last) of the month."""
    first = starts[0]
    if len(starts) < 2 or starts[-1].year != last_year:
        return None
    if [s.year for s in starts] != list(range(first.year, first.year + len(starts))):
        return None
    if any(
        (s.month, s.weekday(), s.time()) != (first.month, first.weekday(), first.time())
        for s in starts
    ):
        return None
    nths = {(s.day - 1) // 7 + 1 for s in starts}
    if len(nths) == 1 and (nth := nths.pop()) <= 4:
        ordinal = str(nth)
    elif all(s.day + 7 > monthrange(s.year, s.month)[1] for s in starts):
        ordinal = "-1"
    else:
        return None
    return {"freq": "yearly", "bymonth": first.month, "byday": ordinal + _WEEKDAYS[first.weekday()]}


def _observance(state: _State, before: timedelta, starts: list[datetime], rules: dict):
    daylight = state.offset > rules["standard"]
    part = TimezoneDaylight() if daylight else TimezoneStandard()
    part.add("dtstart", starts[0])
    rule = _yearly_rule(starts, rules["last_year"])
    if rule:
        part.add("rrule", rule)
    for start in [] if rule else starts[1:]:
        part.add("rdate", start)  # one per line: vobject keeps only the first of a list
    part.add("tzname", state.name)
    part.add("tzoffsetfrom", before)
    part.add("tzoffsetto", state.offset)
    return part


@lru_cache(maxsize=128)
def vtimezone_text(tzid: str, first_year: int, last_year: int) -> str:
    """`vtimezone` as iCalendar text (computing it costs ~30 ms, so it is kept)."""
    return vtimezone(tzid, first_year, last_year).to_ical().decode()


def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The zone's VTIMEZONE, true to zoneinfo for every instant of the years given.

    It starts with the last change before those years (a real one, so that each part changes
    from one offset to another, as parsers expect); DAYLIGHT is any offset above the lowest
    (zoneinfo calls Dublin's winter and Casablanca's Ramadan hour "daylight")."""
    zone = ZoneInfo(tzid)
    # A day early: a parser that reads 1 January 00:00 UTC as local time first (dateutil's
    # fromutc) must find it after the first onset, whatever the zone's offset.
    start = datetime(first_year, 1, 1, tzinfo=UTC) - timedelta(days=1)
    scan_from = start - timedelta(days=366)
    onsets = list(_onsets(zone, scan_from, datetime(last_year + 1, 1, 1, tzinfo=UTC)))
    earlier = sum(1 for onset in onsets if onset.instant <= start)
    if earlier:
        onsets = onsets[earlier - 1 :]
    else:  # no change in the year before: what is in force then holds until the first one
        initial = _state(zone, scan_from)
        local = (scan_from + initial.offset).replace(tzinfo=None)
        onsets.insert(0, _Onset(scan_from, local, initial, initial))
    rules = {
        "last_year": last_year,
        "standard": min(onset.after.offset for onset in onsets),
    }
    groups: dict[tuple[_State, timedelta], list[datetime]] = {}
    for onset in onsets:
        groups.setdefault((onset.after, onset.before.offset), []).append(onset.local)
    timezone = Timezone()
    timezone.add("tzid", tzid)
    for (state, before), starts in groups.items():
        timezone.add_component(_observance(state, before, starts, rules))
    return timezone
