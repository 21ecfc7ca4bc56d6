"""The organiser workspace's reads and use cases: its lists (a page at a time), registration
questions, the registrants' CSV, the programme's team and organiser invitations."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ScalarResult, Select, exists, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from ..accounts.models import TEAM_RIGHTS as TEAM_RIGHT_NAMES
from ..accounts.models import ProgrammeTeamMember, User
from ..accounts.services import find_user_by_email, issue_sign_in_link, normalise_email
from ..catalogue import audit
from ..catalogue.authoring import locked_programme
from ..catalogue.models import Programme
from ..database import begin_write_transaction, swap_positions
from ..errors import DomainError
from ..extensions import db
from ..notifications.services import queue_email
from ..pagination import page_of
from ..registration.models import (
    QUESTION_KINDS,
    Registration,
    RegistrationAnswer,
    RegistrationQuestion,
)
from ..safety import csv_text_cell

#: Rows a page of each list shows; the CSV export has them all.
PROGRAMMES_PER_PAGE = 50
REGISTRANTS_PER_PAGE = 100
TEAM_PER_PAGE = 50


def managed_programmes(user: User, page: int) -> Pagination:
    """The programmes `user` is in the team of (an administrator: every one), by title."""
    query = select(Programme).order_by(Programme.title, Programme.id)
    if user.role != "admin":
        query = query.join(
            ProgrammeTeamMember, ProgrammeTeamMember.programme_id == Programme.id
        ).where(ProgrammeTeamMember.user_id == user.id)
    return page_of(query, page, PROGRAMMES_PER_PAGE)


def registration_counts(programme_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Registration.status, func.count())
        .where(Registration.programme_id == programme_id)
        .group_by(Registration.status)
    )
    return dict(rows.all())


# --- registrants ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrantFilter:
    search: str = ""
    status: str = ""
    question_id: int | None = None
    answer: str = ""


def _matching(programme_id: int, filters: RegistrantFilter) -> Select:
    """The programme's registrations that pass `filters`, with their people, in no order."""
    query = (
        select(Registration)
        .join(Registration.user)
        .where(Registration.programme_id == programme_id)
        .options(contains_eager(Registration.user))
    )
    if filters.status:
        query = query.where(Registration.status == filters.status)
    if filters.search:
        pattern = f"%{_escape_like(filters.search.lower())}%"
        query = query.where(
            or_(
                func.lower(User.full_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
                func.lower(User.organisation_name).like(pattern, escape="\\"),
                func.lower(User.city).like(pattern, escape="\\"),
                func.lower(User.country).like(pattern, escape="\\"),
            )
        )
    if filters.question_id is not None and filters.answer:
        pattern = f"%{_escape_like(filters.answer.lower())}%"
        query = query.where(
            exists().where(
                RegistrationAnswer.registration_id == Registration.id,
                RegistrationAnswer.question_id == filters.question_id,
                func.lower(RegistrationAnswer.value).like(pattern, escape="\\"),
            )
        )
    return query


def _registrant_query(programme_id: int, filters: RegistrantFilter) -> Select:
    """The registrants list: the waiting list in queue order first within its state; everyone
    else in arrival order; with their answers."""
    return (
        _matching(programme_id, filters)
        .options(selectinload(Registration.answers))
        .order_by(
            Registration.status,
            Registration.waitlist_position,
            Registration.created_at,
            Registration.id,
        )
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def registrant_page(programme_id: int, filters: RegistrantFilter, page: int) -> Pagination:
    return page_of(_registrant_query(programme_id, filters), page, REGISTRANTS_PER_PAGE)


def confirmed_page(programme_id: int, page: int) -> Pagination:
    """The confirmed participants by name (the programme's overview)."""
    query = _matching(programme_id, RegistrantFilter(status="confirmed"))
    return page_of(query.order_by(User.full_name, Registration.id), page, REGISTRANTS_PER_PAGE)


def iter_registrants(programme_id: int, filters: RegistrantFilter) -> ScalarResult[Registration]:
    """Every matching registration, read in batches (the CSV export streams them)."""
    return db.session.scalars(
        _registrant_query(programme_id, filters).execution_options(yield_per=500)
    )


def waitlist_places(programme_id: int) -> dict[int, int]:
    ids = db.session.scalars(
        select(Registration.id)
        .where(Registration.programme_id == programme_id, Registration.status == "waitlisted")
        .order_by(Registration.waitlist_position)
    )
    return {registration_id: place for place, registration_id in enumerate(ids, start=1)}


# --- questions ----------------------------------------------------------------------------------


class QuestionError(DomainError):
    """A question that cannot be saved; the message is shown to the organiser."""


@dataclass(frozen=True)
class QuestionInput:
    label: str
    kind: str
    required: bool
    choices: list[str]


def add_question(
    programme_id: int, data: QuestionInput, user_id: int | None = None
) -> RegistrationQuestion:
    if data.kind not in QUESTION_KINDS:
        raise QuestionError("Choose a kind of question from the list.")
    if data.kind in ("single_choice", "multiple_choice") and len(data.choices) < 2:
        raise QuestionError("A choice question needs at least two choices, one per line.")
    if not data.label.strip():
        raise QuestionError("Write the question.")
    locked_programme(programme_id)  # positions are given under the programme's lock
    last = db.session.scalar(
        select(func.max(RegistrationQuestion.position)).where(
            RegistrationQuestion.programme_id == programme_id
        )
    )
    question = RegistrationQuestion(
        programme_id=programme_id,
        position=(last or 0) + 1,
        label=data.label.strip(),
        kind=data.kind,
        required=data.required,
        choices_text="\n".join(data.choices)
        if data.kind in ("single_choice", "multiple_choice")
        else "",
    )
    db.session.add(question)
    audit.record(programme_id, user_id, "added question", f"“{question.label}” ({question.kind})")
    db.session.commit()
    return question


def question_in(programme_id: int, question_id: int) -> RegistrationQuestion | None:
    question = db.session.get(RegistrationQuestion, question_id)
    return question if question is not None and question.programme_id == programme_id else None


def _question_of(programme_id: int, question_id: int) -> RegistrationQuestion:
    question = db.session.get(RegistrationQuestion, question_id)
    if question is None or question.programme_id != programme_id:
        raise QuestionError("We could not find that question.")
    return question


def delete_question(programme_id: int, question_id: int, user_id: int | None = None) -> None:
    """Remove a question and its answers; the ones after it move up."""
    locked_programme(programme_id)
    question = _question_of(programme_id, question_id)
    position = question.position
    audit.record(programme_id, user_id, "removed question", f"“{question.label}” and its answers")
    db.session.delete(question)
    db.session.flush()
    later = db.session.scalars(
        select(RegistrationQuestion)
        .where(
            RegistrationQuestion.programme_id == programme_id,
            RegistrationQuestion.position > position,
        )
        .order_by(RegistrationQuestion.position)
    )
    for item in later:
        item.position -= 1
        db.session.flush()
    db.session.commit()


def move_question(
    programme_id: int, question_id: int, offset: int, user_id: int | None = None
) -> None:
    """Swap a question with its neighbour above (-1) or below (+1)."""
    locked_programme(programme_id)
    question = _question_of(programme_id, question_id)
    before = question.position
    if swap_positions(
        RegistrationQuestion, RegistrationQuestion.programme_id == programme_id, question, offset
    ):
        audit.record(
            programme_id,
            user_id,
            "moved question",
            f"“{question.label}”: place {before} → {question.position}",
        )
    db.session.commit()


# --- CSV export -----------------------------------------------------------------------------------

BOM = "\ufeff"


def registrants_csv(programme: Programme, filters: RegistrantFilter) -> Iterator[str]:
    """The registrants as CSV lines, UTF-8 with a BOM so Excel opens accents correctly.

    A generator: the view streams it, so a programme with thousands of registrants never
    builds the whole file in memory."""
    questions = list(
        db.session.scalars(
            select(RegistrationQuestion)
            .where(RegistrationQuestion.programme_id == programme.id)
            .order_by(RegistrationQuestion.position)
        )
    )
    places = waitlist_places(programme.id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_text_cell(v) for v in values])
        return buffer.getvalue()

    header = [
        "Registration",
        "Status",
        "Waiting list place",
        "Name",
        "Email",
        "Organisation",
        "Job title",
        "City",
        "Country",
        "Time zone",
        "Registered at (UTC)",
        *[q.label for q in questions],
    ]
    yield BOM + line(header)
    for registration in iter_registrants(programme.id, filters):
        user = registration.user
        answers = {a.question_id: a.value.replace("\n", "; ") for a in registration.answers}
        yield line(
            [
                registration.id,
                registration.status,
                places.get(registration.id, ""),
                user.full_name,
                user.email,
                user.organisation_name,
                user.job_title,
                user.city,
                user.country,
                user.timezone,
                registration.created_at.strftime("%Y-%m-%d %H:%M"),
                *[answers.get(q.id, "") for q in questions],
            ]
        )


# --- the programme's team -------------------------------------------------------------------------


class TeamError(DomainError):
    """A team change that cannot be made; the message is shown to the organiser."""


@dataclass(frozen=True)
class TeamRights:
    manage_programme: bool
    manage_registrations: bool
    manage_attendance: bool


def team_of(programme_id: int, page: int) -> Pagination:
    return page_of(
        select(ProgrammeTeamMember)
        .join(ProgrammeTeamMember.user)
        .where(ProgrammeTeamMember.programme_id == programme_id)
        .options(contains_eager(ProgrammeTeamMember.user))
        .order_by(User.full_name, ProgrammeTeamMember.id),
        page,
        TEAM_PER_PAGE,
    )


def set_team_member(
    programme_id: int, email: str, rights: TeamRights, acting_user_id: int | None = None
) -> ProgrammeTeamMember:
    """Add an organiser to the programme's team, or change their rights."""
    begin_write_transaction()
    user = find_user_by_email(email)
    if user is None or user.role not in ("organiser", "admin") or user.deleted_at is not None:
        raise TeamError(
            "There is no organiser account with that address. An administrator creates "
            "organiser accounts."
        )
    member = db.session.scalar(
        select(ProgrammeTeamMember).where(
            ProgrammeTeamMember.programme_id == programme_id,
            ProgrammeTeamMember.user_id == user.id,
        )
    )
    before = _rights_in_words(member) if member is not None else "not in the team"
    if member is None:
        member = ProgrammeTeamMember(programme_id=programme_id, user_id=user.id)
        db.session.add(member)
    member.manage_programme = rights.manage_programme
    member.manage_registrations = rights.manage_registrations
    member.manage_attendance = rights.manage_attendance
    after = _rights_in_words(rights)
    if before != after:
        audit.record(
            programme_id, acting_user_id, "set team rights", f"{user.email}: {before} → {after}"
        )
    db.session.commit()
    return member


def _rights_in_words(rights: TeamRights | ProgrammeTeamMember) -> str:
    granted = [name.replace("manage_", "") for name in TEAM_RIGHT_NAMES if getattr(rights, name)]
    return ", ".join(granted) or "no rights"


def remove_team_member(programme_id: int, member_id: int, acting_user_id: int) -> None:
    begin_write_transaction()
    member = db.session.get(ProgrammeTeamMember, member_id)
    if member is None or member.programme_id != programme_id:
        raise TeamError("We could not find that team member.")
    if member.user_id == acting_user_id:
        raise TeamError("You cannot remove yourself; ask another organiser or an administrator.")
    audit.record(programme_id, acting_user_id, "removed from team", member.user.email)
    db.session.delete(member)
    db.session.commit()


# --- organiser accounts ---------------------------------------------------------------------------

#: Hours an invitation's set-password link stays valid.
INVITATION_HOURS = 72


def invite_organiser(email: str, full_name: str, invited_by: User) -> User:
    """An administrator makes an organiser account (or promotes a participant's) and emails a
    single-use link that signs them in on the page where they set their password."""
    begin_write_transaction()
    address = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == address))
    if user is not None and user.deleted_at is not None:
        raise TeamError("That address belonged to a deleted account; use another address.")
    if user is not None and user.role in ("organiser", "admin"):
        raise TeamError(f"{user.full_name} is already an organiser.")
    if user is None:
        user = User(email=address, full_name=full_name.strip(), role="organiser")
        db.session.add(user)
    else:
        user.role = "organiser"
    db.session.flush()
    minutes = INVITATION_HOURS * 60
    token_id, link = issue_sign_in_link(
        user.id, url_for("accounts.profile") + "#password-heading", minutes
    )
    queue_email(
        kind="organiser_invitation",
        dedupe_key=f"organiser_invitation:{token_id}",
        to=user,
        subject=lazy_gettext("You are invited to organise programmes on LearnHub"),
        template="organiser_invitation",
        context={"link": link, "hours": INVITATION_HOURS, "invited_by": invited_by.full_name},
    )
    db.session.commit()
    return user


def organiser_accounts(page: int) -> Pagination:
    return page_of(
        select(User)
        .where(User.role.in_(("organiser", "admin")), User.deleted_at.is_(None))
        .order_by(User.full_name, User.id),
        page,
        TEAM_PER_PAGE,
    )
