"""Factories: each test builds the data it needs. All commit, like a finished use case."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import func, select

from learnhub.accounts.models import ProgrammeTeamMember, User
from learnhub.accounts.services import set_password
from learnhub.catalogue.models import (
    Material,
    Module,
    Organisation,
    Person,
    Programme,
    ProgrammeOrganisation,
    Session,
    SessionSpeaker,
    Topic,
)
from learnhub.database import begin_write_transaction
from learnhub.extensions import db
from learnhub.registration.models import Registration, RegistrationAnswer, RegistrationQuestion
from learnhub.types import utcnow

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def save(*objects):
    """Add and commit, like a finished use case: on SQLite the write starts with the write
    lock (BEGIN IMMEDIATE), so it waits its turn behind a running worker instead of failing
    with "database is locked" when a read snapshot cannot be upgraded."""
    if not (db.session.new or db.session.dirty or db.session.deleted):
        begin_write_transaction()
    db.session.add_all(objects)
    db.session.commit()
    return objects[0] if len(objects) == 1 else objects


def make_topic(name: str = "Sustainability and climate change", slug: str | None = None) -> Topic:
    return save(Topic(name=name, slug=slug or f"topic-{_n()}"))


def make_organisation(name: str | None = None, short_name: str | None = None) -> Organisation:
    return save(Organisation(name=name or f"Organisation {_n()}", short_name=short_name))


def make_programme(
    *,
    title: str | None = None,
    kind: str = "programme",
    status: str = "published",
    timezone: str = "Asia/Seoul",
    capacity: int | None = None,
    topic: Topic | None = None,
    sessions: int = 1,
    first_session_in: timedelta = timedelta(days=7),
    session_length: timedelta = timedelta(hours=1, minutes=30),
    hosts: list[Organisation] | None = None,
    **fields,
) -> Programme:
    n = _n()
    programme = Programme(
        slug=f"programme-{n}",
        kind=kind,
        title=title or f"Programme {n}",
        summary=f"Summary of programme {n}.",
        description=fields.pop("description", "Description."),
        status=status,
        timezone=timezone,
        capacity=capacity,
        topic=topic,
        **fields,
    )
    start = utcnow().replace(microsecond=0) + first_session_in
    for index in range(sessions):
        begins = start + timedelta(weeks=index)
        programme.sessions.append(
            Session(
                title=f"Session {index + 1}",
                starts_at=begins,
                ends_at=begins + session_length,
                timezone=timezone,
                join_url=f"https://meet.example.org/{n}/{index + 1}",
            )
        )
    for position, organisation in enumerate(hosts or []):
        programme.organisation_links.append(
            ProgrammeOrganisation(organisation=organisation, role="host", position=position)
        )
    return save(programme)


def make_session(programme: Programme, starts_at: datetime, minutes: int = 90, **fields) -> Session:
    return save(
        Session(
            programme_id=programme.id,
            title=fields.pop("title", f"Session {_n()}"),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            timezone=fields.pop("timezone", programme.timezone),
            **fields,
        )
    )


def make_module(programme: Programme, position: int, title: str | None = None) -> Module:
    return save(
        Module(programme_id=programme.id, position=position, title=title or f"Module {position}")
    )


def make_material(programme: Programme, **fields) -> Material:
    fields.setdefault("kind", "reading")
    fields.setdefault("title", f"Material {_n()}")
    if "file_name" not in fields:
        fields.setdefault("url", "https://files.example.org/reading")
    return save(Material(programme_id=programme.id, **fields))


def make_speaker(session: Session, name: str, position: str, organisation=None) -> Person:
    person = Person(full_name=name, position=position, organisation=organisation)
    save(SessionSpeaker(session_id=session.id, person=person, role="speaker"))
    return person


def make_user(
    *,
    email: str | None = None,
    role: str = "participant",
    timezone: str = "America/Sao_Paulo",
    password: str | None = None,
    full_name: str | None = None,
) -> User:
    n = _n()
    user = User(
        email=email or f"person{n}@example.org",
        full_name=full_name or f"Person {n}",
        role=role,
        timezone=timezone,
    )
    if password:
        set_password(user, password)
    return save(user)


def make_organiser(programme: Programme | None = None, **fields) -> User:
    fields.setdefault("password", "organiser-password")
    fields.setdefault("timezone", "Europe/Madrid")
    user = make_user(role="organiser", **fields)
    if programme is not None:
        save(ProgrammeTeamMember(programme_id=programme.id, user_id=user.id))
    return user


def make_registration(
    programme: Programme,
    user: User | None = None,
    *,
    status: str = "confirmed",
    confirmed_at: datetime | None = None,
    waitlist_position: int | None = None,
    answers: dict[RegistrationQuestion, str] | None = None,
) -> Registration:
    """A registration written directly (no email); a waitlisted one goes to the queue's end
    unless `waitlist_position` is given."""
    user = user or make_user()
    now = utcnow()
    if status == "waitlisted" and waitlist_position is None:
        last = db.session.scalar(
            select(func.max(Registration.waitlist_position)).where(
                Registration.programme_id == programme.id
            )
        )
        waitlist_position = (last or 0) + 1
    registration = Registration(
        programme_id=programme.id,
        user_id=user.id,
        status=status,
        waitlist_position=waitlist_position if status == "waitlisted" else None,
        confirmed_at=(confirmed_at or now) if status == "confirmed" else confirmed_at,
        consent_at=now,
    )
    for question, value in (answers or {}).items():
        registration.answers.append(RegistrationAnswer(question_id=question.id, value=value))
    return save(registration)


def make_question(
    programme: Programme,
    label: str | None = None,
    *,
    kind: str = "short_text",
    required: bool = False,
    choices: list[str] | None = None,
    position: int | None = None,
) -> RegistrationQuestion:
    if position is None:
        last = db.session.scalar(
            select(func.max(RegistrationQuestion.position)).where(
                RegistrationQuestion.programme_id == programme.id
            )
        )
        position = (last or 0) + 1
    return save(
        RegistrationQuestion(
            programme_id=programme.id,
            position=position,
            label=label or f"Question {_n()}",
            kind=kind,
            required=required,
            choices_text="\n".join(choices or []),
        )
    )


def registration_form(**overrides) -> dict:
    """What a participant types into the registration form."""
    data = {
        "full_name": "Joana Conceição",
        "email": "Joana@Example.org ",
        "organisation": "Prefeitura de São Paulo",
        "city": "São Paulo",
        "country": "Brazil",
        "timezone": "America/Sao_Paulo",
        "consent": "y",
    }
    data.update(overrides)
    return data


def make_attendance(
    session: Session, registration: Registration, status: str = "present", **fields
):
    from learnhub.attendance.models import Attendance

    fields.setdefault("method", "manual")
    return save(
        Attendance(session_id=session.id, registration_id=registration.id, status=status, **fields)
    )


def make_check_in(session: Session, *, code: str | None = None, grace_minutes: int = 10, open=True):
    from learnhub.attendance.models import CheckIn

    return save(
        CheckIn(
            session_id=session.id,
            code=code or f"C{_n():05d}",
            grace_minutes=grace_minutes,
            opened_at=utcnow() if open else None,
        )
    )


def make_certificate(registration: Registration, code: str = "ABCD-EFGH-JKMN", **fields):
    """A certificate issued by hand to `registration`'s holder (fields override any column)."""
    from learnhub.learning.models import Certificate

    fields.setdefault("source", "organiser")
    fields.setdefault("issue_reason", "test")
    return save(
        Certificate(
            code=code,
            registration_id=registration.id,
            programme_id=registration.programme_id,
            holder_name=registration.user.full_name,
            programme_title=registration.programme.title,
            **fields,
        )
    )


