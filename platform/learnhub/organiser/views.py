"""The organiser workspace's own pages: the dashboard, a programme's overview and registrants,
its registration settings and questions, and its team. Each programme route declares the team
right it needs (`@requires`; the blueprint checks it before the view runs); every write goes
through `use_cases.run_use_case` (a form) or `use_cases.attempt` (a button)."""

from __future__ import annotations

from typing import cast

from flask import Response, abort, flash, g, redirect, request, stream_with_context, url_for
from flask_login import current_user

from ..access import requires
from ..accounts.models import ProgrammeTeamMember
from ..catalogue.services import seats_left
from ..forms import ActionForm, ConfirmForm, confirmation_page, parse_id
from ..pagination import requested_page
from ..registration import services as registration
from ..registration.models import Registration
from ..timefmt import local_to_utc, utc_to_local
from ..use_cases import attempt, run_use_case, show
from . import dashboard, services
from .blueprint import bp
from .forms import (
    DecisionForm,
    MoveForm,
    QuestionForm,
    RegistrantFilterForm,
    RegistrationSettingsForm,
    TeamMemberForm,
)

STATE_VALUES = ("pending", "confirmed", "waitlisted", "cancelled", "rejected")


@bp.get("/")
def home():
    programmes = services.managed_programmes(current_user, requested_page())
    return show(
        "organiser/home.html", programmes=programmes, lines=dashboard.home_figures(programmes)
    )


@bp.get("/programmes/<slug>")
@requires("manage_registrations")
def programme(slug: str):
    overview = dashboard.programme_dashboard(g.programme)
    return show(
        "organiser/programme.html",
        programme=g.programme,
        counts=overview.counts,
        seats_left=seats_left(g.programme, overview.counts.get("confirmed", 0)),
        overview=overview,
        registrations=services.confirmed_page(g.programme.id, requested_page()),
    )


def _seats() -> dict:
    """The programme and its registrations by state, for the pages that show them."""
    counts = services.registration_counts(g.programme.id)
    left = seats_left(g.programme, counts.get("confirmed", 0))
    return {"programme": g.programme, "counts": counts, "seats_left": left}


# --- registrants ------------------------------------------------------------------------------


def _filter_form(programme) -> tuple[RegistrantFilterForm, services.RegistrantFilter]:
    form = RegistrantFilterForm(request.args)
    questions = registration.questions_of(programme.id)
    form.question.choices = [("", "Any question")] + [(str(q.id), q.label) for q in questions]
    filters = services.RegistrantFilter(
        search=(form.q.data or "")[:200],
        status=form.status.data if form.status.data in STATE_VALUES else "",
        question_id=parse_id(form.question.data),
        answer=(form.answer.data or "")[:200],
    )
    return form, filters


@bp.get("/programmes/<slug>/registrants")
@requires("manage_registrations")
def registrants(slug: str):
    form, filters = _filter_form(g.programme)
    return show(
        "organiser/registrants.html",
        **_seats(),
        filter_form=form,
        rows=services.registrant_page(g.programme.id, filters, requested_page()),
        places=services.waitlist_places(g.programme.id),
        questions=registration.questions_of(g.programme.id),
        decision_form=DecisionForm(),
        move_form=MoveForm(),
        csv_args={name: value for name, value in request.args.items() if name != "page"},
    )


@bp.get("/programmes/<slug>/registrants.csv")
@requires("manage_registrations")
def registrants_csv(slug: str):
    _, filters = _filter_form(g.programme)
    lines = services.registrants_csv(g.programme, filters)
    name = f"{g.programme.slug}-registrants.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _back_to_registrants():
    """Back to the list as it was: its filters and page travel in `return_query`."""
    target = url_for("organiser.registrants", slug=g.programme.slug)
    query = request.form.get("return_query", "")
    return redirect(f"{target}?{query}" if query and "\n" not in query else target)


@bp.post("/programmes/<slug>/registrants/decide")
@requires("manage_registrations")
def decide(slug: str):
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("Choose approve or reject and tick at least one person.", "error")
        return _back_to_registrants()
    ids = form.ids.data or []
    if form.action.data == "approve":
        done, outcome = attempt(registration.approve, g.programme.id, ids, user_id=current_user.id)
        if done:
            flash(_approved_in_words(cast("dict[str, int]", outcome)), "success")
    else:
        done, rejected = attempt(registration.reject, g.programme.id, ids, user_id=current_user.id)
        if done:
            flash(f"Rejected {rejected}. Each has been emailed.", "success")
    return _back_to_registrants()


def _approved_in_words(outcome: dict[str, int]) -> str:
    message = f"Approved: {outcome['confirmed']} confirmed"
    if outcome["waitlisted"]:
        message += f", {outcome['waitlisted']} on the waiting list (no seats left)"
    return message + ". Each has been emailed."


@bp.post("/programmes/<slug>/registrants/<int:registration_id>/move")
@requires("manage_registrations")
def move_registration(slug: str, registration_id: int):
    form = MoveForm()
    if not form.validate_on_submit():
        flash("Choose a state from the list.", "error")
        return _back_to_registrants()
    done, moved = attempt(
        registration.move_registration,
        g.programme.id,
        registration_id,
        form.status.data,
        user_id=current_user.id,
    )
    if done:
        moved = cast(Registration, moved)
        flash(f"{moved.user.full_name} is now {moved.status}; they have been emailed.", "success")
    return _back_to_registrants()


