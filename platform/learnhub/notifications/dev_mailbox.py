"""The development mailbox: where the worker delivers when MAIL_BACKEND is "devmailbox" (kept in
the database), and /dev/mailbox, which shows it. Never registered in production."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from ..database import begin_write_transaction
from ..extensions import db
from .models import DevMailboxMessage
from .outbox import ClaimedMessage


class DevMailboxBackend:
    """Keeps the message in the database; /dev/mailbox shows it (development only)."""

    @contextmanager
    def connection(self) -> Iterator:
        yield self.send

    def send(self, message: ClaimedMessage) -> None:
        assert message.raw is not None  # only a built message is sent
        begin_write_transaction()
        db.session.add(
            DevMailboxMessage(
                outbox_id=message.id,
                to_address=message.to_address,
                subject=message.subject,
                raw=message.raw.decode(),
            )
        )
        db.session.commit()


bp = Blueprint("dev_mailbox", __name__, url_prefix="/dev/mailbox")
#: Messages a page of the mailbox lists.
PAGE_SIZE = 100


def _parsed(message_id: int):
    stored = db.session.get(DevMailboxMessage, message_id)
    if stored is None:
        abort(404)
    return stored, email.message_from_string(stored.raw, policy=policy.default)


@bp.get("/")
def index():
    messages = db.paginate(
        select(DevMailboxMessage).order_by(DevMailboxMessage.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template("notifications/mailbox.html", messages=messages)


@bp.get("/<int:message_id>")
def show(message_id: int):
    stored, parsed = _parsed(message_id)
    text_part = parsed.get_body(preferencelist=("plain",))
    attachments = [
        (index, part.get_filename(), part.get_content_type())
        for index, part in enumerate(parsed.iter_attachments())
    ]
    return render_template(
        "notifications/mailbox_message.html",
        stored=stored,
        headers=parsed,
        text=text_part.get_content() if text_part else "",
        attachments=attachments,
    )


@bp.get("/<int:message_id>/html")
def html(message_id: int):
    """The HTML part, served under a sandbox CSP so nothing in it can run."""
    _, parsed = _parsed(message_id)
    part = parsed.get_body(preferencelist=("html",))
    if part is None:
        abort(404)
    response = Response(part.get_content(), mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    )
    return response


@bp.get("/<int:message_id>/attachments/<int:index>")
def attachment(message_id: int, index: int):
    _, parsed = _parsed(message_id)
    parts = list(parsed.iter_attachments())
    if index >= len(parts):
        abort(404)
    part = parts[index]
    return Response(
        part.get_content(),
        mimetype=part.get_content_type(),
        headers={"Content-Disposition": f'attachment; filename="{part.get_filename() or "file"}"'},
    )
