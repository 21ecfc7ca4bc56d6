"""Jinja filters and globals shared by pages and emails."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from typing import Literal
from urllib.parse import unquote

import markdown
import nh3
from babel.dates import format_timedelta
from babel.lists import format_list
from flask import Flask, g, has_request_context, request
from flask_login import current_user
from markupsafe import Markup

from . import i18n, timefmt

VIEWER_TZ_COOKIE = "tz"


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML, sanitised with nh3 so organiser text can never run script."""
    return _markdown_html(text or "")


@lru_cache(maxsize=512)
def _markdown_html(text: str) -> Markup:
    """A pure function of the text, so each worker renders a description once, not per view."""
    html = markdown.markdown(text, extensions=["extra", "sane_lists"])
    return Markup(nh3.clean(html, link_rel="noopener noreferrer nofollow"))


#: A tag; group 1 is its name.
_HTML_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)[^<>]*>")


def sanitise_markdown(text: str | None) -> str:
    """Markdown as saved: raw HTML in it goes through nh3, so script, event handlers and
    javascript: links never reach the database. Markdown syntax itself is left alone
    (cleaning the whole text as HTML would escape its `>` quotes and `&`)."""

    def clean_tag(match: re.Match[str]) -> str:
        tag = match.group(0)
        name = match.group(1).lower()
        if name not in nh3.ALLOWED_TAGS:
            return ""
        if tag.startswith("</"):
            return f"</{name}>"
        return nh3.clean(tag, link_rel="noopener noreferrer nofollow").split("</", 1)[0]

    cleaned = (text or "").replace("\x00", "")
    while True:  # "<scr<script>ipt>" must not become "<script>" once cleaned
        again = _HTML_TAG.sub(clean_tag, cleaned)
        if again == cleaned:
            return cleaned
        cleaned = again


def viewer_timezone() -> str:
    """The zone the current viewer reads times in: the browser's (or the one they chose to
    see times in), else their profile's, else UTC."""
    return _viewer_zone()[0]


def viewer_timezone_known() -> bool:
    """False when times fall back to UTC: no zone from the browser (tz.js has not run), none
    chosen, no profile."""
    return _viewer_zone()[1]


def _viewer_zone() -> tuple[str, bool]:
    if not has_request_context():
        return "UTC", False
    chosen = request.cookies.get(VIEWER_TZ_COOKIE)
    if chosen and "%" in chosen:  # written percent-encoded by an earlier tz.js
        chosen = unquote(chosen)
    if timefmt.is_valid_timezone(chosen):
        return chosen, True
    if current_user.is_authenticated and timefmt.is_valid_timezone(current_user.timezone):
        return current_user.timezone, True
    return "UTC", False


def note_form_error(field_id: str | None, message: str) -> str:
    """Called by the forms macros for each error they show: base.html then writes the error
    summary first in <main> and "Error: " in the <title>. Returns "" (it prints nothing)."""
    if has_request_context():
        noted = g.setdefault("form_errors_shown", [])
        if (field_id, message) not in noted:
            noted.append((field_id, message))
    return ""


def form_errors_shown() -> list[tuple[str | None, str]]:
    """The (field id or None, message) pairs the page being rendered showed, in order."""
    return list(g.get("form_errors_shown", [])) if has_request_context() else []


def time_range(start, end, tz: str, **options) -> str:
    """`timefmt.format_range` in the locale being rendered (an email's recipient's)."""
    return timefmt.format_range(start, end, tz, locale=i18n.current_locale_code(), **options)


def moment(value, tz: str) -> str:
    return timefmt.format_moment(value, tz, locale=i18n.current_locale_code())


def duration(minutes: int, *, in_days: bool = False) -> str:
    """A length of time in the locale being rendered: "15 minutes", "24 hours", "24 horas";
    with `in_days`, whole days from two up too ("7 days", as reminder choices name them)."""
    unit: Literal["day", "hour", "minute"]
    if in_days and minutes >= 2 * 1440 and minutes % 1440 == 0:
        unit = "day"
    elif minutes >= 60 and minutes % 60 == 0:
        unit = "hour"
    else:
        unit = "minute"
    return format_timedelta(
        timedelta(minutes=minutes),
        granularity=unit,
        threshold=float("inf"),
        locale=i18n.current_locale_code(),
    )


def reminder_times(offsets_minutes) -> str:
    """Reminder offsets in the locale being rendered, largest first: "7 days, 24 hours, and
    1 hour"."""
    words = [duration(minutes, in_days=True) for minutes in sorted(offsets_minutes, reverse=True)]
    return format_list(words, locale=i18n.current_locale_code())


def strong(text: str) -> Markup:
    """Text in <strong>, escaped: an email sentence's emphasised part, passed into a
    translated message (the plain-text part passes the text itself)."""
    return Markup("<strong>{}</strong>").format(text)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["time_range"] = time_range
    app.jinja_env.filters["moment"] = moment
    app.jinja_env.filters["strong"] = strong
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["reminder_times"] = reminder_times
    app.jinja_env.filters["date"] = timefmt.format_date
    app.jinja_env.globals["viewer_timezone"] = viewer_timezone
    app.jinja_env.globals["viewer_timezone_known"] = viewer_timezone_known
    app.jinja_env.globals["note_form_error"] = note_form_error
    app.jinja_env.globals["form_errors_shown"] = form_errors_shown
    app.jinja_env.globals["all_timezones"] = timefmt.all_timezones
    app.jinja_env.globals["dev_mailbox_enabled"] = bool(app.config.get("DEV_MAILBOX"))
