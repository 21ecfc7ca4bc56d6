"""Emails in the recipient's language (Flask-Babel, gettext catalogs under translations/).

Pages stay English for now: no locale selector is set, so a request's locale is English.
Every email is rendered inside `recipient_locale(...)`, which forces the recipient's locale
for that rendering only (the request's, the organiser's or the worker's locale plays no part).

Catalogs are edited as .po files and read as the .mo files `pybabel compile` makes of them
(`make catalogs`, which `make run` and `make test` run first; the .mo files are build output,
not committed): see README.md "Email languages" for the workflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.support import NullTranslations
from flask import Flask
from flask_babel import Babel, force_locale, get_babel, get_locale, get_translations, gettext

#: The languages a profile offers, as stored (their own names), and each one's Babel locale.
#: The one place a stored language becomes a locale.
LANGUAGE_LOCALES: dict[str, str] = {
    "English": "en",
    "Español": "es",
    "Français": "fr",
    "Português": "pt",
    "Bahasa Indonesia": "id",
    "中文": "zh_Hans",
    "한국어": "ko",
    "日本語": "ja",
    "العربية": "ar",
    "Русский": "ru",
}
DEFAULT_LOCALE = "en"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
_ENGLISH = NullTranslations()
#: The locale and catalog `recipient_locale` is rendering in, so that the many lookups of one
#: email (each gettext, each time) skip Flask-Babel's per-call search (a context variable:
#: each thread and each task has its own).
_rendering: ContextVar[tuple[str, NullTranslations] | None] = ContextVar(
    "learnhub_email_locale", default=None
)


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet (it is translated later,
    with `gettext(message, ...)`, in the recipient's locale)."""
    return message


def locale_for(language: str | None) -> str:
    """The locale of a stored preferred language; English for anything unknown or empty."""
    return LANGUAGE_LOCALES.get(language or "", DEFAULT_LOCALE)


@contextmanager
def recipient_locale(language: str | None) -> Iterator[str]:
    """Render what happens inside in the recipient's language (their stored display name)."""
    code = locale_for(language)
    with force_locale(_parsed(code)):
        token = _rendering.set((code, _catalog(code)))
        try:
            yield code
        finally:
            _rendering.reset(token)


@lru_cache(maxsize=32)
def _parsed(code: str) -> Locale:
    return Locale.parse(code)


def _catalog(code: str) -> NullTranslations:
    """The catalog of `code`, read by Flask-Babel (inside `force_locale(code)`)."""
    if code == DEFAULT_LOCALE:
        return _ENGLISH
    return get_translations()  # NullTranslations outside an application


def uncompiled_catalogs(directory: Path = TRANSLATIONS_DIR) -> list[str]:
    """The locales whose .po catalog has no compiled .mo beside it (`make catalogs`)."""
    return sorted(
        po.parent.parent.name
        for po in directory.glob("*/LC_MESSAGES/messages.po")
        if not po.with_suffix(".mo").is_file()
    )


#: How a speaker's role reads in a run-sheet.
SPEAKER_ROLE_LABELS = {"speaker": N_("speaker"), "moderator": N_("moderator")}


def speaker_role_label(role: str) -> str:
    return gettext(SPEAKER_ROLE_LABELS[role]) if role in SPEAKER_ROLE_LABELS else role


def html_attributes() -> dict[str, str]:
    """`lang` and `dir` of the locale being rendered, for an email's <html> element."""
    locale = get_locale() or Locale.parse(DEFAULT_LOCALE)
    return {"lang": str(locale).replace("_", "-"), "dir": locale.text_direction}


def _translations() -> NullTranslations:
    rendering = _rendering.get()
    return rendering[1] if rendering is not None else get_translations()


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    # An instance per application: Flask-Babel keeps the catalogs it read per instance, by
    # locale alone, and an application may read another translations folder (tests do).
    Babel(app, default_locale=DEFAULT_LOCALE)
    # Flask-Babel's own callables, with the fast path of an email being rendered. Jinja's i18n
    # extension (added by Flask-Babel) puts install_gettext_callables on the environment.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["email_html_attributes"] = html_attributes
    app.jinja_env.globals["speaker_role_label"] = speaker_role_label


def current_locale_code() -> str:
    """The locale being rendered ("en" outside any application context)."""
    rendering = _rendering.get()
    if rendering is not None:
        return rendering[0]
    try:
        get_babel()
    except (KeyError, RuntimeError):
        return DEFAULT_LOCALE
    locale = get_locale()
    return str(locale) if locale is not None else DEFAULT_LOCALE
