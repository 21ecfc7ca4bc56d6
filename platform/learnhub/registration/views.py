"""Registering, the answer page, "My programmes", cancelling, the waiting list, answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import cast

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..accounts.link_pages import link_page
from ..accounts.models import User
from ..accounts.services import ParticipantDetails
from ..catalogue import services as catalogue
from ..extensions import db, limiter
from ..forms import ActionForm
from ..learning import services as learning
from ..notifications.ics import programme_calendar
from ..notifications.policy import reminder_promise
from ..pagination import requested_page
from ..templating import viewer_timezone, viewer_timezone_known
from ..use_cases import attempt, run_use_case
from . import services
from .errors import AnswersRefused
from .forms import RegistrationForm, answers_form, with_questions
from .models import Registration
from .questions import answer_problems

bp = Blueprint("registration", __name__)


def _prefill(form: RegistrationForm) -> None:
    # The viewer's zone when known (their choice or tz.js's guess), else left for them to give.
    form.timezone.data = viewer_timezone() if viewer_timezone_known() else ""
    if current_user.is_authenticated:
        form.full_name.data = current_user.full_name
        form.email.data = current_user.email
        form.organisation.data = current_user.organisation_name
        form.city.data = current_user.city
        form.country.data = current_user.country
        form.timezone.data = current_user.timezone


@bp.route("/programmes/<slug>/register", methods=["GET", "POST"])
@limiter.limit("20 per minute; 200 per hour", methods=["POST"])
def register(slug: str):
    # The form holds the fields every programme has. The use case finds the programme by its
    # address and checks the answers against its questions under its own lock, so a form
    # that is accepted costs no reading of the programme beforehand.
    form = RegistrationForm()
    if form.validate_on_submit():
        done, result = run_use_case(form, services.register, _registration_input(form, slug))
        if done:
            result = cast(services.RegistrationResult, result)
            session["last_registration"] = {
                "id": result.registration_id,
                "already": result.already_registered,
                "email": form.email.data.strip().lower(),
            }
            return redirect(url_for("registration.registered", slug=slug))
    programme = catalogue.open_programme(slug)
    if programme is None:
        abort(404)
    page = _with_the_questions(form, services.questions_of(programme.id))
    if request.method == "GET":
        _prefill(page)
    return (
        render_template(
            "registration/register.html",
            programme=programme,
            form=page,
            seats_left=catalogue.seats_left(programme, programme.confirmed_count),
            is_open=services.registration_is_open(programme),
        ),
        422 if request.method == "POST" else 200,
    )


def _with_the_questions(sent: RegistrationForm, questions: list) -> RegistrationForm:
    """The form as the page shows it: `sent` with the programme's questions among its fields.
    A refused form keeps what was typed and every error: the sent fields' own, and each
    answer's beside its question (the use case's rules: `questions.answer_problems`)."""
    if not questions:
        return sent
    page = with_questions(RegistrationForm, questions)()
    if request.method == "GET":
        return page
    refusal = getattr(sent, "refusal", None)
    # Refused answers are said beside their questions, below, not above the form.
    page.form_errors = [] if isinstance(refusal, AnswersRefused) else list(sent.form_errors)
    for field in sent:
        page[field.name].errors = list(field.errors)
    for name, problem in answer_problems(questions, _sent_answers()).items():
        page[name].errors = [problem]
    return page


def _registration_input(form: RegistrationForm, slug: str) -> services.RegistrationInput:
    return services.RegistrationInput(
        programme_id=None,
        programme_slug=slug,
        participant=ParticipantDetails(
            full_name=form.full_name.data,
            email=form.email.data,
            organisation=form.organisation.data or None,
            city=form.city.data or None,
            country=form.country.data or None,
            timezone=form.timezone.data,
        ),
        consent=form.consent.data,
        answers=_sent_answers(),
    )


def _sent_answers() -> dict[int, list[str]]:
    """The answers as sent, by question id (each `q_<id>` field's values)."""
    return {
        int(name[2:]): request.form.getlist(name)
        for name in request.form
        if _QUESTION_KEY.fullmatch(name)
    }


#: `q_<id>` written one way only (q_5, not q_05 or other digits), so each question has one
#: answer and the form shown again shows the answer that was checked.
_QUESTION_KEY = re.compile(r"q_[1-9][0-9]{0,17}")


@bp.get("/programmes/<slug>/registered")
def registered(slug: str):
    """The answer page: what happens next. Only the browser that registered sees it."""
    programme = catalogue.open_programme(slug)
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
        place=services.waitlist_place(registration),
        already=last["already"],
        email=last["email"],
        reminders=reminder_promise(programme),
    )


