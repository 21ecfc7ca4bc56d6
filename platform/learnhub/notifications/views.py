"""Email preferences, one-click unsubscribe, calendar feeds: the `notifications` blueprint
(public, by token or sign-in). The organiser's and administrator's email pages are in
`organiser_views.py`."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import csrf
from ..forms import ActionForm
from ..links import external_url
from . import calendar, preferences
from .forms import EmailPreferencesForm
from .models import OPTIONAL_CATEGORIES

bp = Blueprint("notifications", __name__)

CATEGORY_LABELS = {"reminders": "reminders", "announcements": "announcements and follow-ups"}


def _ics_response(body: str, filename: str) -> Response:
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- public: preferences, unsubscribe, calendars ---------------------------------------------


@bp.route("/email/unsubscribe/<token>/<category>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST here without cookies; the token is the credential
def unsubscribe(token: str, category: str):
    if category not in OPTIONAL_CATEGORIES:
        abort(404)
    try:
        user_id = preferences.user_id_from_token(token)
    except preferences.PreferenceError as error:
        return render_template("notifications/link_invalid.html", message=str(error)), 404
    if request.method == "POST":
        preferences.set_preferences(user_id, {category: False})
        return render_template(
            "notifications/unsubscribed.html",
            label=CATEGORY_LABELS[category],
            token=token,
        )
    return render_template(
        "notifications/unsubscribe.html", label=CATEGORY_LABELS[category], token=token
    )


@bp.route("/email/preferences/<token>", methods=["GET", "POST"], endpoint="preferences")
def preferences_page(token: str):
    try:
        user_id = preferences.user_id_from_token(token)
    except preferences.PreferenceError as error:
        return render_template("notifications/link_invalid.html", message=str(error)), 404
    return _preferences(user_id)


@bp.route("/me/email-preferences", methods=["GET", "POST"])
@login_required
def my_preferences():
    return _preferences(current_user.id)


def _preferences(user_id: int):
    current = preferences.preferences_of(user_id)
    form = EmailPreferencesForm(data=current if request.method == "GET" else None)
    if form.validate_on_submit():
        preferences.set_preferences(
            user_id, {"reminders": form.reminders.data, "announcements": form.announcements.data}
        )
        flash("Your email choices are saved.", "success")
        return redirect(request.path)
    return render_template("notifications/preferences.html", form=form)


@bp.get("/me/calendar")
@login_required
def my_calendar():
    return _calendar_page(active=calendar.has_active_feed(current_user))


@bp.post("/me/calendar")
@login_required
def create_calendar_feed():
    if not ActionForm().validate_on_submit():
        abort(400)
    token = calendar.create_feed(current_user)
    feed_url = external_url("notifications.calendar_feed", token=token)
    return _calendar_page(active=True, feed_url=feed_url)


def _calendar_page(*, active: bool, feed_url: str | None = None) -> str:
    """The feed's page; its address is shown once, when it is made."""
    return render_template(
        "notifications/calendar.html", active=active, feed_url=feed_url, form=ActionForm()
    )


@bp.post("/me/calendar/revoke")
@login_required
def revoke_calendar_feed():
    if not ActionForm().validate_on_submit():
        abort(400)
    calendar.revoke_feeds(current_user)
    flash("Your calendar feed address no longer works.", "success")
    return redirect(url_for("notifications.my_calendar"))


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    body = calendar.feed_calendar(token)
    if body is None:
        abort(404)
    response = _ics_response(body, "learnhub.ics")
    response.headers["Cache-Control"] = "private, no-store"  # personal: sessions and links
    return response
