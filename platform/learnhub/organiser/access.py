"""The access check every organiser-facing blueprint runs before its routes (rule 8).

Signed in, an organiser or administrator, and holding on the URL's programme the right the
route needs: otherwise the sign-in page, 403 or 404 (a programme one may not manage does not
exist for them). The programme, and the session when the URL names one, land on `g`.
"""

from __future__ import annotations

from flask import abort, current_app, g, request
from flask_login import current_user

from ..accounts.models import TEAM_RIGHTS
from ..extensions import login_manager
from .services import programme_and_rights, session_of, team_rights

#: Where `app.extensions` keeps the right each programme endpoint needs (see `endpoint_rights`).
RIGHTS_KEY = "learnhub.endpoint_rights"
#: A teammate's programme page, by right, in the order a dashboard link prefers them.
LANDING_PAGES = (
    "organiser.programme",
    "attendance.attendance_summary",
    "organiser.edit_programme",
)


def require_programme_right(right: str | None):
    """Run from a blueprint's before_request with the right its endpoint needs.

    A route under a programme without a declared right is refused: a new route must say which
    right it needs (fail closed)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_organiser:
        abort(403)
    args = request.view_args or {}
    if "slug" not in args:
        return None
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


def require_admin():
    """Run from an administrators' blueprint's before_request."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role != "admin":
        abort(403)
    return None


def endpoint_rights(*tables: dict[str, str], whole: dict[str, str]) -> dict[str, str]:
    """The right each programme endpoint needs: the blueprints' own tables, plus `whole`,
    blueprint name -> the right every route of that blueprint needs."""
    found: dict[str, str] = {}
    for table in tables:
        found.update(table)
    found.update({f"{name}.*": right for name, right in whole.items()})
    return found


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
    table = current_app.extensions[RIGHTS_KEY]
    right = table.get(endpoint) or table.get(endpoint.split(".", 1)[0] + ".*")
    if right not in TEAM_RIGHTS:
        return False
    here = g.get("programme_rights")
    if here is not None and here[0] == programme.id:
        return right in here[1]
    rights = _rights_here()
    return rights is None or right in rights.get(programme.id, frozenset())


def landing_page(programme) -> str | None:
    """The first programme page the signed-in person may open, for their dashboard's link."""
    return next((e for e in LANDING_PAGES if may(e, programme)), None)
