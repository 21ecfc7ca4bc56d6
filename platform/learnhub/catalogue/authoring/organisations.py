"""Organisations (hosts, supporters, partners, alliances, speakers' employers): shared by every
programme, searched before one is added; a correction is logged where it shows."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, func, select

from ...database import begin_write_transaction
from ...extensions import db
from ..audit import record
from ..models import Organisation, Person, ProgrammeOrganisation, Session, SessionSpeaker
from ..versions import organisation_changed
from .shared import (
    AuthoringError,
    changes,
    check_not_similar,
    check_seen,
    contains,
    digest,
    found,
    text_or_none,
)


@dataclass(frozen=True)
class OrganisationInput:
    """An organisation as its form gives it; `confirmed_new`: the organiser has seen the
    similar ones and this one is another."""

    name: str
    short_name: str | None = None
    website: str | None = None
    confirmed_new: bool = False


def organisations_found(query: str) -> Select:
    """Organisations by name whose name or short name contains `query` (all when it is
    empty): a statement, for a page of them at a time."""
    statement = select(Organisation).order_by(Organisation.name)
    if query.strip():
        statement = statement.where(
            contains(query.strip(), Organisation.name, Organisation.short_name)
        )
    return statement


def all_organisations() -> list[Organisation]:
    """Every organisation, by name: the choices of the programme's and the person's lists."""
    return list(db.session.scalars(organisations_found("")))


def organisation_of(organisation_id: int) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def organisation_seen(organisation: Organisation) -> str:
    """What an editor saw of an organisation (no version column): a digest of its fields."""
    return digest(organisation, "name", "short_name", "website")


def programmes_showing(organisation_id: int) -> list[int]:
    """Programmes whose pages show the organisation: as host, partner... or a speaker's."""
    linked = select(ProgrammeOrganisation.programme_id).where(
        ProgrammeOrganisation.organisation_id == organisation_id
    )
    via_speakers = (
        select(Session.programme_id)
        .join(SessionSpeaker, SessionSpeaker.session_id == Session.id)
        .join(Person, Person.id == SessionSpeaker.person_id)
        .where(Person.organisation_id == organisation_id)
    )
    return sorted(set(db.session.scalars(linked.union(via_speakers))))


def _organisation_values(data: OrganisationInput, name: str) -> dict:
    website = text_or_none(data.website)
    if website and not re.match(r"^https?://[^\s/]+", website, re.IGNORECASE):
        raise AuthoringError("The website must start with https://.", field="website")
    return {"name": name, "short_name": text_or_none(data.short_name), "website": website}


def _organisation_name(data: OrganisationInput, other_than: int | None = None) -> str:
    """The cleaned name; refused when another organisation has exactly it (any case)."""
    name = " ".join(data.name.split())
    if not name:
        raise AuthoringError("Write the organisation's name.", field="name")
    same = select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
    if other_than is not None:
        same = same.where(Organisation.id != other_than)
    if db.session.scalar(same.limit(1)) is not None:
        raise AuthoringError(f"“{name}” is already here: choose it from the lists.", field="name")
    return name


def create_organisation(data: OrganisationInput) -> Organisation:
    begin_write_transaction()
    name = _organisation_name(data)
    check_not_similar(
        Organisation.name,
        name,
        data.confirmed_new,
        already="Similar organisations are already here",
        choose="Choose one of them, or tick “This is another organisation” to add it.",
        field="name",
    )
    organisation = Organisation(**_organisation_values(data, name))
    db.session.add(organisation)
    db.session.commit()
    return organisation


def update_organisation(
    organisation_id: int, user_id: int, seen: str | None, data: OrganisationInput
) -> Organisation:
    """Correct a shared organisation. It has no programme of its own: the change is written
    in the change log of every programme whose page shows it."""
    begin_write_transaction()
    organisation = found(organisation_of(organisation_id), "organisation")
    check_seen(seen, organisation_seen(organisation), "organisation")
    name = _organisation_name(data, other_than=organisation.id)
    before = organisation.name
    changed = changes(organisation, _organisation_values(data, name))
    organisation_changed(organisation.id)
    if changed:
        detail = f"{before}: {', '.join(changed)}"
        if organisation.name != before:
            detail += f" (now “{organisation.name}”)"
        for programme_id in programmes_showing(organisation.id):
            record(programme_id, user_id, "edited organisation", detail)
    db.session.commit()
    return organisation
