"""How times are written for people: always with their zone, never ambiguous.

Example: "Tue 14 Nov 2026, 09:30–11:00 KST (Asia/Seoul)".
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@lru_cache(maxsize=1)
def all_timezones() -> tuple[str, ...]:
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def is_valid_timezone(name: str | None) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Brazil" is a directory of zones
        return False
    return True


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


def format_moment(moment: datetime, tz: str) -> str:
    local = moment.astimezone(zone(tz))
    return f"{local.strftime('%a %-d %b %Y, %H:%M')} {_zone_label(moment, tz)}"


def format_range(start: datetime, end: datetime, tz: str, *, with_zone_name: bool = True) -> str:
    """A session's time span in one zone, e.g. "Tue 14 Nov 2026, 09:30–11:00 KST (Asia/Seoul)"."""
    local_start = start.astimezone(zone(tz))
    local_end = end.astimezone(zone(tz))
    if local_start.date() == local_end.date():
        span = f"{local_start.strftime('%a %-d %b %Y, %H:%M')}–{local_end.strftime('%H:%M')}"
    else:
        span = (
            f"{local_start.strftime('%a %-d %b %Y, %H:%M')} – "
            f"{local_end.strftime('%a %-d %b %Y, %H:%M')}"
        )
    if not with_zone_name:
        return f"{span} {zone_abbreviation(start, tz)}"
    return f"{span} {_zone_label(start, tz)}"


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
