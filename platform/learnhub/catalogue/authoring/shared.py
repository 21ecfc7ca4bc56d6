"""What every authoring use case shares: its refusals, the programme lock it starts with, the
version check of an edit, and the change log's "name: old → new" of what it changed."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import ColumnElement, func, or_, select

from ...database import begin_write_transaction, is_postgres
from ...errors import DomainError
from ...extensions import db
from ..audit import apply_changes, moment_in
from ..models import Module, Programme, Topic
from ..versions import content_changed

T = TypeVar("T")


class AuthoringError(DomainError):
    """A change that cannot be made; the message is shown beside `field` when it names one of
    the form's fields, else above the form."""


class StaleEdit(AuthoringError):
    """Someone saved the same thing since the editor opened it."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Someone else saved this {what} while you were editing it. Your changes are not "
            "saved: open it again to see theirs, then make your changes once more."
        )


def locked_programme(programme_id: int) -> Programme:
    """Start the write transaction with the programme row locked: whatever is numbered
    within a programme (questions, modules, materials) takes its next position under it.
    Every use case that changes a programme starts here."""
    begin_write_transaction()
    query = select(Programme).where(Programme.id == programme_id)
    if is_postgres():
        query = query.with_for_update()
    programme = db.session.scalar(query.execution_options(populate_existing=True))
    if programme is None:
        raise AuthoringError("We could not find that programme.")
    content_changed(programme_id)  # its page is rendered afresh once this commits
    return programme


def found(row: T | None, what: str) -> T:
    """`row`, or a refusal that it is gone (removed by someone else while the page was open):
    shown like any other, so a button pressed twice says so on the page it returns to."""
    if row is None:
        raise AuthoringError(f"We could not find that {what}.")
    return row


def check_version(current: int, seen: int | None, what: str) -> None:
    if seen is not None and seen != current:
        raise StaleEdit(what)


def check_seen(seen: str | None, current: str, what: str) -> None:
    """`check_version` for rows without a version column: `seen` is a `digest` of the fields
    the editor saw."""
    if seen and seen != current:
        raise StaleEdit(what)


def digest(target, *names: str) -> str:
    values = repr([getattr(target, name) for name in names]).encode()
    return hashlib.sha256(values).hexdigest()[:16]


def _title_of(model, attribute: str) -> Callable[[int | None], str | None]:
    def show(row_id: int | None) -> str | None:
        row = db.session.get(model, row_id) if row_id is not None else None
        return getattr(row, attribute) if row is not None else None

    return show


def changes(target, values: dict) -> list[str]:
    """Set each attribute; for the change log, "name: old → new" of each that changed, in
    words: a module's or topic's name for its id, times in the target's zone, long texts
    only named."""
    tz = values.get("timezone") or getattr(target, "timezone", None) or "UTC"
    return apply_changes(
        target,
        values,
        shown={
            "module_id": _title_of(Module, "title"),
            "topic_id": _title_of(Topic, "name"),
            "starts_at": moment_in(tz),
            "ends_at": moment_in(tz),
        },
        labels={
            "module_id": "module",
            "topic_id": "topic",
            "starts_at": "starts",
            "ends_at": "ends",
        },
        quiet=("description", "body", "summary"),
    )


def check_module(programme_id: int, module_id: int | None) -> int | None:
    """A module of this programme (sessions and materials may name one), or None."""
    if module_id is None:
        return None
    module = db.session.get(Module, module_id)
    if module is None or module.programme_id != programme_id:
        raise AuthoringError("Choose one of this programme's modules.", field="module")
    return module_id


def next_position(model, programme_id: int) -> int:
    """The position after the programme's last module or material (under its lock)."""
    last = db.session.scalar(
        select(func.max(model.position)).where(model.programme_id == programme_id)
    )
    return (last or 0) + 1


def text_or_none(value: str | None) -> str | None:
    return (value or "").strip() or None


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:100] or "programme"


def like(text: str) -> str:
    """A LIKE pattern (with `escape="\\"`) for rows containing `text`, any case."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(text: str, *columns) -> ColumnElement[bool]:
    """Rows where one of `columns` contains `text` (any case)."""
    pattern = like(text)
    return or_(*[func.lower(column).like(pattern, escape="\\") for column in columns])


def _similar_names(column, name: str) -> list[str]:
    """Up to ten names in `column` sharing a word of three letters or more with `name`."""
    words = [w for w in re.split(r"\W+", name.lower()) if len(w) > 2]
    if not words:
        return []
    matches = db.session.scalars(
        select(column).where(or_(*[func.lower(column).like(like(w), escape="\\") for w in words]))
    )
    return sorted(set(matches))[:10]


def check_not_similar(
    column, name: str, confirmed: bool, *, already: str, choose: str, field: str
) -> None:
    """A shared record (a person, an organisation) is added only once the organiser has seen
    those with a similar name and `confirmed` that this one is another: until then the
    refusal lists them ("`already`: A; B. `choose`")."""
    similar = _similar_names(column, name)
    if similar and not confirmed:
        raise AuthoringError(f"{already}: {'; '.join(similar)}. {choose}", field=field)


def in_order(model, programme_id: int, *options) -> list:
    """A programme's modules or materials by position, with the relations `options` load."""
    return list(
        db.session.scalars(
            select(model)
            .where(model.programme_id == programme_id)
            .options(*options)
            .order_by(model.position)
        )
    )
