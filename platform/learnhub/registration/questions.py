"""A programme's own questions: the fields they become and the answers they accept."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import tzdata

from .errors import AnswersRefused
from .models import RegistrationQuestion

YES_NO = ("Yes", "No")
MAX_SHORT = 300
MAX_LONG = 5000


@cache
def countries() -> tuple[str, ...]:
    """Country names from the IANA time zone database's iso3166.tab (shipped with tzdata)."""
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


class _Refused(Exception):
    """One answer a question does not accept; said beside the question's field."""


def _clean_one(question: RegistrationQuestion, raw: str | list[str] | None) -> str | None:
    if question.kind == "multiple_choice":
        values = raw if isinstance(raw, list) else ([raw] if raw else [])
        values = [v.strip() for v in values if isinstance(v, str) and v.strip()]
        allowed = choices_for(question)
        if any(v not in allowed for v in values):
            raise _Refused("Choose from the options given.")
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
        raise _Refused("Choose from the options given.")
    limit = MAX_LONG if question.kind == "long_text" else MAX_SHORT
    if len(value) > limit:
        raise _Refused(f"Please keep it under {limit} characters.")
    return value


def _checked(
    questions: list[RegistrationQuestion], raw: Mapping[int, str | list[str]]
) -> tuple[dict[int, str], list[tuple[RegistrationQuestion, str]]]:
    """(the stored form of each accepted answer by question id, each refused question with
    what is wrong, said beside its field)."""
    cleaned: dict[int, str] = {}
    problems: list[tuple[RegistrationQuestion, str]] = []
    for question in questions:
        try:
            value = _clean_one(question, raw.get(question.id))
        except _Refused as refusal:
            problems.append((question, str(refusal)))
            continue
        if value is None and question.required:
            problems.append((question, "This question needs an answer."))
        elif value is not None:
            cleaned[question.id] = value
    return cleaned, problems


def answer_problems(
    questions: list[RegistrationQuestion], raw: Mapping[int, str | list[str]]
) -> dict[str, str]:
    """What is wrong with the answers, by question field (q_<id>); empty when all is well."""
    return {f"q_{question.id}": said for question, said in _checked(questions, raw)[1]}


def clean_answers(
    questions: list[RegistrationQuestion], raw: Mapping[int, str | list[str]]
) -> dict[int, str]:
    """The stored form of each answer, by question id; refuses answers the questions do not
    accept (a wrong choice, too long, a required one missing)."""
    cleaned, problems = _checked(questions, raw)
    if problems:
        first, said = problems[0]
        raise AnswersRefused(f"{first.label}: {said[0].lower()}{said[1:]}", f"q_{first.id}")
    return cleaned
