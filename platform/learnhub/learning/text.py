"""Participants' text and video links: plain text with clickable links, privacy-friendly
players for the providers that allow embedding."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from markupsafe import Markup, escape

#: http(s) links in a post; a trailing full stop or bracket is punctuation, not the link's.
_LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")

#: Where embedded players come from; the Content-Security-Policy's frame-src allows only these.
PLAYER_ORIGINS = ("https://www.youtube-nocookie.com", "https://player.vimeo.com")


def linkify(text: str) -> Markup:
    """Escape everything, then turn http(s) links into anchors and line breaks into <br>:
    nothing a participant writes can become markup of its own."""
    parts: list[str] = []
    last = 0
    for match in _LINK.finditer(text):
        parts.append(str(escape(text[last : match.start()])))
        url = escape(match.group(0))
        parts.append(f'<a href="{url}" rel="nofollow noopener noreferrer">{url}</a>')
        last = match.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts).replace("\r\n", "\n").replace("\n", "<br>\n"))


def embed_url(url: str | None) -> str | None:
    """The privacy-friendly player address of a YouTube or Vimeo link, or None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    path = parts.path.strip("/")
    video = None
    if host == "youtu.be":
        video = path.split("/")[0]
    elif host in ("youtube.com", "youtube-nocookie.com"):
        if path == "watch":
            video = (parse_qs(parts.query).get("v") or [""])[0]
        elif path.startswith(("embed/", "shorts/", "live/")):
            video = path.split("/")[1]
    elif host in ("vimeo.com", "player.vimeo.com"):
        number = path.removeprefix("video/").split("/")[0]
        if number.isdigit():
            return f"https://player.vimeo.com/video/{number}?dnt=1"
        return None
    if video and _YOUTUBE_ID.match(video):
        return f"https://www.youtube-nocookie.com/embed/{video}"
    return None