@bp.get("/programmes/<slug>/calendar.ics")
def calendar(slug: str):
    """Every session of the programme as an .ics file, to add to any calendar."""
    programme = catalogue.open_programme(slug)
    if programme is None:
        abort(404)
    return Response(
        programme_calendar(programme, programme.sessions),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{programme.slug}.ics"'},
    )


@bp.get("/me/programmes")
@login_required
def my_programmes():
    shown = services.registrations_of(current_user, requested_page())
    return render_template(
        "registration/my_programmes.html",
        registrations=shown.items,
        pages=shown,
        places=services.waitlist_places(shown.items),
        progress_by=learning.progress_of(shown.items),
        cancel_form=ActionForm(),
        next_session_of=catalogue.upcoming_session,
        is_open=services.registration_is_open,
    )


def _own_action(
    use_case: Callable[[int, User], Registration], registration_id: int, done: str
) -> ResponseReturnValue:
    """A participant's button on "My programmes": CSRF-checked, one use case, a flash."""
    if not ActionForm().validate_on_submit():
        abort(400)
    ok, registration = attempt(use_case, registration_id, current_user)
    if ok:
        registration = cast(Registration, registration)
        flash(done.format(title=registration.programme.title), "success")
    return redirect(url_for("registration.my_programmes"))


@bp.post("/me/registrations/<int:registration_id>/cancel")
@login_required
def cancel(registration_id: int):
    return _own_action(
        services.cancel, registration_id, "Your registration for {title} is cancelled."
    )


@bp.post("/me/registrations/<int:registration_id>/leave-waiting-list")
@login_required
def leave_waiting_list(registration_id: int):
    return _own_action(
        services.leave_waiting_list,
        registration_id,
        "You have left the waiting list for {title}.",
    )


@bp.route("/me/registrations/<int:registration_id>/answers", methods=["GET", "POST"])
@login_required
def edit_answers(registration_id: int):
    registration = services.own_registration(registration_id, current_user)
    if registration is None:
        abort(404)
    programme = registration.programme
    questions = services.questions_of(programme.id)
    form = answers_form(questions, registration if request.method == "GET" else None)
    if form.validate_on_submit():
        done, _ = run_use_case(
            form, services.edit_answers, registration_id, current_user, form.answers()
        )
        if done:
            flash(f"Your answers for {programme.title} are saved.", "success")
            return redirect(url_for("registration.my_programmes"))
    return (
        render_template(
            "registration/answers.html",
            programme=programme,
            form=form,
            is_open=services.registration_is_open(programme),
        ),
        422 if request.method == "POST" else 200,
    )


@bp.route("/registrations/cancel/<token>", methods=["GET", "POST"])
def cancel_with_link(token: str):
    """From any email, without signing in: GET asks to confirm, only the POST cancels."""

    def showing(template: str):
        return lambda registration, form: render_template(
            template, registration=registration, form=form
        )

    return link_page(
        token,
        ask=(services.registration_for_link, showing("registration/confirm_cancel.html")),
        act=(services.cancel_with_link, showing("registration/cancelled.html")),
        refused=("registration/link_invalid.html", 404),
    )
