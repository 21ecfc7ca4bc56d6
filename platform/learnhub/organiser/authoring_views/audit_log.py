"""A programme's change log: a page at a time, filtered by kind, or whole as CSV."""

from __future__ import annotations

from flask import Response, g, render_template, request
from flask_login import current_user

from ...access import requires
from ...catalogue import audit
from ...pagination import page_of, requested_page
from ..blueprint import bp
from .pages import PER_PAGE


def _kind() -> str | None:
    kind = request.args.get("kind") or None
    return kind if kind in audit.KINDS else None


@bp.get("/programmes/<slug>/audit")
@requires("manage_programme")
def audit_log(slug: str):
    kind = _kind()
    return render_template(
        "organiser/audit.html",
        programme=g.programme,
        entries=page_of(audit.audit_entries(g.programme.id, kind), requested_page(), PER_PAGE),
        kinds=audit.KINDS,
        kind=kind,
        kind_of=audit.kind_of,
    )


@bp.get("/programmes/<slug>/audit.csv")
@requires("manage_programme")
def audit_csv(slug: str):
    kind = _kind()
    body = audit.audit_csv(g.programme.id, current_user.timezone, kind)
    name = f"change-log-{g.programme.slug}{'-' + kind if kind else ''}.csv"
    return Response(
        "\ufeff" + body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
