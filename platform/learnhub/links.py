"""Absolute links for emails, built the same way in a request and in the worker."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values: Any) -> str:
    base = current_app.config["BASE_URL"]
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        adapter = current_app.url_map.bind("localhost", url_scheme="http")
        path = adapter.build(endpoint, values)
    return base + path
