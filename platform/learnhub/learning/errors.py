"""The learning feature's refusal."""

from __future__ import annotations

from ..errors import DomainError


class LearningError(DomainError):
    """Something the participant or organiser cannot do; the message is shown to them."""
