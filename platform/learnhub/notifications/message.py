"""An outbox row written as an email (`email.message.EmailMessage`), and its Message-ID."""

from __future__ import annotations

import hashlib
import random
import re
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache, lru_cache
from urllib.parse import urlsplit

from flask import current_app

from ..types import utcnow
from .compose import Written


class _Header(BaseHeader):
    """A header folded once: the same header object serves every message (`_Headers`)."""

    def fold(self, *, policy) -> str:
        key = (policy.linesep, policy.max_line_length, policy.utf8)
        if (folded := self.__dict__.get("_folded")) is None or folded[0] != key:
            folded = self.__dict__["_folded"] = (key, super().fold(policy=policy))
        return folded[1]


class _Headers(HeaderRegistry):
    """The email package's header registry, parsing and folding each (name, value) once per
    process: the MIME headers of every message (content types, transfer encodings,
    MIME-Version) are the same few, header objects are immutable, and parsing and folding
    them was most of a message's cost (2.2 ms of 2.4 per message, with 0.7 left after)."""

    def __init__(self) -> None:
        super().__init__(base_class=_Header)

    @lru_cache(maxsize=64)  # noqa: B019  (one registry for the life of the process)
    def __getitem__(self, name: str) -> type:
        return super().__getitem__(name)

    @lru_cache(maxsize=512)  # noqa: B019
    def __call__(self, name: str, value: str):
        return super().__call__(name, value)


#: Boundaries of the multipart levels: the same for every message, which may be, as every
#: part is base64 (no line of it can start with "--"), and which keeps their Content-Type
#: headers among the few parsed once.
_ALTERNATIVE = "=" * 15 + f"{random.randrange(10**19):019d}" + "=="
_MIXED = "=" * 15 + f"{random.randrange(10**19):019d}" + "=="

#: The email package's SMTP policy (CRLF line ends). A plain ASCII header value (checked for
#: line breaks by `build_message`, at most 300 characters) is set with `set_raw` and written
#: as it is, within RFC 5322's 998: the policy's own refolding of a long one turned a
#: List-Unsubscribe address into encoded words that mail clients do not read as an address,
#: and moved a long subject whole to a second line (read back with a leading space).
SMTP_POLICY = policy.SMTP.clone(refold_source="none", header_factory=_Headers())


class UnbuildableMessage(ValueError):
    """The row cannot become an email (a header with a line break would inject headers)."""


#: Characters no header value may hold (tabs fold harmlessly and are allowed).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\u2028\u2029]")


def build_message(message, written: Written | None = None) -> tuple[str, bytes]:
    """The message as the SMTP server receives it: (Message-ID, bytes).

    `message` is an outbox row (or what a claim read of it); `written`, what the worker wrote
    for it at the claim (subject, both parts, calendar, Reply-To), else the row's own. A
    calendar file goes as a `text/calendar; method=...` alternative (the part Gmail and
    Outlook read as an invitation or update, RFC 6047) and as an attached file. Raises
    UnbuildableMessage for a header value with a line break or another control character."""
    config = current_app.config
    message_id = message.message_id or stable_message_id(message, config["BASE_URL"])
    content = written or message
    headers = [
        ("From", config["MAIL_FROM"]),
        ("To", message.to_address),
        ("Subject", content.subject),
        ("Date", format_datetime(utcnow())),
        ("Message-ID", message_id),
        ("X-LearnHub-Kind", message.kind),
    ]
    if reply_to := content.reply_to or message.reply_to:
        headers.append(("Reply-To", reply_to))
    if unsubscribe := (written and written.unsubscribe_url) or message.unsubscribe_url:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to this address.
        headers.append(("List-Unsubscribe", f"<{unsubscribe}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    email = EmailMessage(policy=SMTP_POLICY)
    for name, value in headers:
        if _CONTROL.search(value):
            raise UnbuildableMessage(f"its {name} contains a line break or a control character")
        if value.isascii():
            email.set_raw(name, value)
        else:
            email[name] = value  # the header registry writes it as encoded words
    email.set_content(content.text_body, cte="base64")
    email.make_alternative(boundary=_ALTERNATIVE)
    email.add_alternative(content.html_body, subtype="html", cte="base64")
    if content.ics:
        _add_calendar(email, content.ics)
    return message_id, email.as_bytes()


def _add_calendar(email: EmailMessage, ics: str) -> None:
    """The calendar as an alternative part with its iTIP method, and the same file attached
    (sessions.ics for a programme's PUBLISH, invite.ics for an update). Without a method the
    attached copy is a plain file, not a second iTIP message."""
    found = re.search(r"^METHOD:(.*)$", ics, re.MULTILINE)
    method = found.group(1).strip() if found else "PUBLISH"
    email.add_alternative(ics, subtype="calendar", cte="base64", params={"method": method})
    filename = "sessions.ics" if method == "PUBLISH" else "invite.ics"
    email.make_mixed(boundary=_MIXED)
    email.add_attachment(ics, subtype="calendar", cte="base64", filename=filename)


def stable_message_id(message, base_url: str) -> str:
    """The same Message-ID every time a row is sent, so that a copy sent again after a lost
    worker is recognised as the same message by mail systems (RFC 5322 section 3.6.4)."""
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:16]
    return f"<outbox{message.id}.{digest}@{_msgid_domain(base_url)}>"


@cache
def _msgid_domain(base_url: str) -> str:
    return urlsplit(base_url).hostname or "learnhub.local"
