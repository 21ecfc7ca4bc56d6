"""The content version of a programme's public page, raised by the use cases that change it.

The page's cached parts are kept under (programme, `content_version`, locale) (page_cache.py):
raising the version in the transaction of a change makes every worker render the page afresh
on its next request, and nothing else ever needs to be forgotten. Every use case that changes
what the page shows calls one of these, by name, before it commits: the programme's own use
cases through `authoring.locked_programme` (and `services._session_for_change` for moves,
cancellations and recordings), the shared records (people, organisations, topics) through the
function of their kind. What the page reads on every request (the programme's status, seats,
registration settings) needs no version.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import SelectBase, Table, select, update

from ..extensions import db
from .models import Person, Programme, ProgrammeOrganisation, Session, SessionSpeaker

#: A mapped class's table is a Table; SQLAlchemy types __table__ as any FromClause.
_PROGRAMME = cast(Table, Programme.__table__)


def content_changed(programmes: int | Iterable[int] | SelectBase) -> None:
    """Raise the content version of these programmes (ids, or a query of ids) in the caller's
    transaction: one UPDATE. The programme objects already loaded keep their old number until
    the commit expires them."""
    if isinstance(programmes, int):
        which = _PROGRAMME.c.id == programmes
    elif isinstance(programmes, SelectBase):
        which = _PROGRAMME.c.id.in_(programmes)
    else:
        ids = set(programmes)
        if not ids:
            return
        which = _PROGRAMME.c.id.in_(ids)
    db.session.execute(
        update(_PROGRAMME).where(which).values(content_version=_PROGRAMME.c.content_version + 1)
    )


def _speaking(where) -> SelectBase:
    return (
        select(Session.programme_id)
        .join(SessionSpeaker, SessionSpeaker.session_id == Session.id)
        .join(Person, Person.id == SessionSpeaker.person_id)
        .where(where)
    )


def person_changed(person_id: int) -> None:
    """A shared speaker or moderator changed: every programme they speak in."""
    content_changed(_speaking(Person.id == person_id))


def organisation_changed(organisation_id: int) -> None:
    """A shared organisation changed: every programme it runs, supports or partners, and every
    programme where one of its people speaks."""
    content_changed(
        select(ProgrammeOrganisation.programme_id)
        .where(ProgrammeOrganisation.organisation_id == organisation_id)
        .union(_speaking(Person.organisation_id == organisation_id))
    )


def topic_changed(topic_id: int) -> None:
    """A topic was renamed: every programme filed under it."""
    content_changed(select(Programme.id).where(Programme.topic_id == topic_id))
