"""Topics (administrators): what organisers file programmes under and the catalogue filters
by. A rename keeps the catalogue address (slug); a topic in use is not removed."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from sqlalchemy import func, or_, select

from ...database import begin_write_transaction
from ...extensions import db
from ..audit import record
from ..models import Programme, Topic
from ..versions import topic_changed
from .shared import AuthoringError, found, slugify


def topics_in_use() -> list[tuple[Topic, int]]:
    """Every topic with the number of programmes filed under it, by name."""
    used = select(func.count(Programme.id)).where(Programme.topic_id == Topic.id).scalar_subquery()
    return [tuple(row) for row in db.session.execute(select(Topic, used).order_by(Topic.name))]


def all_topics() -> list[Topic]:
    """Every topic by name: the choices of the programme form."""
    return list(db.session.scalars(select(Topic).order_by(Topic.name)))


def topic_of(topic_id: int) -> Topic | None:
    return db.session.get(Topic, topic_id)


def _topic_name(name: str, other_than: int | None = None) -> tuple[str, str]:
    """The cleaned name and its catalogue slug; refuses a name another topic has (any case,
    or the same slug, which would make the two one filter)."""
    name = " ".join(name.split())
    if not name:
        raise AuthoringError("Give the topic a name.", field="name")
    slug = slugify(name)[:80].strip("-")
    if not re.search(r"[a-z0-9]", unicodedata.normalize("NFKD", name).lower()):
        # A name with no Latin letter or digit (e.g. "气候") still gets an address of its own.
        slug = "topic-" + hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
    clash = db.session.scalar(
        select(Topic).where(
            or_(func.lower(Topic.name) == name.lower(), Topic.slug == slug),
            Topic.id != (other_than or 0),
        )
    )
    if clash is not None:
        raise AuthoringError(f"There is already a topic “{clash.name}”.", field="name")
    return name, slug


def add_topic(name: str) -> Topic:
    """A new topic organisers can file programmes under and the catalogue can filter by."""
    begin_write_transaction()
    name, slug = _topic_name(name)
    topic = Topic(name=name, slug=slug)
    db.session.add(topic)
    db.session.commit()
    return topic


def rename_topic(topic_id: int, user_id: int, name: str) -> Topic:
    """A new name; the catalogue filter's address (slug) stays, so shared links keep working.
    Written in the change log of every programme filed under it."""
    begin_write_transaction()
    topic = found(topic_of(topic_id), "topic")
    name, _slug = _topic_name(name, other_than=topic.id)
    if name != topic.name:
        before, topic.name = topic.name, name
        topic_changed(topic.id)
        for programme_id in db.session.scalars(
            select(Programme.id).where(Programme.topic_id == topic.id)
        ):
            record(programme_id, user_id, "renamed topic", f"{before} (now “{name}”)")
    db.session.commit()
    return topic


def remove_topic(topic_id: int) -> str:
    """Removes a topic no programme is filed under; returns its name."""
    begin_write_transaction()
    topic = found(topic_of(topic_id), "topic")
    used = db.session.scalar(select(func.count()).where(Programme.topic_id == topic.id))
    if used:
        raise AuthoringError(
            f"“{topic.name}” is the topic of {used} programme{'s' if used != 1 else ''}; "
            "file them under another topic first."
        )
    db.session.delete(topic)
    db.session.commit()
    return topic.name
