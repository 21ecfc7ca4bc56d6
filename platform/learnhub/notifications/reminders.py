"""Reminder planning (ARCHITECTURE.md rule 4): a periodic scan, no long ETA tasks.

Each minute, for every upcoming session whose reminder instant has passed, one outbox row per
confirmed registration (and per speaker or moderator with an email address) is written under a
key of (session, schedule version, person, offset). The unique key makes a second scan, or a
second beat started by mistake, harmless. Only the latest passed instant counts: once the 1-hour
instant has passed, a 24-hour reminder that was never planned is not sent. Registrations
confirmed after an instant get no reminder for it. Moving a session raises its ics_sequence,
which starts a new schedule version: reminders are planned again for the new time.

A (session, offset, version) whose instant is a minute past is closed with a ReminderRun row and
never scanned again, so the scan's cost follows what is due, not the number of registrations.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta

from flask import current_app
from markupsafe import escape
from sqlalchemy import Row, and_, inspect, select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..catalogue.models import Programme, Session, SessionSpeaker
from ..database import begin_write_transaction
from ..extensions import db
from ..registration.models import Registration
from .models import OutboxMessage, ReminderPolicy, ReminderRun
from .preferences import preference_token
from .services import render_reminder, render_speaker_reminder, reply_to_addresses
from .sql import insert_ignoring_duplicates

#: A run is closed this long after its instant, so registrations committing at the instant count.
CLOSE_AFTER = timedelta(minutes=1)


def default_offsets() -> tuple[int, ...]:
    return tuple(sorted(current_app.config["REMINDER_OFFSETS_MINUTES"]))


def plan_due_reminders(now: datetime) -> list[int]:
    """Write the reminders that are due at `now`; returns the new outbox ids.

    Leaves the write transaction open for the caller to commit (with its heartbeat)."""
    policies = dict(
        db.session.execute(
            select(ReminderPolicy.programme_id, ReminderPolicy.offsets_minutes)
        ).all()
    )
    longest = max([*default_offsets(), *_all_policy_offsets(policies.values())], default=0)
    if not longest:
        begin_write_transaction()
        return []
    sessions = db.session.scalars(
        select(Session)
        .join(Session.programme)
        .where(
            Programme.status == "published",
            Session.status == "scheduled",
            Session.reminders_enabled.is_(True),
            Session.starts_at > now,
            Session.starts_at <= now + timedelta(minutes=longest),
        )
        .options(
            joinedload(Session.programme),
            selectinload(Session.speaker_links).joinedload(SessionSpeaker.person),
        )
        .order_by(Session.starts_at)
    ).all()
    due: list[tuple[Session, int]] = []
    for session in sessions:
        offsets = _offsets_for(session.programme_id, policies)
        passed = [o for o in offsets if session.starts_at - timedelta(minutes=o) <= now]
        if passed:
            due.append((session, passed[0]))
    closed = _closed_runs(due)
    reply_to = reply_to_addresses({s.programme_id for s, _ in due})
    new_ids: list[int] = []
    for session, offset in due:
        if (session.id, offset, session.ics_sequence) in closed:
            continue
        key = (session.id, offset, session.ics_sequence)
        close = now >= session.starts_at - timedelta(minutes=offset) + CLOSE_AFTER
        planned = 0
        for rows in _registrant_chunks(session, offset, now, reply_to):
            planned += len(rows)
            new_ids += _write(rows)
        speaker_rows = _speaker_rows(session, offset, now, reply_to)
        planned += len(speaker_rows)
        new_ids += _write(speaker_rows)
        if close:
            _write_closed_run(key, planned, now)
    begin_write_transaction()
    return new_ids


def _write(rows: list[dict]) -> list[int]:
    """Insert one chunk and commit it: memory stays flat and delivery starts at once.
    Rendering is done before; the write lock (SQLite) is held only for the insert."""
    if not rows:
        return []
    begin_write_transaction()
    ids = insert_ignoring_duplicates(rows)
    db.session.commit()
    return ids


def _write_closed_run(key: tuple[int, int, int], planned: int, now: datetime) -> None:
    session_id, offset, sequence = key
    begin_write_transaction()
    _close_runs(
        [
            {
                "session_id": session_id,
                "offset_minutes": offset,
                "ics_sequence": sequence,
                "planned": planned,
                "completed_at": now,
            }
        ]
    )
    db.session.commit()


def _all_policy_offsets(values) -> list[int]:
    from .models import parse_offsets

    return [offset for value in values for offset in parse_offsets(value)]


def _offsets_for(programme_id: int, policies: dict[int, str]) -> tuple[int, ...]:
    from .models import parse_offsets

    if programme_id in policies:
        return parse_offsets(policies[programme_id])
    return default_offsets()


def _closed_runs(due: list[tuple[Session, int]]) -> set[tuple[int, int, int]]:
    if not due:
        return set()
    session_ids = [session.id for session, _ in due]
    return set(
        db.session.execute(
            select(
                ReminderRun.session_id, ReminderRun.offset_minutes, ReminderRun.ics_sequence
            ).where(ReminderRun.session_id.in_(session_ids))
        ).all()
    )


def _close_runs(rows: list[dict]) -> None:
    if not rows:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    insert = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    db.session.execute(insert(ReminderRun).values(rows).on_conflict_do_nothing())


def reminder_key(session: Session, recipient: str, offset: int) -> str:
    return f"reminder:{session.id}:{session.ics_sequence}:{recipient}:{offset}"


def _existing_keys(session: Session, kind: str) -> set[str]:
    return set(
        db.session.scalars(
            select(OutboxMessage.dedupe_key).where(
                and_(OutboxMessage.session_id == session.id, OutboxMessage.kind == kind)
            )
        )
    )


#: Registrations rendered and written per transaction.
CHUNK = 500


def _registrant_chunks(
    session: Session, offset: int, now: datetime, reply_to: dict[int, str]
) -> Iterator[list[dict]]:
    """Rendered reminder rows, a chunk at a time (keyset pages by registration id).

    Rows are read as plain columns and rendered by recipient group (`GroupRenderer`): the
    templates run twice per group, not once per registrant."""
    instant = session.starts_at - timedelta(minutes=offset)
    session_id, programme_id = session.id, session.programme_id
    renderer = GroupRenderer(offset, now, reply_to.get(programme_id))
    after = 0
    while True:
        rows = db.session.execute(
            select(Registration.id.label("registration_id"), *_USER_COLUMNS)
            .join(User, User.id == Registration.user_id)
            .where(
                Registration.programme_id == programme_id,
                Registration.status == "confirmed",
                Registration.confirmed_at <= instant,
                Registration.id > after,
            )
            .order_by(Registration.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        after = rows[-1].registration_id
        session = db.session.get(Session, session_id)
        keys = {reminder_key(session, f"r{row.registration_id}", offset): row for row in rows}
        already = set(
            db.session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.session_id == session_id,
                    OutboxMessage.dedupe_key.in_(list(keys)),
                )
            )
        )
        yield renderer.render(
            session, [(key, row) for key, row in keys.items() if key not in already]
        )
        if len(rows) < CHUNK:
            return  # that was the last page: no query for an empty one


#: A recipient's columns, as a reminder's templates may see them.
_USER_COLUMNS = tuple(attribute.class_attribute for attribute in inspect(User).column_attrs)
#: Per-person text a template may show; each is filled in per recipient after rendering.
_PERSONAL_TEXT = ("full_name", "email", "organisation_name", "city", "country", "job_title")


class GroupRenderer:
    """Renders participant reminders once per group of recipients who read the same email
    (same session, time zone, language, and the same personal fields present), then fills
    each recipient's own name, address, links and ids into the group's rendering.

    `render_reminder` itself renders each group twice, for two stand-in recipients whose
    personal values are distinct markers. The group's rendering is used only if filling the
    second stand-in's values into the first one's rendering gives exactly the second
    rendering: a template that transforms a personal value (rather than showing it) or
    derives something else from it fails that check, and its group is rendered per recipient
    as before. Per recipient, what remains is signing the preference token and a few string
    substitutions, a small fraction of a template render."""

    def __init__(self, offset: int, now: datetime, reply_to: str | None) -> None:
        self.offset, self.now, self.reply_to = offset, now, reply_to
        self.groups: dict[tuple, _GroupTemplate | None] = {}

    def render(self, session: Session, rows: list[tuple[str, Row]]) -> list[dict]:
        out = []
        for key, row in rows:
            group = (
                row.timezone,
                row.preferred_language,
                *(bool(getattr(row, name)) or getattr(row, name) for name in _PERSONAL_TEXT),
            )
            if group not in self.groups:
                self.groups[group] = self._group(session, row)
            template = self.groups[group]
            if template is None:
                out.append(self._one(session, key, row))
            else:
                out.append(template.fill(_values(key, row)))
        return out

    def _render(self, session: Session, key: str, row: Row, values: dict) -> dict:
        columns = {column.key: getattr(row, column.key) for column in _USER_COLUMNS}
        user = User(**{**columns, **values["user"]})
        registration = Registration(id=values["registration_id"], user=user)
        return render_reminder(
            session,
            session.programme,
            registration,
            self.offset,
            self.now,
            key=key,
            reply_to=self.reply_to,
        )

    def _group(self, session: Session, row: Row) -> _GroupTemplate | None:
        first, second = _stand_in(row, 1), _stand_in(row, 2)
        template = _GroupTemplate(self._render(session, first["key"], row, first), first)
        if template.fill(second) != self._render(session, second["key"], row, second):
            return None
        return template

    def _one(self, session: Session, key: str, row: Row) -> dict:
        """The plain path: the real recipient through render_reminder."""
        registration = db.session.get(Registration, row.registration_id)
        return render_reminder(
            session,
            session.programme,
            registration,
            self.offset,
            self.now,
            key=key,
            reply_to=self.reply_to,
        )


def _stand_in(row: Row, n: int) -> dict:
    """Marker values for a stand-in recipient. The second set is longer than the first and
    its personal values carry characters HTML escapes, so that a template escaping where the
    filling does not (or the other way round) fails the group's check."""
    tag = secrets.token_hex(6) * n
    user_id = 2_100_000_000 + n
    special = "" if n == 1 else "<&'\">"
    user = {
        name: f"LHSTANDIN{n}{name.replace('_', '')}{tag}{special}Z"
        for name in _PERSONAL_TEXT
        if getattr(row, name)
    }
    user["id"] = user_id
    return {
        "key": f"LHSTANDIN{n}key{tag}Z",
        "registration_id": 2_000_000_000 + n,
        "user": user,
        "token": preference_token(user_id),
    }


