"""Public pages: the catalogue, a programme, a module, material downloads."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user

from ..accounts.forms import ViewerTimezoneForm
from ..learning import services as learning
from ..registration.services import viewer_can_access_registered_material
from ..safety import safe_next_path
from ..templating import VIEWER_TZ_COOKIE, viewer_timezone
from . import services
from .models import PROGRAMME_KINDS

bp = Blueprint("catalogue", __name__)


@bp.get("/")
def index():
    topic = request.args.get("topic") or None
    kind = request.args.get("kind") or None
    if kind and kind not in PROGRAMME_KINDS:
        kind = None
    entries = services.catalogue(topic_slug=topic, kind=kind)
    return render_template(
        "catalogue/index.html",
        upcoming=[e for e in entries if not e.is_past],
        past=[e for e in entries if e.is_past],
        topics=services.list_topics(),
        selected_topic=topic,
        selected_kind=kind,
    )


@bp.get("/programmes/<slug>")
def programme(slug: str):
    found = services.public_programme(slug)
    if found is None:
        abort(404)
    confirmed = services.confirmed_counts([found.id]).get(found.id, 0)
    viewer = learning.viewer_of(found, current_user)
    return render_template(
        "catalogue/programme.html",
        programme=found,
        viewer=viewer,
        progress=learning.progress_in(found, viewer),
        recordings=learning.recordings_by_session(found),
        speakers=services.programme_speakers(found),
        seats_left=services.seats_left(found, confirmed),
        next_session=services.upcoming_session(found),
        tz_form=ViewerTimezoneForm(timezone=viewer_timezone(), next=request.path),
    )


@bp.get("/programmes/<slug>/modules/<int:position>")
def module(slug: str, position: int):
    found = services.public_programme(slug)
    if found is None:
        abort(404)
    module_ = services.module_at(found, position)
    if module_ is None:
        abort(404)
    viewer = learning.viewer_of(found, current_user)
    return render_template(
        "catalogue/module.html",
        programme=found,
        module=module_,
        sessions=[s for s in found.sessions if s.module_id == module_.id],
        can_see_registered=viewer.can_see_registered,
        learning=learning.module_page(found, module_, viewer),
    )


@bp.get("/materials/<int:material_id>/download")
def download_material(material_id: int):
    material = services.material_for_download(material_id)
    if material is None or not material.programme.is_public or material.file_name is None:
        abort(404)
    if material.visibility == "registered" and not viewer_can_access_registered_material(
        material.programme
    ):
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.path))
        abort(403)
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    return send_from_directory(
        folder,
        material.file_name,
        as_attachment=True,
        download_name=material.download_name or material.file_name,
        mimetype=material.content_type,
    )


@bp.post("/timezone")
def set_viewer_timezone():
    """Lets anyone read times in their own zone, without JavaScript and without an account."""
    form = ViewerTimezoneForm()
    target = safe_next_path(form.next.data, url_for("catalogue.index"))
    response = make_response(redirect(target))
    if form.validate_on_submit():
        response.set_cookie(
            VIEWER_TZ_COOKIE,
            form.timezone.data,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response