# --- registration settings and questions -----------------------------------------------------


def _settings_form(programme) -> RegistrationSettingsForm:
    """The form as sent, or on a GET filled with the programme's settings in its own zone."""
    if request.method == "POST":
        return RegistrationSettingsForm()
    tz = programme.timezone
    return RegistrationSettingsForm(
        data={
            "capacity": programme.capacity,
            "opens_at": utc_to_local(programme.registration_opens_at, tz),
            "closes_at": utc_to_local(programme.registration_closes_at, tz),
            "approval_required": programme.approval_required,
            "waitlist_enabled": programme.waitlist_enabled,
        }
    )


def _settings_input(form: RegistrationSettingsForm, tz: str) -> registration.RegistrationSettings:
    return registration.RegistrationSettings(
        capacity=form.capacity.data,
        opens_at=local_to_utc(form.opens_at.data, tz),
        closes_at=local_to_utc(form.closes_at.data, tz),
        approval_required=form.approval_required.data,
        waitlist_enabled=form.waitlist_enabled.data,
    )


@bp.route("/programmes/<slug>/registration-settings", methods=["GET", "POST"])
@requires("manage_programme")
def registration_settings(slug: str):
    form = _settings_form(g.programme)
    if form.validate_on_submit():
        settings = _settings_input(form, g.programme.timezone)
        done, promoted = run_use_case(
            form,
            registration.update_registration_settings,
            g.programme.id,
            settings,
            user_id=current_user.id,
        )
        if done:
            moved = f" {promoted} people moved from the waiting list to a seat." if promoted else ""
            flash("Registration settings saved." + moved, "success")
            return redirect(url_for("organiser.registration_settings", slug=slug))
    return show("organiser/registration_settings.html", programme=g.programme, form=form)


def _add_question(form: QuestionForm) -> bool:
    """Add the question the form describes; False with the refusal on the form."""
    question = services.QuestionInput(
        label=form.label.data,
        kind=form.kind.data,
        required=form.required.data,
        choices=[c.strip() for c in (form.choices.data or "").splitlines() if c.strip()],
    )
    done, _ = run_use_case(form, services.add_question, g.programme.id, question, current_user.id)
    return done


@bp.route("/programmes/<slug>/questions", methods=["GET", "POST"])
@requires("manage_programme")
def questions(slug: str):
    form = QuestionForm()
    if form.validate_on_submit() and _add_question(form):
        flash("Question added to the registration form.", "success")
        return redirect(url_for("organiser.questions", slug=slug))
    return show(
        "organiser/questions.html",
        programme=g.programme,
        form=form,
        questions=registration.questions_of(g.programme.id),
        question_action=ActionForm(),
    )


def _pressed(use_case, *args, done: str | None = None) -> None:
    """A button of a programme's page: `use_case(programme id, *args, organiser's id)`, its
    refusal flashed, `done` flashed when it went through."""
    if not ActionForm().validate_on_submit():
        abort(400)
    if attempt(use_case, g.programme.id, *args, current_user.id)[0] and done:
        flash(done, "success")


@bp.post("/programmes/<slug>/questions/<int:question_id>/delete")
@requires("manage_programme")
def delete_question(slug: str, question_id: int):
    form = ConfirmForm()
    question = services.question_in(g.programme.id, question_id)
    if question is not None and form.validate_on_submit() and not form.is_confirmed:
        return confirmation_page(
            form,
            programme=g.programme,
            title=f"Remove the question “{question.label}”?",
            happens=[
                "The question leaves the registration form, and every answer to it is removed."
            ],
            told="nobody is emailed.",
            button="Remove the question and its answers",
            back=url_for("organiser.questions", slug=g.programme.slug),
        )
    _pressed(services.delete_question, question_id)
    return redirect(url_for("organiser.questions", slug=slug))


@bp.post("/programmes/<slug>/questions/<int:question_id>/move/<any(up, down):direction>")
@requires("manage_programme")
def move_question(slug: str, question_id: int, direction: str):
    _pressed(services.move_question, question_id, -1 if direction == "up" else 1)
    return redirect(url_for("organiser.questions", slug=slug))


# --- the programme's team ---------------------------------------------------------------------


def _rights(form: TeamMemberForm) -> services.TeamRights:
    return services.TeamRights(
        manage_programme=form.manage_programme.data,
        manage_registrations=form.manage_registrations.data,
        manage_attendance=form.manage_attendance.data,
    )


@bp.route("/programmes/<slug>/team", methods=["GET", "POST"])
@requires("manage_programme")
def team(slug: str):
    form = TeamMemberForm()
    if form.validate_on_submit():
        rights = _rights(form)
        done, member = run_use_case(
            form, services.set_team_member, g.programme.id, form.email.data, rights, current_user.id
        )
        if done:
            member = cast(ProgrammeTeamMember, member)
            flash(f"{member.user.full_name}'s rights are saved.", "success")
            return redirect(url_for("organiser.team", slug=slug))
    return show(
        "organiser/team.html",
        programme=g.programme,
        form=form,
        members=services.team_of(g.programme.id, requested_page()),
        remove_form=ActionForm(),
    )


@bp.post("/programmes/<slug>/team/<int:member_id>/remove")
@requires("manage_programme")
def remove_team_member(slug: str, member_id: int):
    _pressed(services.remove_team_member, member_id, done="Removed from the team.")
    return redirect(url_for("organiser.team", slug=slug))
