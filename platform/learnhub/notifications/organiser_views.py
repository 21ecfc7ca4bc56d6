"""Organisers' and administrators' email pages: reminders, announcements, deliveries, session
moves, cancellations and recordings (`notifications_organiser`, per-programme rights), and
failed messages (`outbox_admin`, administrators). Each blueprint checks access in one place."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ..access import guard_admin, guard_programmes, may, requires
from ..catalogue import services as catalogue
from ..catalogue.authoring import AuthoringError, session_instants
from ..extensions import db
from ..forms import ActionForm, ConfirmForm, confirmation_page, parse_id
from ..timefmt import format_moment, zone
from ..use_cases import attempt, run_use_case
from . import announcements, policy
from .forms import AnnouncementForm, RecordingForm, ReminderPolicyForm, ScheduleForm
from .models import Announcement

organiser_bp = Blueprint("notifications_organiser", __name__, url_prefix="/organiser")
admin_bp = Blueprint("outbox_admin", __name__, url_prefix="/admin")
#: Rows a page of a list shows (announcements, failed emails).
PAGE_SIZE = 100
#: Where a session's pages are (schedule, cancel, recording).
SESSION_PATH = "/programmes/<slug>/sessions/<int:session_id>"


# --- organisers: reminders, announcements, deliveries, session changes ----------------------

guard_programmes(organiser_bp)


def _posted_confirmation() -> ConfirmForm:
    """The confirmation half of a posted page (whether it is confirmed, the note's length)."""
    confirm = ConfirmForm()
    confirm.validate()
    return confirm


def _programme_page(name: str, **context) -> str:
    """`notifications/<name>.html` about the programme the request is on."""
    return render_template(f"notifications/{name}.html", programme=g.programme, **context)


@organiser_bp.route("/programmes/<slug>/reminders", methods=["GET", "POST"])
@requires("manage_programme")
def reminders(slug: str):
    default = current_app.config["REMINDER_OFFSETS_MINUTES"]
    sessions = list(g.programme.sessions)
    form = ReminderPolicyForm()
    if request.method == "GET":
        form.offsets.data = list(policy.offsets_for(g.programme.id, default))
    if form.validate_on_submit():
        enabled = {s.id: request.form.get(f"session-{s.id}") == "on" for s in sessions}
        saved, _ = run_use_case(
            form,
            policy.set_reminder_policy,
            g.programme.id,
            form.offsets.data or [],
            enabled,
            current_user.id,
        )
        if saved:
            flash("Reminder settings saved.", "success")
            return redirect(request.path)
    return _programme_page("organiser_reminders", sessions=sessions, form=form)


@organiser_bp.route(
    "/programmes/<slug>/announcements", methods=["GET", "POST"], endpoint="announcements"
)
@requires("manage_programme")
def announcements_page(slug: str):
    form = AnnouncementForm()
    sessions = list(g.programme.sessions)
    form.session_id.choices = [(0, "—")] + [(s.id, s.title) for s in sessions]
    if form.validate_on_submit():
        data = announcements.AnnouncementInput(
            programme_id=g.programme.id,
            author_id=current_user.id,
            subject=form.subject.data,
            body=form.body.data,
            audience=form.audience.data,
            session_id=form.session_id.data or None,
        )
        created, draft = run_use_case(form, announcements.create_draft, data)
        if created and draft is not None:
            return redirect(
                url_for(
                    "notifications_organiser.announcement",
                    slug=g.programme.slug,
                    announcement_id=draft.id,
                )
            )
    history = db.paginate(
        db.select(Announcement)
        .where(Announcement.programme_id == g.programme.id)
        .order_by(Announcement.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    status = 422 if request.method == "POST" else 200
    return (
        _programme_page(
            "organiser_announcements",
            form=form,
            history=history,
            labels=announcements.AUDIENCE_LABELS,
        ),
        status,
    )


def _announcement_or_404(announcement_id: int) -> Announcement:
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None or announcement.programme_id != g.programme.id:
        abort(404)
    return announcement


@organiser_bp.get("/programmes/<slug>/announcements/<int:announcement_id>")
@requires("manage_programme")
def announcement(slug: str, announcement_id: int):
    found = _announcement_or_404(announcement_id)
    return _programme_page(
        "organiser_announcement",
        announcement=found,
        preview=announcements.preview(found, g.programme, current_user),
        label=announcements.AUDIENCE_LABELS[found.audience],
        form=ActionForm(),
        progress=(announcements.delivery_progress(found.id) if found.status != "draft" else None),
    )


@organiser_bp.post("/programmes/<slug>/announcements/<int:announcement_id>/send")
@requires("manage_programme")
def send_announcement(slug: str, announcement_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    _announcement_or_404(announcement_id)
    sent, _ = attempt(
        announcements.queue_for_sending, announcement_id, g.programme.id, current_user.id
    )
    if sent:
        flash("Sending: the emails are being written. This page shows the progress.", "success")
    return redirect(
        url_for(
            "notifications_organiser.announcement",
            slug=g.programme.slug,
            announcement_id=announcement_id,
        )
    )


@organiser_bp.get("/programmes/<slug>/deliveries")
@requires("manage_registrations")
def deliveries(slug: str):
    page, rows = policy.delivery_report(g.programme.id, request.args.get("page", 1, type=int))
    return _programme_page("organiser_deliveries", page=page, rows=rows)


@organiser_bp.route(f"{SESSION_PATH}/schedule", methods=["GET", "POST"])
@requires("manage_programme")
def schedule(slug: str, session_id: int):
    session = g.session  # loaded, and checked to belong here, by require_programme_right
    form = ScheduleForm()
    if request.method == "GET":
        _fill_schedule(form, session)
    if form.validate_on_submit():
        confirm = _posted_confirmation()
        valid, instants = run_use_case(form, _instants, form, session.timezone)
        if valid and instants is not None:
            try:
                moved, _ = run_use_case(
                    form,
                    catalogue.reschedule_session,
                    g.programme.id,
                    session.id,
                    *instants,
                    confirm_past=bool(form.confirm_past.data),
                    user_id=current_user.id,
                    note=confirm.note.data or "",
                    confirmed=confirm.is_confirmed,
                )
            except catalogue.MoveNeedsConfirmation:
                return _confirm_move(confirm, form, session, *instants)
            if moved:
                flash("Session moved; registrants get a calendar update.", "success")
                return redirect(request.path)
    return _programme_page(
        "organiser_schedule", session=session, form=form, cancel_form=ActionForm()
    )


def _fill_schedule(form: ScheduleForm, session) -> None:
    """The session's times in its own zone, the one its authoring form shows and the session
    was entered in (a webinar's session may be in another zone than its programme)."""
    tz = zone(session.timezone)
    local_start = session.starts_at.astimezone(tz)
    local_end = session.ends_at.astimezone(tz)
    form.day.data = local_start.date()
    form.starts.data = local_start.time()
    form.ends.data = local_end.time()
    form.end_day.data = local_end.date() if local_end.date() != local_start.date() else None


#: The schedule form's field for each field `session_instants` names.
_SCHEDULE_FIELDS = {"start": "starts", "end": "ends", "end_day": "end_day"}


def _instants(form: ScheduleForm, timezone: str):
    """The form's start and end as instants; a time the clocks skip, or an end before the
    start, is refused beside its field."""
    try:
        return session_instants(
            form.day.data, form.starts.data, form.ends.data, timezone, end_day=form.end_day.data
        )
    except AuthoringError as error:
        raise AuthoringError(error.message, _SCHEDULE_FIELDS.get(error.field or "")) from error


def _ask_before_emailing(form: ConfirmForm, *, told: str, **page):
    """The page that asks before an action that emails the programme's confirmed registrants;
    `told` says how they are told."""
    count = g.programme.confirmed_count
    told = f"{count} confirmed registrant{'' if count == 1 else 's'}, {told}"
    return confirmation_page(form, programme=g.programme, told=told, note=True, **page)


def _confirm_move(confirm: ConfirmForm, form: ScheduleForm, session, starts_at, ends_at):
    return _ask_before_emailing(
        confirm,
        title=f"Move “{session.title}”?",
        happens=[
            f"From {format_moment(session.starts_at, session.timezone)} to "
            f"{format_moment(starts_at, session.timezone)} (ends "
            f"{format_moment(ends_at, session.timezone)}). Reminders follow the new time.",
        ],
        told="by email with the old "
        "and the new time and a calendar update that moves the event in their calendars.",
        button="Move the session and email them",
        back=request.path,
        carry={
            "day": form.day.raw_data[0] if form.day.raw_data else "",
            "starts": form.starts.raw_data[0] if form.starts.raw_data else "",
            "ends": form.ends.raw_data[0] if form.ends.raw_data else "",
            "end_day": form.end_day.raw_data[0] if form.end_day.raw_data else "",
            "confirm_past": "y" if form.confirm_past.data else "",
        },
    )


def _confirm_cancel(form: ConfirmForm, session):
    return _ask_before_emailing(
        form,
        title=f"Cancel “{session.title}”?",
        happens=[
            f"The session of {format_moment(session.starts_at, session.timezone)} is marked "
            "cancelled everywhere it is listed and leaves the programme's totals; its "
            "reminders are not sent.",
        ],
        told="by email with a calendar update that removes it from their calendars.",
        button="Cancel the session and email them",
        back=url_for(
            "notifications_organiser.schedule", slug=g.programme.slug, session_id=session.id
        ),
    )


@organiser_bp.post(f"{SESSION_PATH}/cancel")
@requires("manage_programme")
def cancel_session(slug: str, session_id: int):
    form = ConfirmForm()
    valid = form.validate_on_submit()
    if not valid and not form.note.errors:
        abort(400)  # the form had expired
    if not valid or not form.is_confirmed:  # the first press, or a note too long
        return _confirm_cancel(form, g.session)
    cancelled, _ = attempt(
        catalogue.cancel_session,
        g.programme.id,
        session_id,
        note=form.note.data or "",
        user_id=current_user.id,
    )
    if cancelled:
        flash("Session cancelled; registrants are told and their calendars updated.", "success")
    return redirect(
        url_for("notifications_organiser.schedule", slug=g.programme.slug, session_id=session_id)
    )


def _confirm_recording(form: ConfirmForm, session, recording: RecordingForm):
    return _ask_before_emailing(
        form,
        title=f"Send the recording of “{session.title}”?",
        happens=[f"The recording {recording.url.data} is added to the session and the programme."],
        told="by email: those who "
        "attended and those who missed it, with the link and the guidebook.",
        button="Add the recording and email them",
        back=request.path,
        carry={"url": recording.url.data, "title": recording.title.data or ""},
    )


@organiser_bp.route(f"{SESSION_PATH}/recording", methods=["GET", "POST"])
@requires("manage_programme")
def recording(slug: str, session_id: int):
    session = g.session  # loaded, and checked to belong here, by require_programme_right
    form = RecordingForm()
    if form.validate_on_submit():
        confirm = _posted_confirmation()
        if not confirm.is_confirmed:
            return _confirm_recording(confirm, session, form)
        added, _ = run_use_case(
            form,
            catalogue.add_recording,
            g.programme.id,
            session.id,
            form.title.data or "",
            form.url.data,
            current_user.id,
            note=confirm.note.data or "",
        )
        if added:
            flash("Recording added; registrants get the follow-up email.", "success")
            back = "organiser.programme" if may("organiser.programme", g.programme) else None
            return redirect(url_for(back or "organiser.edit_programme", slug=g.programme.slug))
    return _programme_page("organiser_recording", session=session, form=form)


# --- administrators: failed messages -----------------------------------------------------------


guard_admin(admin_bp)


@admin_bp.get("/outbox")
def outbox():
    messages = policy.failed_messages(request.args.get("page", 1, type=int))
    return render_template("notifications/admin_outbox.html", messages=messages, form=ActionForm())


@admin_bp.post("/outbox/retry")
def retry():
    if not ActionForm().validate_on_submit():
        abort(400)
    ids = [i for i in map(parse_id, request.form.getlist("outbox_id")) if i is not None]
    retried, count = attempt(policy.retry_failed, ids)
    if retried:
        flash(f"{count} message(s) queued again.", "success")
    return redirect(url_for("outbox_admin.outbox"))
