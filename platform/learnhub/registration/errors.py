"""The refusals of registration use cases."""

from __future__ import annotations

from ..errors import DomainError, NotFound


class RegistrationError(DomainError):
    """A registration that cannot be made or changed; the message is shown as it is, beside
    `field` (a form field's name) when it is about one."""


class AnswersRefused(RegistrationError):
    """Answers the programme's questions do not accept; the message and the field are the
    first refused question's (`questions.answer_problems` tells each one's)."""


class RegistrationNotFound(RegistrationError, NotFound):
    """What a registration use case is about (a registration, a programme) is not there, or
    not this person's: a 404 page."""
