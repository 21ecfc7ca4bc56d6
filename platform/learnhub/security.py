"""Response headers every page carries, and the page for a refused CSRF token.

The Content-Security-Policy allows scripts and styles only from the app itself: no inline
script, no inline style attributes, nothing from other sites (pages are built to work without
JavaScript and with the one stylesheet in static/) except recordings' players in frames from
YouTube's no-cookie domain and Vimeo. A response that sets its own policy (the
development mailbox's sandboxed email view) keeps it.
"""

from __future__ import annotations

from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFError

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        # recordings' players (learning/text.py PLAYER_ORIGINS): privacy-enhanced modes only
        "frame-src https://www.youtube-nocookie.com https://player.vimeo.com",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _for_a_signed_in_person() -> bool:
    """Whether this response was made for a signed-in person: their pages load them (the
    login checks, the header's menu); a page that never looked is the same for everyone."""
    user = g.get("_login_user")
    return user is not None and user.is_authenticated and request.endpoint != "static"


def init_app(app: Flask) -> None:
    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # One pass over the response's headers, not one per header: this runs on every page.
        present = {name.lower() for name, _value in response.headers}
        response.headers.extend(
            [(name, value) for name, value in HEADERS.items() if name.lower() not in present]
        )
        if "cache-control" not in present and _for_a_signed_in_person():
            # Personal pages and exports: never kept by a proxy or left in a shared browser's
            # cache for the next person.
            response.headers["Cache-Control"] = "private, no-store"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError):
        return (
            render_template(
                "errors/error.html",
                code=400,
                title="This form has expired",
                text="The form was open too long or came from another site, so nothing was "
                "saved. Go back, reload the page and send it again.",
            ),
            400,
        )
