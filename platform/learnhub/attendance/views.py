"""Attendance pages. `bp`: the organiser's (under /organiser, each route's right declared
with `@requires`); `participant_bp`: self check-in and "My attendance"."""

from __future__ import annotations

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from ..access import guard_programmes, requires
from ..forms import ActionForm, parse_id
from ..pagination import requested_page
from ..use_cases import attempt, run_use_case
from . import checkin, exports, imports, services
from .forms import CheckInCodeForm, CompletionRuleForm, ImportForm, OpenCheckInForm, sheet_form
from .models import ATTENDANCE_STATUSES
from .services.report import lines_page

bp = Blueprint("attendance", __name__, url_prefix="/organiser")
participant_bp = Blueprint("attendance_participant", __name__)


guard_programmes(bp)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _this_page():
    """Back to the page as it was asked for (the same page of a list)."""
    return redirect(request.full_path.rstrip("?"))


def _session_page(name: str, **context) -> str:
    """One of the session's pages: its programme and session beside what it shows."""
    return render_template(
        f"attendance/{name}.html", programme=g.programme, session=g.session, **context
    )


# --- the sheet -----------------------------------------------------------------------------


@bp.route("/programmes/<slug>/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@requires("manage_attendance")
def attendance_sheet(slug: str, session_id: int):
    sheet = services.attendance_sheet(g.session, requested_page())
    form = sheet_form(sheet.rows)
    if request.method == "POST":
        if not form.validate():
            flash("The form had expired. Please mark attendance again.", "error")
        else:
            _, changed = attempt(*_sheet_action(form, sheet.rows))
            if changed is not None:  # else refused
                flash(f"Attendance saved ({_plural(changed, 'change')}).", "success")
                return _this_page()
    return _session_page("sheet", sheet=sheet, form=form, statuses=ATTENDANCE_STATUSES)


def _sheet_action(form, rows) -> tuple:
    """The button pressed decides the use case: save the marks, or a bulk action; (use case,
    its arguments)."""
    action = request.form.get("action", "save")
    if action == "bulk":
        status = request.form.get("bulk_status", "")
        selected = [i for i in map(parse_id, request.form.getlist("selected")) if i is not None]
        return services.mark_in_bulk, g.session.id, selected, status, current_user
    if action == "absent_unmarked":
        return services.mark_in_bulk, g.session.id, None, "absent", current_user
    marks = {}
    for row in rows:
        name = f"r{row.registration.id}"
        if row.expected and name in request.form:
            marks[row.registration.id] = form[name].data or None
    return services.record_attendance, g.session.id, marks, current_user


# --- self check-in, organiser side ---------------------------------------------------------


def _qr_svg(url: str) -> Markup:
    """The check-in link as an inline SVG QR code (no script, no image request)."""
    svg = segno.make(url, error="m").svg_inline(scale=6, border=2, title="QR code: " + url)
    return Markup(svg)


@bp.route("/programmes/<slug>/sessions/<int:session_id>/check-in", methods=["GET", "POST"])
@requires("manage_attendance")
def check_in(slug: str, session_id: int):
    form = OpenCheckInForm()
    if form.validate_on_submit():
        grace = form.grace_minutes.data
        ok, _ = attempt(checkin.open_check_in, g.session.id, grace, current_user)
        if ok:
            flash("Check-in is open. Show this page on screen.", "success")
            return redirect(request.path)
    page = checkin.check_in_page(g.session, requested_page())
    link = qr = None
    if page.check_in is not None and page.check_in.opened_at is not None:
        base = current_app.config.get("BASE_URL", request.host_url.rstrip("/"))
        link = base + url_for("attendance_participant.self_check_in", code=page.check_in.code)
        qr = _qr_svg(link)
    return _session_page("check_in", page=page, form=form, link=link, qr=qr)


@bp.post("/programmes/<slug>/sessions/<int:session_id>/check-in/close")
@requires("manage_attendance")
def close_check_in(slug: str, session_id: int):
    if ActionForm().validate_on_submit():
        if attempt(checkin.close_check_in, g.session.id, current_user.id)[0]:
            flash("Check-in is closed.", "success")
    else:
        flash("The form had expired. Please try again.", "error")
    return redirect(url_for(".check_in", slug=slug, session_id=session_id))


# --- meeting report imports ----------------------------------------------------------------


@bp.route("/programmes/<slug>/sessions/<int:session_id>/import", methods=["GET", "POST"])
@requires("manage_attendance")
def import_report(slug: str, session_id: int):
    asked = request.method == "GET"
    form = ImportForm(times_timezone=g.session.timezone) if asked else ImportForm()
    if form.validate_on_submit():
        upload = form.report.data
        staged = (g.session.id, upload.filename, upload.read(), form.settings(), current_user)
        ok, import_id = run_use_case(form, imports.stage_import, *staged)
        if ok:
            return redirect(
                url_for(".import_preview", slug=slug, session_id=session_id, import_id=import_id)
            )
    status = 422 if request.method == "POST" else 200
    return _session_page("import", form=form), status


@bp.route(
    "/programmes/<slug>/sessions/<int:session_id>/import/<int:import_id>",
    methods=["GET", "POST"],
)
@requires("manage_attendance")
def import_preview(slug: str, session_id: int, import_id: int):
    form = ActionForm()
    if request.method == "POST" and not form.validate():
        flash("The form had expired. Please try again.", "error")
    elif request.method == "POST" and _apply_or_discard(import_id):
        return redirect(url_for(".attendance_sheet", slug=slug, session_id=session_id))
    ok, preview = attempt(imports.preview_import, g.session, import_id)
    if not ok:
        return redirect(url_for(".import_report", slug=slug, session_id=session_id))
    return _session_page("import_preview", preview=preview, form=form)


def _apply_or_discard(import_id: int) -> bool:
    """The organiser's choice on the preview; whether it was done."""
    if request.form.get("action") == "discard":
        ok, _ = attempt(imports.discard_import, g.session.id, import_id)
        if ok:
            flash("The report was discarded; nothing changed.", "success")
        return ok
    chosen = _chosen_matches()
    ok, changed = attempt(imports.apply_import, g.session.id, import_id, chosen, current_user)
    if changed is not None:  # else refused
        flash(f"Report imported ({_plural(changed, 'change')}).", "success")
    return ok


def _chosen_matches() -> dict[str, str]:
    """The organiser's matches for unmatched rows: key-N names the row, match-N the
    registrant's email ("" leaves it ignored)."""
    return {
        key: request.form.get("match-" + name[4:], "")[:320]
        for name, key in request.form.items()
        if name.startswith("key-")
    }


# --- the programme's report ----------------------------------------------------------------


@bp.route("/programmes/<slug>/attendance", methods=["GET", "POST"])
@requires("manage_attendance")
def attendance_summary(slug: str):
    asked = request.method == "GET"
    form = CompletionRuleForm(obj=g.programme) if asked else CompletionRuleForm()
    if form.validate_on_submit():
        percent = form.completion_percent.data
        ok, _ = attempt(services.set_completion_rule, g.programme.id, percent, current_user.id)
        if ok:
            flash("Completion rule saved.", "success")
            return redirect(request.path)
    report = services.programme_report(g.programme)
    return render_template(
        "attendance/report.html",
        programme=g.programme,
        report=report,
        below_rule=lines_page(report.below_rule, requested_page("below")),
        matrix=lines_page(report.participants, requested_page()),
        form=form,
    )


@bp.get("/programmes/<slug>/attendance.csv")
@requires("manage_attendance")
def export_csv(slug: str):
    report = services.programme_report(g.programme)
    return current_app.response_class(
        stream_with_context(exports.matrix_csv(report)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{slug}-attendance.csv"'},
    )


@bp.get("/programmes/<slug>/attendance.xlsx")
@requires("manage_attendance")
def export_xlsx(slug: str):
    workbook = exports.matrix_xlsx(services.programme_report(g.programme))
    return send_file(
        workbook,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{slug}-attendance.xlsx",
    )


# --- participants --------------------------------------------------------------------------


@participant_bp.route("/check-in", methods=["GET", "POST"])
@login_required
def self_check_in():
    """Type the code on screen, or arrive here from its QR code with ?code= filled in."""
    form = CheckInCodeForm()
    if request.method == "GET" and request.args.get("code"):
        form.code.data = request.args["code"][:20]
    status = 200
    if form.validate_on_submit():
        ok, result = run_use_case(form, checkin.check_in, current_user, form.code.data)
        if ok:
            return render_template("attendance/checked_in.html", result=result)
        status = form.refusal.status  # 429 after too many wrong codes, else 422
    elif request.method == "POST":
        status = 422
    return render_template("attendance/check_in_code.html", form=form), status


@participant_bp.get("/me/attendance")
@login_required
def my_attendance():
    return render_template(
        "attendance/my_attendance.html", programmes=services.attendance_of(current_user)
    )
