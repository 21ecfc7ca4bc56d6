"""The organiser workspace. Access is checked here, once, for every route (rule 8)."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request
from flask_login import current_user

from ..attendance import services as attendance
from ..catalogue.services import seats_left
from ..extensions import login_manager
from . import services

bp = Blueprint("organiser", __name__, url_prefix="/organiser")

#: The team right each route needs; routes without a slug only need the organiser role.
ROUTE_RIGHTS = {
    "organiser.programme": "manage_registrations",
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
