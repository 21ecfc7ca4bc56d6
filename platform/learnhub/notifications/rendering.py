"""Writing claimed outbox rows into emails, each kind by its own writer, for each recipient.

A row holds what its email is to say (`render_args`, with `"email"` naming its kind); the
worker writes it when it claims the row, in the claim's batch: each kind reads what its rows
need once a batch (`load`), then writes each row for its recipient (`write`). A row without
`render_args` was written before (a message being retried) and goes as it is."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from . import announcements, registration_emails, reminder_emails, session_emails, template_emails
from .compose import Unwritable, Written


@dataclass(frozen=True)
class Kind:
    #: Reads what a batch of rows of this kind needs, in a few queries.
    load: Callable[[list], Any]
    #: Writes one row for its recipient; raises Unwritable when what it is about is gone.
    write: Callable[[Any, Any], Written]


KINDS = {
    "template": Kind(template_emails.load, template_emails.write),
    "registration": Kind(registration_emails.load, registration_emails.write),
    "reminder": Kind(reminder_emails.load, reminder_emails.write),
    "speaker_reminder": Kind(reminder_emails.load, reminder_emails.write_speaker),
    "session_change": Kind(session_emails.load, session_emails.write_change),
    "recording": Kind(session_emails.load, session_emails.write_recording),
    "announcement": Kind(announcements.load, announcements.write),
}


def write_rows(rows: list) -> dict[int, Written | Exception]:
    """Each row with `render_args`, written: by row id, its Written, or the error that stops
    it (Unwritable: it is skipped with that reason; any other: it fails on its own, so that
    the rest of its batch still goes). A database error is raised: the batch stops."""
    by_kind: dict[str, list] = defaultdict(list)
    for row in rows:
        if row.render_args:
            by_kind[row.render_args.get("email", "")].append(row)
    written: dict[int, Written | Exception] = {}
    for name, group in by_kind.items():
        kind = KINDS.get(name)
        if kind is None:
            written |= {row.id: LookupError(f"no email kind {name!r}") for row in group}
            continue
        loaded = kind.load(group)
        for row in group:
            try:
                written[row.id] = kind.write(row, loaded)
            except SQLAlchemyError:
                raise
            except Exception as error:  # noqa: BLE001  (recorded as the row's failure)
                written[row.id] = error
    return written


def render_deferred(messages: list) -> tuple[dict[int, str], dict[int, Exception]]:
    """Write outbox rows (ORM objects) in place, as the worker writes them when it claims
    them and keeps them with the outcome (tests, the shell). Returns why, by row id, a row
    is not to be written (skipped) and the error of a row that could not be (failed)."""
    unwritable: dict[int, str] = {}
    failures: dict[int, Exception] = {}
    results = write_rows(messages)
    for message in messages:
        result = results.get(message.id)
        if isinstance(result, Written):
            message.subject = result.subject
            message.text_body = result.text_body
            message.html_body = result.html_body
            message.ics = result.ics
            message.reply_to = result.reply_to or message.reply_to
            message.unsubscribe_url = result.unsubscribe_url or message.unsubscribe_url
            message.render_args = None
        elif isinstance(result, Unwritable):
            unwritable[message.id] = str(result)
        elif result is not None:
            failures[message.id] = result
    return unwritable, failures
