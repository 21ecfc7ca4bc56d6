"""A programme's session pages: new, edit, remove (drafts only)."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from ...access import requires
from ...catalogue.authoring import sessions as authoring
from ...forms import strip
from ...timefmt import zone
from ..blueprint import bp
from ..forms import SessionForm
from . import choices
from .pages import FormPage, Removal, form_for, typed


def _with_choices(form: SessionForm) -> SessionForm:
    form.speakers.choices = form.moderators.choices = choices.people()
    return choices.with_modules(form)


def _session_input(form: SessionForm) -> authoring.SessionInput:
    return typed(
        authoring.SessionInput,
        form,
        speaker_ids=form.speakers.data or [],
        moderator_ids=form.moderators.data or [],
        contributions={
            person_id: strip(request.form[f"contribution-{person_id}"])
            for person_id in _chosen(form)
            if f"contribution-{person_id}" in request.form
        },
    )


def _chosen(form: SessionForm) -> list[int]:
    return list(dict.fromkeys([*(form.speakers.data or []), *(form.moderators.data or [])]))


def _contribution_fields(form: SessionForm, session=None) -> list[tuple[int, str, str]]:
    """(person id, name, text) of a "What they present" field per chosen person: the typed
    text after a refused save, else what the session has."""
    saved = (
        {link.person_id: link.contribution or "" for link in session.speaker_links}
        if session
        else {}
    )
    names = dict(form.speakers.choices)
    return [
        (pid, names.get(pid, "?"), request.form.get(f"contribution-{pid}", saved.get(pid, "")))
        for pid in _chosen(form)
    ]


def _as_entered(session) -> dict:
    """The session's date and times as its form shows them: wall-clock, in its own zone."""
    local_start = session.starts_at.astimezone(zone(session.timezone))
    local_end = session.ends_at.astimezone(zone(session.timezone))
    return {
        "day": local_start.date(),
        "start": local_start.time(),
        "end": local_end.time(),
        "end_day": local_end.date() if local_end.date() != local_start.date() else None,
        "module": session.module_id,
        "speakers": [s.person_id for s in session.speaker_links if s.role == "speaker"],
        "moderators": [s.person_id for s in session.speaker_links if s.role == "moderator"],
    }


add_page = FormPage("session_form.html", authoring.add_session, "Session added.", ".edit_programme")


@bp.route("/programmes/<slug>/sessions/new", methods=["GET", "POST"])
@requires("manage_programme")
def new_session(slug: str):
    form = _with_choices(form_for(SessionForm, timezone=g.programme.timezone))
    return add_page(
        form,
        lambda form: (g.programme.id, current_user.id, _session_input(form)),
        lambda: {"contributions": _contribution_fields(form)},
        programme=g.programme,
        session=None,
    )


edit_page = FormPage(
    "session_form.html", authoring.update_session, "Session saved.", ".edit_programme"
)


@bp.route("/programmes/<slug>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@requires("manage_programme")
def edit_session(slug: str, session_id: int):
    session = g.session
    form = _with_choices(form_for(SessionForm, session, **_as_entered(session)))
    return edit_page(
        form,
        lambda form: (
            g.programme.id,
            session.id,
            current_user.id,
            form.version.data,
            _session_input(form),
        ),
        lambda: {"contributions": _contribution_fields(form, session)},
        programme=g.programme,
        session=session,
    )


removal = Removal(
    ".edit_programme",
    authoring.delete_session,
    "Remove the session “{0.title}”?",
    ("The session, its speakers' places in it and its attendance marks are removed.",),
    "Session removed.",
)


@bp.post("/programmes/<slug>/sessions/<int:session_id>/delete")
@requires("manage_programme")
def delete_session(slug: str, session_id: int):
    # Only a draft's sessions are removed: a public programme's are cancelled, which tells
    # their registrants; the use case says so, without asking first.
    return removal(g.session if g.programme.status == "draft" else None, session_id)
