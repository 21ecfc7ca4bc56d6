"""The programme's change log: one entry per organiser action on the programme, its
registrations, attendance, emails or certificates, with who, when, what and old -> new in
readable words. Every feature records through `record` inside its own use case's
transaction; the log page filters by kind and exports CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..safety import csv_text_cell
from ..timefmt import format_moment
from .models import AuditEntry

#: The kinds of change an organiser filters the log by, with their labels.
KINDS = {
    "programme": "Programme, sessions, modules and materials",
    "registrations": "Registrations, settings and questions",
    "attendance": "Attendance",
    "emails": "Emails and announcements",
    "certificates": "Certificates and learning path",
    "team": "Team",
}

#: Every action recorded, by kind: what the filter and the log's "Kind" column read.
ACTIONS = {
    "programme": (
        "created",
        "created as new edition",
        "duplicated as new edition",
        "edited details",
        "published",
        "archived",
        "added session",
        "edited session",
        "removed session",
        "moved session",
        "cancelled session",
        "added module",
        "edited module",
        "moved module",
        "removed module",
        "added material",
        "edited material",
        "removed material",
        "edited organisation",
        "renamed topic",
    ),
    "registrations": (
        "changed registration settings",
        "added question",
        "moved question",
        "removed question",
        "approved registration",
        "rejected registration",
        "moved registration",
    ),
    "attendance": (
        "marked attendance",
        "applied meeting report",
        "changed completion rule",
        "opened check-in",
        "closed check-in",
    ),
    "emails": (
        "sent announcement",
        "changed reminders",
        "added recording",
    ),
    "certificates": (
        "issued certificate by hand",
        "revoked certificate",
        "changed learning path settings",
    ),
    "team": ("set team rights", "removed from team"),
}
KIND_OF_ACTION = {action: kind for kind, actions in ACTIONS.items() for action in actions}


def record(programme_id: int, user_id: int | None, action: str, detail: str = "") -> None:
    """Add one entry in the caller's transaction (flushed with it)."""
    db.session.add(
        AuditEntry(programme_id=programme_id, user_id=user_id, action=action, detail=detail)
    )


def kind_of(action: str) -> str:
    return KIND_OF_ACTION.get(action, "programme")


def audit_entries(programme_id: int, kind: str | None = None) -> Select:
    """The newest entries first, of one kind when `kind` names one, with who made them: a
    statement (the log page shows it a page at a time, the CSV export whole)."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.programme_id == programme_id)
        .options(joinedload(AuditEntry.user))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    if kind in ACTIONS:
        query = query.where(AuditEntry.action.in_(ACTIONS[kind]))
    return query


def audit_csv(programme_id: int, tz: str, kind: str | None = None) -> str:
    """The whole log (of one kind) as CSV, times in `tz` with the zone written."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["When", "Who", "Kind", "What", "Details"])
    for entry in db.session.scalars(audit_entries(programme_id, kind)):
        writer.writerow(
            [
                format_moment(entry.created_at, tz),
                csv_text_cell(entry.user.full_name if entry.user else "a deleted account"),
                KINDS[kind_of(entry.action)],
                entry.action,
                csv_text_cell(entry.detail),
            ]
        )
    return out.getvalue()


# --- old -> new, in words -------------------------------------------------------------------


def quoted(value) -> str:
    """A value as the log shows it: text in quotes, nothing as "none", yes/no for flags."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        shown = " ".join(value.split())
        return f"“{shown[:120]}…”" if len(shown) > 120 else f"“{shown}”"
    return str(value)


def change(name: str, old, new) -> str:
    """ "name: old → new"."""
    return f"{name}: {quoted(old)} → {quoted(new)}"


def apply_changes(
    target,
    values: dict,
    *,
    shown: dict[str, Callable] | None = None,
    labels: dict[str, str] | None = None,
    quiet: tuple[str, ...] = (),
) -> list[str]:
    """Set each attribute; for each one that changed, "name: old → new" (values through
    `shown[name]` when given: a module's title for its id, a time in the programme's zone).
    Names in `quiet` (long texts) are listed as changed without their values."""
    shown = shown or {}
    labels = labels or {}
    changed = []
    for name, value in values.items():
        old = getattr(target, name)
        if old == value:
            continue
        setattr(target, name, value)
        label = labels.get(name, name.replace("_", " "))
        if name in quiet:
            changed.append(f"{label} changed")
        else:
            show = shown.get(name, lambda v: v)
            changed.append(change(label, show(old), show(value)))
    return changed


def moment_in(tz: str) -> Callable[[datetime | None], str | None]:
    return lambda value: None if value is None else format_moment(value, tz)
