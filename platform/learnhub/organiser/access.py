"""The access check every organiser-facing blueprint runs before its routes (rule 8).

Signed in, an organiser or administrator, and holding on the URL's programme the right the
route needs: otherwise the sign-in page, 403 or 404 (a programme one may not manage does not
exist for them). The programme, and the session when the URL names one, land on `g`.
"""

from __future__ import annotations

from flask import abort, g, request
from flask_login import current_user

from ..extensions import login_manager
from .services import programme_for, session_of


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
    programme = programme_for(current_user, args["slug"], right)
    if programme is None:
        abort(404)
    g.programme = programme
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
