"""The one error a use case raises when it refuses: what to tell the person, and about which
form field. Each feature names its own subclass; views map every one the same way
(`use_cases.run_use_case` onto a form, `use_cases.attempt` onto a flash)."""

from __future__ import annotations


class DomainError(Exception):
    """A refused action. `field` names the form field it is about, when there is one."""

    #: The status a page answers with when nothing else is shown (`NotFound`: 404).
    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """What the action is about does not exist, or not for this person: a 404."""

    status = 404

    def __init__(self, message: str = "We could not find that.", field: str | None = None):
        super().__init__(message, field)


class NotAllowed(DomainError):
    """The person may not do this: a 403."""

    status = 403
