"""Speakers and moderators: shared by every programme, searched before one is added."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ...database import begin_write_transaction
from ...extensions import db
from ...i18n import LANGUAGE_LOCALES
from ...timefmt import is_valid_timezone
from .. import uploads
from ..models import Organisation, Person
from ..versions import person_changed
from .shared import AuthoringError, check_not_similar, contains, found, text_or_none


@dataclass(frozen=True)
class PersonInput:
    full_name: str
    honorific: str | None = None
    position: str | None = None
    organisation_id: int | None = None
    organisation_text: str | None = None
    email: str | None = None
    timezone: str | None = None
    #: A profile language (`LANGUAGE_LOCALES`' names); None: their account's, else English.
    preferred_language: str | None = None
    bio: str | None = None
    photo: uploads.CheckedFile | None = None
    #: The organiser has seen the similar people and this one is someone else.
    confirmed_new: bool = False


def people_found(query: str) -> Select:
    """People by name whose name, position or organisation contains `query` (everyone when
    it is empty), with their organisation: a statement, for a page of them at a time."""
    statement = select(Person).options(joinedload(Person.organisation)).order_by(Person.full_name)
    if query.strip():
        statement = statement.outerjoin(Person.organisation).where(
            contains(
                query.strip(),
                Person.full_name,
                Person.position,
                Organisation.name,
                Person.organisation_text,
            )
        )
    return statement


def all_people() -> list[Person]:
    """Everyone, by name: the choices of a session's speakers and moderators."""
    return list(db.session.scalars(people_found("")).unique())


def person_of(person_id: int) -> Person | None:
    return db.session.get(Person, person_id)


def _full_name(data: PersonInput) -> str:
    name = " ".join(data.full_name.split())
    if not name:
        raise AuthoringError("Write the person's name.", field="full_name")
    return name


def create_person(data: PersonInput) -> Person:
    """A speaker or moderator for every programme. Search first: a person with a similar name
    is only added once the organiser confirms it is someone else."""
    begin_write_transaction()
    name = _full_name(data)
    check_not_similar(
        Person.full_name,
        name,
        data.confirmed_new,
        already="Already here",
        choose="Pick them in the session form, or tick “This is someone else” to add them.",
        field="full_name",
    )
    person = Person(full_name=name)
    _fill_person(person, data)
    db.session.add(person)
    db.session.commit()
    return person


def update_person(person_id: int, data: PersonInput) -> Person:
    """Correct a shared speaker (a new position, a photo): every programme shows the change."""
    begin_write_transaction()
    person = found(person_of(person_id), "person")
    person.full_name = _full_name(data)
    replaced = person.photo if data.photo else None
    _fill_person(person, data)
    person_changed(person.id)
    db.session.commit()
    uploads.remove_stored(replaced)
    return person


def _check_person(data: PersonInput) -> None:
    if (
        data.organisation_id is not None
        and db.session.get(Organisation, data.organisation_id) is None
    ):
        raise AuthoringError("That organisation no longer exists.", field="organisation")
    if data.timezone and not is_valid_timezone(data.timezone):
        raise AuthoringError("Choose a time zone from the list.", field="timezone")
    if data.preferred_language and data.preferred_language not in LANGUAGE_LOCALES:
        raise AuthoringError("Choose a language from the list.", field="preferred_language")


def _fill_person(person: Person, data: PersonInput) -> None:
    _check_person(data)
    person.honorific = text_or_none(data.honorific)
    person.position = text_or_none(data.position)
    person.organisation_id = data.organisation_id
    person.organisation_text = text_or_none(data.organisation_text)
    person.email = (data.email or "").strip().lower() or None
    person.timezone = data.timezone or None
    person.preferred_language = data.preferred_language or None
    person.bio = text_or_none(data.bio)
    if data.photo:
        person.photo = uploads.store(data.photo)
