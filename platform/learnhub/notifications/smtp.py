"""Sending over SMTP: one connection per batch (or per thread of a batch), opened on first use
and reopened after a failure, and the errors by which the server says a message may be
retried (transient: connection errors, 4xx replies) or not (permanent: 5xx)."""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from .outbox import ClaimedMessage


class TransientDeliveryError(Exception):
    """The message goes back to the queue, to be tried again after its backoff."""


class PermanentDeliveryError(Exception):
    """The server refused the message for good (5xx)."""


class SMTPBackend:
    """SMTP with one connection per batch, opened on first use and reopened after a failure."""

    def __init__(self, config) -> None:
        self.host, self.port, self.username, self.password, self.use_ssl = _smtp_settings(config)
        self.starttls = config.get("SMTP_STARTTLS", False)
        self.timeout = 30
        self.sender = parseaddr(config["MAIL_FROM"])[1]

    def _open(self) -> smtplib.SMTP:
        smtp_class = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        smtp = smtp_class(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp

    @contextmanager
    def connection(self) -> Iterator:
        with self.steps() as (envelope, content):

            def send(message: ClaimedMessage) -> None:
                envelope(message)
                content(message)

            yield send

    @contextmanager
    def steps(self) -> Iterator:
        """(envelope, content) over one connection, opened on first use: smtplib's sendmail
        cut in two at the DATA command, so that a caller can decide when the content (and
        with it the server's acceptance) goes."""
        state: dict[str, smtplib.SMTP | None] = {"smtp": None}

        def guarded(message: ClaimedMessage, step) -> None:
            try:
                if state["smtp"] is None:
                    state["smtp"] = self._open()
                step(state["smtp"], message)
            except smtplib.SMTPRecipientsRefused as error:
                code, reply = next(iter(error.recipients.values()))
                if code == 421:  # the server is closing the connection
                    _close(state)
                _raise_for_reply(code, reply)
            except smtplib.SMTPResponseException as error:
                _close(state)
                _raise_for_reply(error.smtp_code, error.smtp_error)
            except (smtplib.SMTPException, OSError) as error:
                _close(state)
                raise TransientDeliveryError(f"could not reach the mail server: {error}") from error

        try:
            yield (
                lambda message: guarded(message, self._envelope),
                lambda message: guarded(message, _content),
            )
        finally:
            if state["smtp"] is not None:
                with suppress(smtplib.SMTPException, OSError):
                    state["smtp"].quit()
                _close(state)

    def _envelope(self, smtp: smtplib.SMTP, message: ClaimedMessage) -> None:
        """MAIL, RCPT and DATA as smtplib.sendmail sends them, up to the server's 354."""
        assert message.raw is not None  # only a built message is sent
        smtp.ehlo_or_helo_if_needed()
        size = f" size={len(message.raw)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
        code, reply = smtp.docmd("mail", f"FROM:{_quoted(self.sender)}{size}")
        if code != 250:
            _reset_or_close(smtp, code)
            raise smtplib.SMTPSenderRefused(code, reply, self.sender)
        code, reply = smtp.docmd("rcpt", f"TO:{_quoted(message.to_address)}")
        if code not in (250, 251):
            _reset_or_close(smtp, code)
            raise smtplib.SMTPRecipientsRefused({message.to_address: (code, reply)})
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+")


def _quoted(address: str) -> str:
    """smtplib.quoteaddr, without its address parsing for a plain address (its result then)."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _content(smtp: smtplib.SMTP, message: ClaimedMessage) -> None:
    """The message and its final dot (smtplib's own quoting); the server's reply accepts it."""
    assert message.raw is not None  # only a built message is sent
    data = _LEADING_DOT.sub(b"..", message.raw)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    smtp.send(data + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        _reset_or_close(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _reset_or_close(smtp: smtplib.SMTP, code: int) -> None:
    if code == 421:
        smtp.close()
    else:
        smtp._rset()  # type: ignore[attr-defined]  # smtplib: RSET, errors ignored


def _close(state: dict) -> None:
    smtp = state.get("smtp")
    state["smtp"] = None
    if smtp is not None:
        with suppress(OSError):
            smtp.close()


def _raise_for_reply(code: int, reply: bytes | str) -> None:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if 500 <= code < 600:
        raise PermanentDeliveryError(f"{code} {text}")
    raise TransientDeliveryError(f"{code} {text}")


def _smtp_settings(config) -> tuple[str, int, str | None, str | None, bool]:
    if config.get("SMTP_URL"):
        parts = urlsplit(config["SMTP_URL"])
        use_ssl = parts.scheme == "smtps"
        return (
            parts.hostname or "localhost",
            parts.port or (465 if use_ssl else 25),
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            use_ssl,
        )
    return (
        config.get("SMTP_HOST") or "localhost",
        config.get("SMTP_PORT") or 25,
        config.get("SMTP_USERNAME"),
        config.get("SMTP_PASSWORD"),
        False,
    )
