"""Small safety helpers shared by blueprints: redirect targets and spreadsheet cells."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next_path(candidate: str | None, default: str = "/") -> str:
    """Only a local path may be a redirect target (no scheme, no host, no `//` or `\\`)."""
    if not candidate:
        return default
    candidate = candidate.strip()
    parts = urlsplit(candidate)
    if (
        parts.scheme
        or parts.netloc
        or not candidate.startswith("/")
        or candidate.startswith("//")
        or "\\" in candidate
        or any(ord(c) < 32 for c in candidate)
    ):
        return default
    return candidate


#: What makes a spreadsheet program read a cell as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text_cell(value) -> str:
    """A CSV cell Excel shows as text: formula-looking values get a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
