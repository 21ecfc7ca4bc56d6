"""The public programme page's viewer-independent parts, rendered once and kept per worker.

A programme's `content_version` is raised in the same transaction as every change its page
shows: the `after_flush` hook below sees every catalogue row a flush inserts, updates or
deletes (the programme, its sessions, speakers' links, modules, materials including
recordings, organisation links, and the shared people, organisations and topics it shows) and
raises the version of each programme concerned with one UPDATE. Bulk ORM UPDATE/DELETE
statements on those tables raise every programme's version (they say nothing of which rows).

A signed-in viewer's page reads the programme row (with its version and seat count) on every
request, so it shows an edit or a registration on its very next request. A signed-out page
reads them at most once per PUBLIC_PAGE_MAX_AGE_SECONDS (1 s) per worker (`public_head`): an
edit, a registration or a cancellation shows there within that time in every worker. The seat
count shown is for display only: the registration use case counts under the programme's write
lock and decides exactly. Apart from that, the bounded LRU only limits memory. What depends on
the viewer or on the clock (times in the viewer's zone, join links, the register box and seats
left, progress, recordings' links) is not kept in the parts, except the sessions' headings in a
viewer's zone, kept per (programme, version, locale, zone); a signed-out page's whole HTML is
kept per (programme, version, locale, zone, seats left, next session).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from flask import current_app
from markupsafe import Markup
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from wtforms import Form

from .. import i18n
from ..forms import timezone_field
from .models import (
    Material,
    Module,
    Organisation,
    Person,
    Programme,
    ProgrammeOrganisation,
    Session,
    SessionSpeaker,
    Topic,
)

PARTS_TEMPLATE = "catalogue/_programme_parts.html"
#: Entries kept per worker: a programme's parts plus its session headings per viewer zone.
CACHE_SIZE = 512


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


class LRU:
    """A bounded, thread-safe least-recently-used map."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def discard(self, key) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def _cache() -> LRU:
    """The running app's cache (each app its own: tests build many apps over fresh databases)."""
    cache = current_app.extensions.get("programme_page_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("programme_page_cache", LRU(CACHE_SIZE))
    return cache


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
    """Each session's title, state and times (its own zone and `zone`), cached per zone."""
    key = (*parts.key, zone)
    heads = _cache().get(key)
    if heads is None:
        macros = _macros()
        heads = {s.id: Markup(macros.session_head(s, zone)) for s in parts.sessions}
        _cache().put(key, heads)
    return heads


class _ZoneChoice(Form):
    """The viewer-zone select alone (the page writes its form's next path)."""

    timezone = timezone_field("Show times in")


def timezone_chooser(zone: str) -> Markup:
    """The label and the 550-option zone select with `zone` chosen, rendered once per zone."""
    key = ("timezone chooser", zone)
    html = _cache().get(key)
    if html is None:
        field = _ZoneChoice(timezone=zone).timezone
        html = Markup(f"{field.label()} {field()}")
        _cache().put(key, html)
    return html


def cached_parts(programme_id: int, content_version: int, load) -> PageParts:
    """The parts for this version; on a miss `load()` returns (programme graph, speakers).

    The graph is read after the version, so it is at least as new; it is kept under the version
    it was read with (the same row), never under an older one."""
    key = (programme_id, content_version, i18n.current_locale_code())
    parts = _cache().get(key)
    if parts is None:
        parts = build_parts(*load())
        _cache().put(parts.key, parts)
    return parts


def public_head(slug: str, read: Callable[[str], tuple | None]):
    """`read(slug)` (the programme's id, content version, capacity and confirmed count, or None
    when it is not public), kept per worker for PUBLIC_PAGE_MAX_AGE_SECONDS.

    For signed-out pages only: what they show is then at most that old (content, seats left,
    a programme withdrawn). 0 reads on every call. An unknown slug is never kept (made-up
    addresses must not push real pages out of the LRU), so a programme just published shows
    at once."""
    max_age = current_app.config["PUBLIC_PAGE_MAX_AGE_SECONDS"]
    if max_age <= 0:
        return read(slug)
    key = ("public head", slug)
    now = time.monotonic()
    kept = _cache().get(key)
    if kept is not None and now - kept[0] < max_age:
        return kept[1]
    head = read(slug)
    if head is None:
        _cache().discard(key)
    else:
        _cache().put(key, (now, head))  # timed from before the read: never older than stated
    return head


def lookup(key: tuple):
    return _cache().get(key)


def keep(key: tuple, value) -> None:
    _cache().put(key, value)


def clear() -> None:
    _cache().clear()


# --- raising content versions --------------------------------------------------------------

_PROGRAMME_CHILDREN = (Session, Module, Material, ProgrammeOrganisation)
_WATCHED_TABLES = frozenset(
    model.__table__
    for model in (*_PROGRAMME_CHILDREN, Programme, SessionSpeaker, Person, Organisation, Topic)
)


def affected_programmes(objects) -> list:
    """WHERE clauses naming the programmes whose page shows one of these changed rows."""
    programme_ids: set[int] = set()
    session_ids: set[int] = set()
    person_ids: set[int] = set()
    organisation_ids: set[int] = set()
    topic_ids: set[int] = set()
    for obj in objects:
        if isinstance(obj, Programme):
            programme_ids.add(obj.id)
        elif isinstance(obj, _PROGRAMME_CHILDREN):
            parent = obj.programme_id
            if parent is None and obj.programme is not None:
                parent = obj.programme.id
            programme_ids.add(parent)
        elif isinstance(obj, SessionSpeaker):
            session_ids.add(obj.session_id)
        elif isinstance(obj, Person):
            person_ids.add(obj.id)
        elif isinstance(obj, Organisation):
            organisation_ids.add(obj.id)
        elif isinstance(obj, Topic):
            topic_ids.add(obj.id)
    programme_ids.discard(None)
    clauses = []
    if programme_ids:
        clauses.append(Programme.id.in_(programme_ids))
    if session_ids:
        clauses.append(
            Programme.id.in_(select(Session.programme_id).where(Session.id.in_(session_ids)))
        )
    speaking = (
        select(Session.programme_id)
        .join(SessionSpeaker, SessionSpeaker.session_id == Session.id)
        .join(Person, Person.id == SessionSpeaker.person_id)
    )
    if person_ids:
        clauses.append(Programme.id.in_(speaking.where(Person.id.in_(person_ids))))
    if organisation_ids:
        clauses.append(
            Programme.id.in_(
                select(ProgrammeOrganisation.programme_id).where(
                    ProgrammeOrganisation.organisation_id.in_(organisation_ids)
                )
            )
        )
        clauses.append(
            Programme.id.in_(speaking.where(Person.organisation_id.in_(organisation_ids)))
        )
    if topic_ids:
        clauses.append(Programme.topic_id.in_(topic_ids))
    return clauses


def _raise(connection, clauses) -> None:
    programme = Programme.__table__
    connection.execute(
        update(programme)
        .where(or_(*clauses))
        .values(content_version=programme.c.content_version + 1)
    )


@event.listens_for(OrmSession, "after_flush")
def _raise_content_versions(session: OrmSession, _context) -> None:
    # Still the flush's lists; new rows have their keys now. A new programme starts at 1.
    changed = chain(
        (o for o in session.new if not isinstance(o, Programme)),
        (o for o in session.dirty if session.is_modified(o)),
        session.deleted,
    )
    clauses = affected_programmes(changed)
    if clauses:
        _raise(session.connection(), clauses)


@event.listens_for(OrmSession, "do_orm_execute")
def _raise_on_bulk_change(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.local_table in _WATCHED_TABLES:
        _raise(state.session.connection(), [Programme.id.isnot(None)])
