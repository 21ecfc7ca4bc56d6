"""Content-hashed URLs for the files in static/, kept a year by browsers and proxies.

`url_for("static", filename=...)` gets `?v=<hash>`, the file's BLAKE2b digest (12 hex digits).
A file is read once per version (keyed by its modification time and size, so an edit made
while the development server runs gives a new URL without a restart). A request whose `v` is
the file's current hash is answered with `Cache-Control: public, max-age=<a year>, immutable`;
any other static request keeps Flask's default (the browser revalidates), so an old page asking
for an old hash never pins today's file for a year under yesterday's name.
"""

from __future__ import annotations

import hashlib
import os
import stat
from functools import lru_cache
from typing import Any

from flask import Flask, Response, request
from werkzeug.security import safe_join


def content_hash(folder: str, filename: str) -> str | None:
    """The hash of static/`filename` as it is now, or None when there is no such file."""
    path = safe_join(folder, filename)
    if path is None:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return _digest(path, found.st_mtime_ns, found.st_size)


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    """Read and hash a file once per (path, mtime, size): the arguments are the cache key."""
    with open(path, "rb") as file:
        return hashlib.blake2b(file.read(), digest_size=6).hexdigest()


def init_app(app: Flask) -> None:
    lifetime = int(app.config.get("STATIC_MAX_AGE_SECONDS", 365 * 24 * 3600))

    @app.url_defaults
    def hashed_static_url(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and app.static_folder and "v" not in values:
            digest = content_hash(app.static_folder, values.get("filename", ""))
            if digest:
                values["v"] = digest

    @app.after_request
    def keep_hashed_static_files(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        asked = request.args.get("v")
        filename = (request.view_args or {}).get("filename", "")
        if asked and app.static_folder and asked == content_hash(app.static_folder, filename):
            response.headers["Cache-Control"] = f"public, max-age={lifetime}, immutable"
        return response