def _values(key: str, row: Row) -> dict:
    return {
        "key": key,
        "registration_id": row.registration_id,
        "user": {name: getattr(row, name) for name in _PERSONAL_TEXT if getattr(row, name)}
        | {"id": row.id},
        "token": preference_token(row.id),
    }


class _GroupTemplate:
    """A group's rendering cut at its stand-in's markers, ready to take a recipient's values."""

    def __init__(self, rendered: dict, markers: dict) -> None:
        self.markers = markers
        texts = [markers["key"], markers["token"]]
        texts += [marker for name, marker in markers["user"].items() if name != "id"]
        pattern = re.compile("(" + "|".join(re.escape(marker) for marker in texts) + ")")
        numbers = {markers["registration_id"]: "registration_id", markers["user"]["id"]: "id"}
        self.constant: dict = {}
        self.numbers: list[tuple[str, str]] = []
        #: (field, pieces: literal text at even places, markers at odd ones, HTML or not)
        self.texts: list[tuple[str, list[str], bool]] = []
        for name, value in rendered.items():
            if isinstance(value, str) and pattern.search(value):
                html = name.startswith("html") or name.endswith("html")
                self.texts.append((name, pattern.split(value), html))
            elif type(value) is int and value in numbers:
                self.numbers.append((name, numbers[value]))
            else:
                self.constant[name] = value

    def fill(self, values: dict) -> dict:
        """The group's rendering with one recipient's values in place of the stand-in's."""
        markers = self.markers
        text = {markers["key"]: values["key"], markers["token"]: values["token"]}
        for name, marker in markers["user"].items():
            if name != "id":
                text[marker] = values["user"][name]
        html = {marker: str(escape(value)) for marker, value in text.items()}
        filled = dict(self.constant)
        for name, pieces, is_html in self.texts:
            found = html if is_html else text
            pieces = pieces.copy()
            for index in range(1, len(pieces), 2):
                pieces[index] = found[pieces[index]]
            filled[name] = "".join(pieces)
        for name, which in self.numbers:
            filled[name] = (
                values["registration_id"] if which == "registration_id" else (values["user"]["id"])
            )
        return filled


def _speaker_rows(
    session: Session, offset: int, now: datetime, reply_to: dict[int, str]
) -> list[dict]:
    speakers = [link for link in session.speaker_links if link.person.email]
    if not speakers:
        return []
    already = _existing_keys(session, "speaker_reminder")
    return [
        render_speaker_reminder(
            session,
            link,
            offset,
            now,
            key=key,
            reply_to=reply_to.get(session.programme_id),
        )
        for link in speakers
        if (key := reminder_key(session, f"p{link.person_id}", offset)) not in already
    ]
