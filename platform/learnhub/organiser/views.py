"""The organiser workspace. Access is checked here, once, for every route (rule 8)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice

from ..attendance import services as attendance
from ..attendance.models import ATTENDANCE_STATUSES
from ..catalogue.services import seats_left
from ..extensions import db, login_manager
from . import services

bp = Blueprint("organiser", __name__, url_prefix="/organiser")

#: The team right each route needs; routes without a slug only need the organiser role.
ROUTE_RIGHTS = {
    "organiser.programme": "manage_registrations",
    "organiser.attendance_sheet": "manage_attendance",
    "organiser.attendance_summary": "manage_attendance",
}


@bp.before_request
def require_organiser():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_organiser:
        abort(403)
    slug = (request.view_args or {}).get("slug")
    if slug is not None:
        right = ROUTE_RIGHTS[request.endpoint]
        programme = services.programme_for(current_user, slug, right)
        if programme is None:
            abort(404)
        g.programme = programme
    return None


@bp.get("/")
def home():
    return render_template(
        "organiser/home.html", programmes=services.managed_programmes(current_user)
    )


@bp.get("/programmes/<slug>")
def programme(slug: str):
    counts = services.registration_counts(g.programme.id)
    return render_template(
        "organiser/programme.html",
        programme=g.programme,
        counts=counts,
        seats_left=seats_left(g.programme, counts.get("confirmed", 0)),
        registrations=attendance.confirmed_registrations(g.programme.id),
    )


def _sheet_form(rows) -> FlaskForm:
    class SheetForm(FlaskForm):
        pass

    for row in rows:
        setattr(
            SheetForm,
            f"r{row.registration.id}",
            RadioField(
                row.registration.user.full_name,
                choices=[SelectChoice(s, s.capitalize()) for s in ATTENDANCE_STATUSES],
                default=row.status,
                validate_choice=False,  # the service refuses unknown marks
            ),
        )
    return SheetForm()


@bp.route("/programmes/<slug>/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
def attendance_sheet(slug: str, session_id: int):
    session = services.session_of(g.programme, session_id)
    if session is None:
        abort(404)
    rows = attendance.attendance_sheet(session)
    form = _sheet_form(rows)
    if request.method == "POST":
        if form.validate():
            marks = {
                row.registration.id: form[f"r{row.registration.id}"].data
                for row in rows
                if form[f"r{row.registration.id}"].data
            }
            try:
                changed = attendance.record_attendance(session, marks, current_user)
            except attendance.AttendanceError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                flash(
                    f"Attendance saved ({changed} change{'s' if changed != 1 else ''}).", "success"
                )
                return redirect(request.path)
        else:
            flash("The form had expired. Please mark attendance again.", "error")
    return render_template(
        "organiser/attendance_sheet.html",
        programme=g.programme,
        session=session,
        rows=rows,
        form=form,
    )


@bp.get("/programmes/<slug>/attendance")
def attendance_summary(slug: str):
    return render_template(
        "organiser/attendance_summary.html",
        programme=g.programme,
        summary=attendance.programme_summary(g.programme),
    )
