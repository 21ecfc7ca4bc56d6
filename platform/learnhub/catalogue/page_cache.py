"""The public programme page's viewer-independent parts, rendered once and kept in
Flask-Caching (`extensions.cache`: each process's memory by default, Redis in production).

Every key carries the programme's `content_version`, which the use cases that change what the
page shows raise in their transaction (catalogue/versions.py): a kept entry is never stale,
so an edit shows on the next request in every worker, and nothing is ever forgotten by hand.
Each request reads the programme's row (version, seats, registration settings: one statement)
and then finds its parts: the page's header, facts and body, and plain facts of its sessions,
per (programme, version, locale); the sessions' headings per viewer zone too; and a signed-out
visit's whole page, encoded, per what it shows (zone, seats left, next session, register box).
What depends on the viewer or on the clock (join links, progress, recordings' links) is not
kept. A cache server out of reach only means rendering afresh.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from markupsafe import Markup
from redis.exceptions import RedisError
from wtforms import Form

from .. import i18n
from ..accounts.forms import zone_text_field
from ..extensions import cache
from .models import Programme, SessionSpeaker

logger = logging.getLogger(__name__)

PARTS_TEMPLATE = "catalogue/_programme_parts.html"


# --- what is kept ------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionFacts:
    """What the per-request part of the page needs of a session (no ORM object is kept)."""

    id: int
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    join_url: str | None
    description: str


@dataclass(frozen=True)
class RecordingLink:
    id: int
    title: str


@dataclass(frozen=True)
class PageParts:
    """A programme page's viewer-independent HTML and the facts its viewer's part needs."""

    key: tuple
    sessions: tuple[SessionFacts, ...]
    recordings: dict[int, list[RecordingLink]]
    hosts: str
    header: Markup
    facts: Markup
    body: Markup
    session_tails: dict[int, Markup]


def key(*parts) -> str:
    """A cache key of plain values (Redis keys are text)."""
    return ":".join(map(str, parts))


def lookup(cache_key: str):
    """What is kept under the key, or None (also when the cache server is out of reach)."""
    try:
        return cache.get(cache_key)
    except RedisError:
        logger.warning("page cache unreachable: rendering afresh", exc_info=True)
        return None


def keep(cache_key: str, value, timeout: int | None = None) -> None:
    """Keep the value for `timeout` seconds (CACHE_DEFAULT_TIMEOUT when None)."""
    try:
        cache.set(cache_key, value, timeout=timeout)
    except RedisError:
        logger.warning("page cache unreachable: not kept", exc_info=True)


def _macros():
    return current_app.jinja_env.get_template(PARTS_TEMPLATE).module


def build_parts(programme: Programme, speakers: list[SessionSpeaker]) -> PageParts:
    """Render the parts from a programme loaded with its page's graph (`programme_page`)."""
    macros = _macros()
    recordings: dict[int, list[RecordingLink]] = {}
    for material in programme.materials:
        if material.kind == "recording" and material.session_id is not None:
            recordings.setdefault(material.session_id, []).append(
                RecordingLink(material.id, material.title)
            )
    return PageParts(
        key=(programme.id, programme.content_version, i18n.current_locale_code()),
        sessions=tuple(
            SessionFacts(
                s.id,
                s.title,
                s.status,
                s.starts_at,
                s.ends_at,
                s.timezone,
                s.join_url,
                s.description or "",
            )
            for s in programme.sessions
        ),
        recordings=recordings,
        hosts=", ".join(o.name for o in programme.organisations("host")),
        header=Markup(macros.header(programme)),
        facts=Markup(macros.facts(programme)),
        body=Markup(macros.body(programme, speakers)),
        session_tails={s.id: Markup(macros.session_tail(s)) for s in programme.sessions},
    )


def session_heads(parts: PageParts, zone: str) -> dict[int, Markup]:
    """Each session's title, state and times (its own zone and `zone`), kept per zone."""
    heads_key = key("heads", *parts.key, zone)
    heads = lookup(heads_key)
    if heads is None:
        macros = _macros()
        heads = {s.id: Markup(macros.session_head(s, zone)) for s in parts.sessions}
        keep(heads_key, heads)
    return heads


class _ZoneChoice(Form):
    """The viewer-zone select alone (the page writes its form's next path)."""

    timezone = zone_text_field("Show times in")


def timezone_chooser(zone: str) -> Markup:
    """The label and the zone field holding `zone` (a text field renders in microseconds: the
    select of every zone it replaced was kept per zone)."""
    field = _ZoneChoice(timezone=zone).timezone
    return Markup(f"{field.label()} {field()}")


def cached_parts(programme_id: int, content_version: int, load) -> PageParts:
    """The parts for this version; on a miss `load()` returns (programme graph, speakers).

    The graph is read after the version, so it is at least as new; it is kept under the version
    it was read with (the same row), never under an older one."""
    parts = lookup(key("parts", programme_id, content_version, i18n.current_locale_code()))
    if parts is None:
        parts = build_parts(*load())
        keep(key("parts", *parts.key), parts)
    return parts
