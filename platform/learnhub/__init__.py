"""LearnHub: learning programmes and webinars for cities and city networks."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from .config import BaseConfig, load_config
from .database import MAX_ID
from .extensions import cache, compress, csrf, db, limiter, login_manager, migrate
from .tasking import celery_init_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def create_app(config: BaseConfig | dict | None = None) -> Flask:
    """Build the application.

    `config` is either a ready settings object, or a mapping of overrides applied on top of the
    settings read from the environment (what tests pass), or None.
    """
    app = _new_app(config)

    from . import logs, metrics

    # First, so every answer (a rate limit's 429 too) has a request id and is counted.
    logs.init_app(app)
    metrics.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    compress.init_app(app)
    celery_init_app(app)

    from . import database

    database.init_app(app)
    _register_blueprints(app)

    from . import i18n, security, static_assets, templating
    from .cli import register_cli
    from .notifications import handover

    i18n.init_app(app)
    handover.init_app(app)
    templating.init_app(app)
    security.init_app(app)
    static_assets.init_app(app)
    register_cli(app)
    _register_error_pages(app)
    return app


def _new_app(config: BaseConfig | dict | None) -> Flask:
    """The Flask object with its settings, its instance folder, the proxies it trusts and its
    URL converters."""
    instance_path = Path(os.environ.get("LEARNHUB_INSTANCE_PATH", PROJECT_ROOT / "instance"))
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    if isinstance(config, BaseConfig):
        settings = config
    else:
        overrides = dict(config or {})
        settings = load_config(instance_path, overrides.pop("LEARNHUB_ENV", None))
    app.config.from_object(settings)
    if isinstance(config, dict):
        app.config.update({k: v for k, v in config.items() if k != "LEARNHUB_ENV"})
    instance_path.mkdir(parents=True, exist_ok=True)
    if hops := app.config.get("TRUSTED_PROXIES", 0):
        # The client's address (rate limits), scheme and host as the trusted proxies saw them.
        # Flask's documented way to wrap the WSGI app; mypy sees it as replacing a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    app.url_map.converters["int"] = RowIdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = SegmentConverter
    return app


def _register_blueprints(app: Flask) -> None:
    """Every feature's pages; then `access` gathers the rights their routes declare."""
    from . import access, models  # noqa: F401  (models registers every table on the metadata)
    from .accounts.views import bp as accounts_bp
    from .attendance.services.marks import marks_written
    from .attendance.views import bp as attendance_bp
    from .attendance.views import participant_bp as attendance_participant_bp
    from .catalogue.views import bp as catalogue_bp
    from .health import bp as health_bp
    from .learning.services.certificates import award_due_certificates
    from .learning.views import bp as learning_bp
    from .learning.views import organiser_bp as learning_organiser_bp
    from .notifications.dev_mailbox import bp as dev_mailbox_bp
    from .notifications.organiser_views import admin_bp as outbox_admin_bp
    from .notifications.organiser_views import organiser_bp as notifications_organiser_bp
    from .notifications.views import bp as notifications_bp
    from .organiser import authoring_views  # noqa: F401  (its routes hang on organiser_bp)
    from .organiser.authoring_views import admin_bp as organiser_admin_bp
    from .organiser.authoring_views import topic_admin_bp
    from .organiser.views import bp as organiser_bp
    from .registration.views import bp as registration_bp

    app.register_blueprint(catalogue_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(organiser_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(attendance_participant_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(notifications_organiser_bp)
    app.register_blueprint(outbox_admin_bp)
    app.register_blueprint(organiser_admin_bp)
    app.register_blueprint(topic_admin_bp)
    app.register_blueprint(learning_bp)
    app.register_blueprint(learning_organiser_bp)
    if app.config.get("DEV_MAILBOX"):
        app.register_blueprint(dev_mailbox_bp)
    access.init_app(app)
    # Marks of presence may earn certificates: learning listens, attendance does not call it.
    marks_written.connect(award_due_certificates)

    from .catalogue import uploads

    uploads.init_app(app)  # a file stored by a change that does not commit is removed again


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a route: a number no larger than a row id can be, else the URL matches
    nothing (404); a larger one reached the query and SQLite refused it (a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


class SegmentConverter(UnicodeConverter):
    """A text segment of a route (`<slug>`, `<code>`, `<token>`): one holding a NUL character
    matches nothing (404); PostgreSQL refused it in the query's text (DataError, a 500)."""

    def to_python(self, value: str) -> str:
        if "\x00" in value:
            raise ValidationError()
        return value


def _register_error_pages(app: Flask) -> None:
    messages = {
        400: ("Bad request", "The request could not be understood. Please go back and try again."),
        403: ("Not allowed", "You do not have access to this page."),
        404: (
            "Not found",
            "We could not find that page. Check the address or start from the catalogue.",
        ),
        405: ("Not allowed", "That action is not available here."),
        413: (
            "File too large",
            "The file you sent is larger than LearnHub accepts: files can be up to 25 MB. "
            "Go back, make the file smaller (for example, save the PDF with compressed images) "
            "or add it as a link instead.",
        ),
        429: ("Too many attempts", "Please wait a moment and try again."),
        500: ("Something went wrong", "We have been told about it. Please try again in a moment."),
        503: ("Unavailable", "LearnHub is briefly unavailable. Please try again in a moment."),
    }

    def make_handler(code: int):
        title, text = messages[code]

        def handler(error):
            if code == 500:
                db.session.rollback()
            if code == 413:
                # The body is never read: the page's own forms see an empty submission.
                request.__dict__.update(form=ImmutableMultiDict(), files=ImmutableMultiDict())
            return render_template("errors/error.html", code=code, title=title, text=text), code

        return handler

    for code in messages:
        app.register_error_handler(code, make_handler(code))
