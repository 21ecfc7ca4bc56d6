"""Who may open an organiser page: declared on each route, checked before it runs (rule 8).

    @bp.route("/programmes/<slug>/team")
    @requires("manage_programme")
    def team(slug): ...

A blueprint whose routes serve organisers calls `guard_programmes(bp)` once. Before each of its
routes: signed in, an organiser or administrator, and, when the URL names a programme, holding
the right the route declares on it; otherwise the sign-in page, 403 or 404 (a programme one may
not manage does not exist for them). A route under a programme that declares no right is
refused (fail closed). The programme, and the session when the URL names one, land on `g`.
Administrators' blueprints call `guard_admin(bp)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, abort, current_app, g, request
from flask_login import current_user

from ..accounts.models import TEAM_RIGHTS
from ..extensions import login_manager
from .rights import programme_and_rights, session_of, team_rights

View = TypeVar("View", bound=Callable)

#: A teammate's programme page, by right, in the order a dashboard link prefers them.
LANDING_PAGES = (
    "organiser.programme",
    "attendance.attendance_summary",
    "organiser.edit_programme",
)
_RIGHT = "required_team_right"


def requires(right: str) -> Callable[[View], View]:
    """Declare the team right a programme route needs."""
    if right not in TEAM_RIGHTS:
        raise ValueError(f"unknown team right {right!r}")

    def declare(view: View) -> View:
        setattr(view, _RIGHT, right)
        return view

    return declare


def right_for(endpoint: str) -> str | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, _RIGHT, None)


def _check_programme_right():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_organiser:
        abort(403)
    args = request.view_args or {}
    if "slug" not in args:
        return None
    right = right_for(request.endpoint or "")
    if right is None:
        abort(403)
    programme, rights = programme_and_rights(current_user, args["slug"])
    if programme is None or right not in rights:
        abort(404)
    g.programme = programme
    g.programme_rights = (programme.id, rights)  # what `may` asks on this programme's pages
    if "session_id" in args:
        g.session = session_of(programme, args["session_id"])
        if g.session is None:
            abort(404)
    return None


def _check_admin():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role != "admin":
        abort(403)
    return None


def guard_programmes(bp: Blueprint) -> None:
    """Every route of `bp` is for organisers; those under a programme declare their right."""
    bp.before_request(_check_programme_right)


def guard_admin(bp: Blueprint) -> None:
    """Every route of `bp` is for administrators."""
    bp.before_request(_check_admin)


def _rights_here() -> dict[int, frozenset[str]] | None:
    """The signed-in organiser's rights by programme id, read once a request (None: an
    administrator, who holds every right)."""
    if "team_rights" not in g:
        g.team_rights = None if current_user.role == "admin" else team_rights(current_user)
    return g.team_rights


def may(endpoint: str, programme) -> bool:
    """May the signed-in person open `endpoint` of `programme`? What pages ask before they
    show a link, so that no link leads a teammate to a refusal."""
    if not current_user.is_authenticated or not current_user.is_organiser:
        return False
    right = right_for(endpoint)
    if right is None:
        return False
    here = g.get("programme_rights")
    if here is not None and here[0] == programme.id:
        return right in here[1]
    rights = _rights_here()
    return rights is None or right in rights.get(programme.id, frozenset())


def landing_page(programme) -> str | None:
    """The first programme page the signed-in person may open, for their dashboard's link."""
    return next((e for e in LANDING_PAGES if may(e, programme)), None)


def init_app(app) -> None:
    app.jinja_env.globals["may"] = may
    app.jinja_env.globals["landing_page"] = landing_page
