"""What other features call to email people: each function writes outbox rows in the caller's
transaction (nothing is sent before its commit; see `handover`), and the worker writes and
delivers them (`rendering`, `delivery`)."""

from __future__ import annotations

from .registration_emails import (
    REGISTRATION_SUBJECTS,
    queue_registration_email,
    queue_registration_email_row,
)
from .rendering import render_deferred
from .session_emails import queue_recording_follow_up, queue_session_change, skip_pending_reminders
from .template_emails import queue_email, queue_sign_in_link, render_sign_in_link

__all__ = [
    "REGISTRATION_SUBJECTS",
    "queue_email",
    "queue_recording_follow_up",
    "queue_registration_email",
    "queue_registration_email_row",
    "queue_session_change",
    "queue_sign_in_link",
    "render_deferred",
    "render_sign_in_link",
    "skip_pending_reminders",
]
