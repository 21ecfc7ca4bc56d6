"""How times are written for people: always with their zone, never ambiguous.

Example: "Tue 14 Nov 2026, 09:30–11:00 KST (Asia/Seoul)". English keeps that fixed form;
another `locale` (emails in the recipient's language) writes the date and time the way that
locale does, with Babel, and the same zone label: "lun, 1 nov 2027, 9:00–10:30 CET (Europe/Madrid)".
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TypeGuard
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import format_interval, format_skeleton

ENGLISH = "en"


@lru_cache(maxsize=1)
def all_timezones() -> tuple[str, ...]:
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


@lru_cache(maxsize=1)
def _offered_zones() -> frozenset[str]:
    return frozenset(all_timezones())


def is_valid_timezone(name: str | None) -> TypeGuard[str]:
    """A zone of the list people choose from (not "posix/…", "right/…" or "localtime", which
    ZoneInfo also loads)."""
    return bool(name) and name in _offered_zones()


def zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name) if is_valid_timezone(name) else ZoneInfo("UTC")


def zone_abbreviation(moment: datetime, tz: str) -> str:
    """The zone's own abbreviation (KST, CET) or, where it has none, its UTC offset."""
    local = moment.astimezone(zone(tz))
    abbreviation = local.tzname() or ""
    if not abbreviation or abbreviation[0] in "+-":
        offset = local.strftime("%z")
        hours, minutes = offset[:3], offset[3:]
        return f"UTC{hours}" + (f":{minutes}" if minutes != "00" else "")
    return abbreviation


def format_date(moment: datetime, tz: str) -> str:
    return moment.astimezone(zone(tz)).strftime("%a %-d %b %Y")


def format_moment(moment: datetime, tz: str, *, locale: str = ENGLISH) -> str:
    local = moment.astimezone(zone(tz))
    if locale != ENGLISH:
        return f"{_localised_moment(local, locale)} {_zone_label(moment, tz)}"
    return f"{local.strftime('%a %-d %b %Y, %H:%M')} {_zone_label(moment, tz)}"


def format_range(
    start: datetime,
    end: datetime,
    tz: str,
    *,
    with_zone_name: bool = True,
    locale: str = ENGLISH,
) -> str:
    """A session's time span in one zone, e.g. "Tue 14 Nov 2026, 09:30–11:00 KST (Asia/Seoul)".

    Remembered: a session's reminders write the same few spans for thousands of readers."""
    return _format_range(start, end, tz, with_zone_name, locale)


@lru_cache(maxsize=4096)
def _format_range(start: datetime, end: datetime, tz: str, with_zone_name: bool, locale: str):
    local_start = start.astimezone(zone(tz))
    local_end = end.astimezone(zone(tz))
    if locale != ENGLISH:
        span = _localised_span(local_start, local_end, locale)
    elif local_start.date() == local_end.date():
        span = f"{local_start.strftime('%a %-d %b %Y, %H:%M')}–{local_end.strftime('%H:%M')}"
    else:
        span = (
            f"{local_start.strftime('%a %-d %b %Y, %H:%M')} – "
            f"{local_end.strftime('%a %-d %b %Y, %H:%M')}"
        )
    if not with_zone_name:
        return f"{span} {zone_abbreviation(start, tz)}"
    return f"{span} {_zone_label(start, tz)}"


@lru_cache(maxsize=32)
def _locale_patterns(locale: str) -> tuple[Locale, str, str, str]:
    """The locale, its hour skeleton (12- or 24-hour clock), date-time joining pattern
    ("{1}, {0}") and the pattern joining the two ends of a range ("{0} – {1}")."""
    parsed = Locale.parse(locale)
    hours = "hm" if "h" in parsed.time_formats["short"].pattern else "Hm"
    return parsed, hours, str(parsed.datetime_formats["medium"]), parsed.interval_formats[None]


def _localised_moment(local: datetime, locale: str) -> str:
    parsed, hours, joined, _ = _locale_patterns(locale)
    date = format_skeleton("yMMMEd", local, tzinfo=local.tzinfo, locale=parsed)
    time = format_skeleton(hours, local, tzinfo=local.tzinfo, locale=parsed)
    return joined.replace("{1}", date).replace("{0}", time)


def _localised_span(local_start: datetime, local_end: datetime, locale: str) -> str:
    parsed, hours, joined, ends = _locale_patterns(locale)
    if local_start.date() == local_end.date():
        date = format_skeleton("yMMMEd", local_start, tzinfo=local_start.tzinfo, locale=parsed)
        times = format_interval(
            local_start, local_end, hours, tzinfo=local_start.tzinfo, locale=parsed
        )
        return joined.replace("{1}", date).replace("{0}", times)
    return ends.replace("{0}", _localised_moment(local_start, locale)).replace(
        "{1}", _localised_moment(local_end, locale)
    )


def _zone_label(moment: datetime, tz: str) -> str:
    """ "KST (Asia/Seoul)", or just "UTC" where the abbreviation is the zone's name."""
    abbreviation = zone_abbreviation(moment, tz)
    return abbreviation if abbreviation == tz else f"{abbreviation} ({tz})"


def local_to_utc(local: datetime | None, tz: str) -> datetime | None:
    """A wall-clock time entered in zone `tz` (a naive datetime) as an aware UTC instant."""
    from datetime import UTC

    if local is None:
        return None
    return local.replace(tzinfo=zone(tz)).astimezone(UTC)


def utc_to_local(moment: datetime | None, tz: str) -> datetime | None:
    """The naive wall-clock time in `tz`, as a datetime-local field shows it."""
    if moment is None:
        return None
    return moment.astimezone(zone(tz)).replace(tzinfo=None)
