"""Registering, the answer page, "My programmes" and cancelling."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from ..accounts.services import ParticipantDetails
from ..catalogue import services as catalogue
from ..extensions import db
from ..forms import ActionForm
from ..templating import viewer_timezone
from . import services
from .forms import RegistrationForm
from .models import Registration

bp = Blueprint("registration", __name__)


@bp.route("/programmes/<slug>/register", methods=["GET", "POST"])
def register(slug: str):
    programme = catalogue.public_programme(slug)
    if programme is None:
        abort(404)
    form = RegistrationForm()
    if request.method == "GET":
        form.timezone.data = viewer_timezone() if viewer_timezone() != "UTC" else programme.timezone
        if current_user.is_authenticated:
            form.full_name.data = current_user.full_name
            form.email.data = current_user.email
            form.organisation.data = current_user.organisation_name
            form.city.data = current_user.city
            form.country.data = current_user.country
            form.timezone.data = current_user.timezone
    if form.validate_on_submit():
        data = services.RegistrationInput(
            programme_id=programme.id,
            participant=ParticipantDetails(
                full_name=form.full_name.data,
                email=form.email.data,
                organisation=form.organisation.data or None,
                city=form.city.data or None,
                country=form.country.data or None,
                timezone=form.timezone.data,
            ),
            consent=form.consent.data,
        )
        try:
            result = services.register(data)
        except services.RegistrationError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            session["last_registration"] = {
                "id": result.registration_id,
                "already": result.already_registered,
                "email": form.email.data.strip().lower(),
            }
            return redirect(url_for("registration.registered", slug=slug))
    confirmed = catalogue.confirmed_counts([programme.id]).get(programme.id, 0)
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "registration/register.html",
            programme=programme,
            form=form,
            seats_left=catalogue.seats_left(programme, confirmed),
        ),
        status,
    )


@bp.get("/programmes/<slug>/registered")
def registered(slug: str):
    """The answer page: what happens next. Only the browser that registered sees it."""
    programme = catalogue.public_programme(slug)
    last = session.get("last_registration")
    if programme is None or not last:
        abort(404)
    registration = db.session.get(Registration, last["id"])
    if registration is None or registration.programme_id != programme.id:
        abort(404)
    return render_template(
        "registration/registered.html",
        programme=programme,
        registration=registration,
        already=last["already"],
        email=last["email"],
    )


@bp.get("/me/programmes")
@login_required
def my_programmes():
    return render_template(
        "registration/my_programmes.html",
        registrations=services.registrations_of(current_user),
        cancel_form=ActionForm(),
        next_session_of=catalogue.upcoming_session,
    )


@bp.post("/me/registrations/<int:registration_id>/cancel")
@login_required
def cancel(registration_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        registration = services.cancel(registration_id, current_user)
    except services.RegistrationError:
        abort(404)
    flash(f"Your registration for {registration.programme.title} is cancelled.", "success")
    return redirect(url_for("registration.my_programmes"))