def past_programme(sessions: int = 2, **fields) -> Programme:
    """A programme whose sessions took place: the first two weeks ago, then weekly."""
    fields.setdefault("first_session_in", -timedelta(days=14))
    return make_programme(sessions=sessions, **fields)


def early_registration(programme: Programme, user: User | None = None, **fields) -> Registration:
    """Confirmed a month ago: expected at every session of a past_programme."""
    return make_registration(programme, user, confirmed_at=utcnow() - timedelta(days=30), **fields)


def sign_in(client, user: User) -> None:
    """Sign `user` in on the test client, as a finished sign-in would."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def written(message):
    """An outbox row as the worker delivers it: a registration email's subject, bodies and
    calendar are written from the row when it is delivered (render_deferred), not before."""
    from learnhub.notifications.services import render_deferred

    assert render_deferred([message]) == ({}, {})
    return message


def make_outbox_message(**fields):
    """An outbox row written directly (a reminder to p@example.org unless told otherwise)."""
    from learnhub.notifications.models import OutboxMessage

    values = {
        "kind": "reminder",
        "dedupe_key": f"test-outbox:{_n()}",
        "to_address": "p@example.org",
        "subject": "Hello",
        "text_body": "Plain text",
        "html_body": "<p>HTML</p>",
        **fields,
    }
    return save(OutboxMessage(**values))


def set_production_environment(monkeypatch) -> None:
    """Every setting production requires, safe and complete (no real service behind them)."""
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SMTP_URL", "smtp://mail.example.org:25")
    monkeypatch.setenv("BASE_URL", "https://learnhub.example.org")
