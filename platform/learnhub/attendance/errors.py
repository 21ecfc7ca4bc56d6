"""The attendance feature's refusal."""

from __future__ import annotations

from ..errors import DomainError


class AttendanceError(DomainError):
    """Attendance that cannot be recorded; the message is shown to the organiser."""
