"""Speakers and moderators, and organisations: shared by every programme, so any organiser
searches, adds and corrects them. Their lists are paged."""

from __future__ import annotations

from flask import abort, url_for
from flask_login import current_user

from ...catalogue.authoring import organisations as organisation_cases
from ...catalogue.authoring import people as people_cases
from ..blueprint import bp
from ..forms import OrganisationEditForm, OrganisationForm, PersonForm
from . import choices
from .pages import FormPage, form_for, typed

# --- people -------------------------------------------------------------------------------------


def _with_choices(form: PersonForm) -> PersonForm:
    form.organisation.choices = [("", "Not in the list")] + choices.organisations()
    return form


def _person_listed(person) -> str:
    return url_for("organiser.people", q=person.full_name)


add_person_page = FormPage(
    "people.html",
    people_cases.create_person,
    "{0.display_name} added: choose them in a session's form.",
    _person_listed,
    search=people_cases.people_found,
)


@bp.route("/people", methods=["GET", "POST"])
def people():
    form = _with_choices(PersonForm())
    return add_person_page(form, lambda form: (typed(people_cases.PersonInput, form),))


edit_person_page = FormPage(
    "person_form.html", people_cases.update_person, "{0.display_name} saved.", _person_listed
)


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
def edit_person(person_id: int):
    person = people_cases.person_of(person_id) or abort(404)
    form = form_for(PersonForm, person, organisation=person.organisation_id)
    return edit_person_page(
        _with_choices(form),
        lambda form: (person.id, typed(people_cases.PersonInput, form)),
        person=person,
    )


# --- organisations ------------------------------------------------------------------------------


def _organisation_listed(organisation) -> str:
    return url_for("organiser.organisations", q=organisation.name)


add_organisation_page = FormPage(
    "organisations.html",
    organisation_cases.create_organisation,
    "{0.name} added.",
    _organisation_listed,
    search=organisation_cases.organisations_found,
)


@bp.route("/organisations", methods=["GET", "POST"])
def organisations():
    return add_organisation_page(
        OrganisationForm(), lambda form: (typed(organisation_cases.OrganisationInput, form),)
    )


edit_organisation_page = FormPage(
    "organisation_form.html",
    organisation_cases.update_organisation,
    "{0.name} saved.",
    _organisation_listed,
)


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id: int):
    organisation = organisation_cases.organisation_of(organisation_id) or abort(404)
    seen = organisation_cases.organisation_seen(organisation)
    return edit_organisation_page(
        form_for(OrganisationEditForm, organisation, seen=seen),
        lambda form: (
            organisation.id,
            current_user.id,
            form.seen.data,
            typed(organisation_cases.OrganisationInput, form),
        ),
        lambda: {"shown_in": len(organisation_cases.programmes_showing(organisation.id))},
        organisation=organisation,
    )
