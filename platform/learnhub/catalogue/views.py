"""Public pages: the catalogue, a programme, a module, material downloads."""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from .. import i18n
from ..accounts.forms import ViewerTimezoneForm
from ..forms import strip
from ..learning import services as learning
from ..learning.services.viewer import Viewer
from ..registration.services import (
    Standing,
    standing_in,
    viewer_can_access_registered_material,
    viewer_is_confirmed,
)
from ..safety import safe_next_path
from ..storage import StorageError, storage
from ..templating import VIEWER_TZ_COOKIE, viewer_timezone, viewer_timezone_known
from ..timefmt import all_timezones
from . import page_cache, services
from .models import PROGRAMME_KINDS

bp = Blueprint("catalogue", __name__)


@bp.get("/")
def index():
    topic = strip(request.args.get("topic")) or None
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
    if current_user.is_authenticated or "_flashes" in session:
        return _programme_page(slug)  # the viewer's own: progress, join links, recordings
    # Signed out, nothing flashed: the same page for every visitor reading times in this zone
    # (its time-zone form is a GET form: no CSRF token, no session cookie). It is kept for
    # PUBLIC_PAGE_MAX_AGE_SECONDS, so what it shows (an edit, seats left) is at most that old.
    max_age = current_app.config["PUBLIC_PAGE_MAX_AGE_SECONDS"]
    zone = viewer_timezone() if viewer_timezone_known() else "unknown"  # says "set your zone"
    key = page_cache.key("signed-out page", slug, i18n.current_locale_code(), zone)
    kept = page_cache.lookup(key) if max_age else None
    if kept is None:
        # Kept encoded: each response then sends the same bytes without encoding ~45 KB again.
        body = _programme_page(slug).encode()
        kept = (body, hashlib.blake2b(body, digest_size=16).hexdigest())
        if max_age:
            page_cache.keep(key, kept, timeout=max_age)
    body, etag = kept
    # The ETag is the bytes' own hash: a browser asking again with it gets a bodiless 304
    # while the page is unchanged (signed-in pages carry none: they are the viewer's own).
    response = make_response(body)
    response.set_etag(etag)
    if "If-None-Match" in request.headers:  # Werkzeug answers it; most requests have none
        return response.make_conditional(request)
    return response


def _programme_page(slug: str) -> str:
    """The programme's row (with its seats: one statement) around its cached parts."""
    row = services.public_programme_row(slug)
    if row is None:
        abort(404)
    found, confirmed = row
    page = page_cache.cached_parts(found.id, found.content_version, lambda: _graph(slug))
    zone = viewer_timezone()
    viewer = learning.viewer_of(found, current_user)
    return render_template(
        "catalogue/programme.html",
        programme=found,
        page=page,
        session_heads=page_cache.session_heads(page, zone),
        viewer=viewer,
        progress=learning.progress_in(found, viewer),
        recordings=page.recordings,
        seats_left=services.seats_left(found, confirmed),
        next_session=services.next_scheduled(page.sessions),
        tz_chooser=page_cache.timezone_chooser(zone),
        # The viewer's own registration: signed-in pages only, never the kept signed-out page.
        standing=_standing(found.id, viewer),
        joinable=services.joinable_sessions(page.sessions, lambda: viewer_is_confirmed(found)),
    )


def _standing(programme_id: int, viewer: Viewer) -> Standing | None:
    """The signed-in viewer's registration; a confirmed one is already known (`viewer_of`)."""
    if viewer.registration is not None:
        return Standing(viewer.registration.id, "confirmed", None)
    return standing_in(programme_id, current_user) if current_user.is_authenticated else None


def _graph(slug: str):
    """The programme's full page graph and speakers: read only when its parts are not cached."""
    graph = services.public_programme(slug)
    if graph is None:  # unpublished between the two reads
        abort(404)
    return graph, services.programme_speakers(graph)


@bp.get("/programmes/<slug>/modules/<int:position>")
def module(slug: str, position: int):
    found = services.programme_page(slug, drafts=True)
    if found is None or not (found.is_public or viewer_can_access_registered_material(found)):
        abort(404)  # a draft's modules: its team only (they preview it)
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
    if material is None or material.file_name is None:
        abort(404)
    if not material.programme.is_public and not viewer_can_access_registered_material(
        material.programme
    ):
        abort(404)  # a draft's files: its team only (they preview it)
    if material.visibility == "registered" and not viewer_can_access_registered_material(
        material.programme
    ):
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.path))
        abort(403)
    return _send_stored(
        material.file_name,
        as_attachment=True,
        download_name=material.download_name or material.file_name,
        mimetype=material.content_type,
    )


@bp.get("/programmes/<slug>/cover")
def programme_cover(slug: str):
    """The cover image; a draft's only for its team."""
    found = services.programme_by_slug(slug)
    if found is None or not found.cover_image:
        abort(404)
    if not found.is_public and not viewer_can_access_registered_material(found):
        abort(404)
    return _image(found.cover_image)


@bp.get("/people/<int:person_id>/photo")
def person_photo(person_id: int):
    photo = services.person_photo(person_id)
    if photo is None:
        abort(404)
    return _image(photo)


def _send_stored(file_name: str, **options):
    """A stored file, streamed (or, for an object store set to, a short-lived presigned URL);
    only ever called after the route's access check."""
    try:
        return storage().send(file_name, **options)
    except StorageError:
        abort(404)


def _image(file_name: str):
    # Images always pass through the app: the headers below must come with them.
    try:
        response = storage().send(file_name, allow_redirect=False)
    except StorageError:
        abort(404)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/timezone")
def set_viewer_timezone():
    """Lets anyone read times in their own zone, without JavaScript and without an account.

    A GET form, so the programme page carries no CSRF token and a signed-out visitor gets no
    session cookie. It only sets a display preference (the cookie tz.js also sets); a link from
    another site can set it too, which changes which second zone times are shown in, never the
    session's own zone printed beside them."""
    form = ViewerTimezoneForm(request.args)
    target = safe_next_path(form.next.data, url_for("catalogue.index"))
    response = make_response(redirect(target))
    if form.validate():
        response.set_cookie(
            VIEWER_TZ_COOKIE,
            form.timezone.data,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


@bp.get("/privacy")
def privacy():
    """The privacy notice: who holds the data, why, how long (the retention setting), rights."""
    config = current_app.config
    return render_template(
        "privacy.html",
        operator=config["OPERATOR_NAME"],
        retention_days=config["DATA_RETENTION_DAYS"],
        session_days=config["PERMANENT_SESSION_LIFETIME"].days,
        link_minutes=config["MAGIC_LINK_MINUTES"],
    )


@bp.get("/timezones")
def timezones():
    """Every time zone a form accepts, by region: the list the zone fields point to. The same
    for everyone, so browsers and proxies may keep it a day."""
    response = make_response(render_template("catalogue/timezones.html", regions=_zone_regions()))
    if not current_user.is_authenticated:
        response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _zone_regions() -> dict[str, list[str]]:
    regions: dict[str, list[str]] = {}
    for name in all_timezones():
        regions.setdefault(name.split("/")[0], []).append(name)
    return regions
