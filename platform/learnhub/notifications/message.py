"""An outbox row written as the bytes an SMTP server receives (RFC 5322, MIME).

Most messages (reminders, announcements) are written straight to bytes, the same bytes the
email package writes; a message with a calendar file goes through the email package."""

from __future__ import annotations

import binascii
import hashlib
import random
import re
import sys
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime
from functools import cache, lru_cache
from itertools import islice
from urllib.parse import urlsplit

from flask import current_app

from ..types import utcnow

#: How messages are written for the wire: classic MIME, CRLF line ends (RFC 5321).
SMTP_POLICY = compat32.clone(linesep="\r\n")


class UnbuildableMessage(ValueError):
    """The row cannot become an email (a header with a line break would inject headers)."""


def build_message(message) -> tuple[str, bytes]:
    """The message as the SMTP server receives it: (Message-ID, bytes).

    `message` is an outbox row (ORM object or plain row). A message without a calendar file,
    the bulk of what goes out (reminders, announcements), is written straight to bytes
    (`_write_alternative`): the same bytes the email package writes, at a fraction of the cost,
    which matters when thousands of reminders go at once. The rest goes through the email
    package's classic MIME classes (`_build_with_email_package`). Raises UnbuildableMessage
    for a header value with a line break or another control character."""
    config = current_app.config
    message_id = message.message_id or stable_message_id(message, config["BASE_URL"])
    headers = [
        ("From", config["MAIL_FROM"]),
        ("To", message.to_address),
        ("Subject", message.subject),
        ("Date", format_datetime(utcnow())),
        ("Message-ID", message_id),
        ("X-LearnHub-Kind", message.kind),
    ]
    if message.reply_to:
        headers.append(("Reply-To", message.reply_to))
    if message.unsubscribe_url:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to this address.
        headers.append(("List-Unsubscribe", f"<{message.unsubscribe_url}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    for name, value in headers:
        if _CONTROL.search(value):
            raise UnbuildableMessage(f"its {name} contains a line break or a control character")
    if message.ics or not message.text_body or not message.html_body:
        return message_id, _build_with_email_package(message, headers)
    return message_id, _write_alternative(headers, message.text_body, message.html_body)


#: Characters no header value may hold (tabs fold harmlessly and are allowed).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\u2028\u2029]")


def stable_message_id(message, base_url: str) -> str:
    """The same Message-ID every time a row is sent, so that a copy sent again after a lost
    worker is recognised as the same message by mail systems (RFC 5322 section 3.6.4)."""
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:16]
    return f"<outbox{message.id}.{digest}@{_msgid_domain(base_url)}>"


@cache
def _msgid_domain(base_url: str) -> str:
    return urlsplit(base_url).hostname or "learnhub.local"


def _header_value(name: str, value: str) -> str | Header:
    return value if value.isascii() or name != "Subject" else Header(value, "utf-8")


def _build_with_email_package(message, headers: list[tuple[str, str]]) -> bytes:
    """A message with a calendar file is multipart/mixed: multipart/alternative (text, HTML,
    and the calendar as `text/calendar; method=...`, the part Gmail and Outlook read as an
    invitation or update, RFC 6047) and the same file attached (sessions.ics or invite.ics)."""
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(message.text_body, "plain", "utf-8"))
    body.attach(MIMEText(message.html_body, "html", "utf-8"))
    root = body
    if message.ics:
        method = "PUBLISH"
        for line in message.ics.splitlines():
            if line.startswith("METHOD:"):
                method = line.split(":", 1)[1].strip()
                break
        invitation = MIMEText(message.ics, "calendar", "utf-8")
        invitation.set_param("method", method)
        body.attach(invitation)
        # Without a method the attached copy is a plain file, not a second iTIP message.
        attachment = MIMEText(message.ics, "calendar", "utf-8")
        filename = "sessions.ics" if method == "PUBLISH" else "invite.ics"
        attachment.set_param("name", filename)
        attachment.add_header("Content-Disposition", "attachment", filename=filename)
        root = MIMEMultipart("mixed")
        root.attach(body)
        root.attach(attachment)
    for name, value in headers:
        root[name] = _header_value(name, value)
    return root.as_bytes(policy=SMTP_POLICY)


#: A stand-in boundary of the real one's length (the email package's: 15 "=", 19 digits, "==").
_BOUNDARY_STANDIN = "=" * 15 + "0" * 19 + "=="
_PART_HEADERS = (
    'Content-Type: text/{}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
    "Content-Transfer-Encoding: base64\r\n\r\n"
)
_PLAIN_HEAD = _PART_HEADERS.format("plain").encode()
_HTML_HEAD = _PART_HEADERS.format("html").encode()


def _write_alternative(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """multipart/alternative with base64 text and HTML parts, written as the email package's
    BytesGenerator writes it under SMTP_POLICY (tests compare the two byte for byte)."""
    boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
    lines = [_root_content_type().replace(_BOUNDARY_STANDIN, boundary)]
    for name, value in headers:
        lines.append(_fold(name, value))
    head = "".join(lines).encode("ascii", "surrogateescape")
    dash = f"--{boundary}\r\n".encode()
    return b"".join(
        (
            head,
            b"\r\n",
            dash,
            _PLAIN_HEAD,
            _base64_lines(text.encode()),
            b"\r\n",
            dash,
            _HTML_HEAD,
            _base64_lines(html.encode()),
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )


def _base64_lines(data: bytes) -> bytes:
    """base64 in lines of 76 characters, each ended by CRLF (as the email package writes it)."""
    encoded = binascii.b2a_base64(data, newline=False)
    if not encoded:
        return b""
    return b"\r\n".join([encoded[at : at + 76] for at in range(0, len(encoded), 76)]) + b"\r\n"


@cache
def _root_content_type() -> str:
    value = f'multipart/alternative; boundary="{_BOUNDARY_STANDIN}"'
    return _fold_long("Content-Type", value) + "MIME-Version: 1.0\r\n"


def _fold(name: str, value: str) -> str:
    """One header line as compat32 folds it; a short ASCII line is written as it is.

    compat32 folds an ASCII value by its lengths, its white space and its split characters
    (";" and ","), never by the other characters themselves: a long value (an unsubscribe
    address, a title) is folded once per shape and each message's own characters are put
    back into the shape's folding."""
    if len(name) + len(value) < 77 and value.isascii() and value.isprintable():
        return f"{name}: {value}\r\n"
    if not (value.isascii() and value.isprintable()):
        return _fold_long(name, value)
    shape = value.translate(_SHAPE)
    prefix = f"{name}: "
    folded = _fold_long(name, shape).removeprefix(prefix)
    kept = iter(value.translate(_FOLDING_CHARACTERS))
    pieces = _SHAPE_RUN.split(folded)
    return prefix + "".join(
        "".join(islice(kept, len(piece))) if index % 2 else piece
        for index, piece in enumerate(pieces)
    )


_FOLDING = " \t;,"
#: Every character that does not steer folding, as "x"; those that do, as they are.
_SHAPE = {code: "x" for code in range(128) if chr(code) not in _FOLDING}
_FOLDING_CHARACTERS = {ord(character): None for character in _FOLDING}
_SHAPE_RUN = re.compile("(x+)")


@lru_cache(maxsize=1024)
def _fold_long(name: str, value: str) -> str:
    folded = SMTP_POLICY.fold_binary(name, _header_value(name, value))
    return folded.decode("ascii", "surrogateescape")
