"""A programme's own questions: the fields they become and the answers they accept."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from ..errors import DomainError
from .models import RegistrationQuestion

YES_NO = ("Yes", "No")
MAX_SHORT = 300
MAX_LONG = 5000


class AnswerError(DomainError):
    """An answer the question does not accept; the message names the question."""


@cache
def countries() -> tuple[str, ...]:
    """Country names from the IANA time zone database's iso3166.tab (shipped with tzdata)."""
    import tzdata

    table = Path(tzdata.__file__).parent / "zoneinfo" / "iso3166.tab"
    names = []
    for line in table.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            names.append(line.split("\t", 1)[1].strip())
    return tuple(sorted(names))


def choices_for(question: RegistrationQuestion) -> tuple[str, ...]:
    if question.kind == "yes_no":
        return YES_NO
    if question.kind == "country":
        return countries()
    return tuple(question.choices)


def _clean_one(question: RegistrationQuestion, raw: str | list[str] | None) -> str | None:
    if question.kind == "multiple_choice":
        values = raw if isinstance(raw, list) else ([raw] if raw else [])
        values = [v.strip() for v in values if isinstance(v, str) and v.strip()]
        allowed = choices_for(question)
        if any(v not in allowed for v in values):
            raise AnswerError(f"{question.label}: choose from the options given.")
        picked = [choice for choice in allowed if choice in values]
        return "\n".join(picked) or None
    value = raw[0] if isinstance(raw, list) and raw else raw
    value = value.strip() if isinstance(value, str) else ""
    value = value.replace("\x00", "")
    if not value:
        return None
    if question.kind in ("single_choice", "yes_no", "country") and value not in choices_for(
        question
    ):
        raise AnswerError(f"{question.label}: choose from the options given.")
    limit = MAX_LONG if question.kind == "long_text" else MAX_SHORT
    if len(value) > limit:
        raise AnswerError(f"{question.label}: please keep it under {limit} characters.")
    return value


def clean_answers(
    questions: list[RegistrationQuestion], raw: Mapping[int, str | list[str]]
) -> dict[int, str]:
    """The stored form of each answer, by question id; refuses missing required answers."""
    from .services import RegistrationError

    cleaned: dict[int, str] = {}
    for question in questions:
        field = f"q_{question.id}"  # the question's form field, where the error is shown
        try:
            value = _clean_one(question, raw.get(question.id))
        except AnswerError as error:
            raise RegistrationError(str(error), field=field) from error
        if value is None and question.required:
            raise RegistrationError(f"{question.label}: this question needs an answer.", field)
        if value is not None:
            cleaned[question.id] = value
    return cleaned
