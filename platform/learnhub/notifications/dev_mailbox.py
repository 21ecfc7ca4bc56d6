"""/dev/mailbox: what the worker delivered in development. Never registered in production."""

from __future__ import annotations

import email
from email import policy

from flask import Blueprint, Response, abort, render_template
from sqlalchemy import select

from ..extensions import db
from .models import DevMailboxMessage

bp = Blueprint("dev_mailbox", __name__, url_prefix="/dev/mailbox")


def _parsed(message_id: int):
    stored = db.session.get(DevMailboxMessage, message_id)
    if stored is None:
        abort(404)
    return stored, email.message_from_string(stored.raw, policy=policy.default)


@bp.get("/")
def index():
    messages = db.session.scalars(
        select(DevMailboxMessage).order_by(DevMailboxMessage.id.desc()).limit(200)
    ).all()
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
