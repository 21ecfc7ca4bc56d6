"""Fixtures for browser tests: the app on a real HTTP server, and the system Chromium.

`live_app` is built with the shared `app_factory` (so it uses the test database and its tables
are emptied afterwards) with CSRF protection on, so the browser submits the real forms.
`live_server` serves it with Werkzeug on a free port in a daemon thread and yields the base
URL; `page` is a fresh Chromium tab (in the America/Sao_Paulo zone) whose relative URLs resolve
against that server.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests import services

VIEWER_TIMEZONE = "America/Sao_Paulo"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    if os.path.exists(services.CHROMIUM):
        return services.CHROMIUM
    return shutil.which("chromium")


@pytest.fixture
def live_app(app_factory):
    """The app the live server runs; CSRF stays on (TestConfig turns it off by default)."""
    return app_factory(WTF_CSRF_ENABLED=True)


@pytest.fixture
def live_server(live_app):
    """Serve `live_app` on 127.0.0.1 and yield its base URL.

    The server binds port 0 itself, so the port is free by construction (no probe-then-bind
    race); BASE_URL is set before the first request, so links in emails point here.
    """
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["BASE_URL"] = base_url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    executable = _chromium_path()
    if executable is None:
        services.skip_or_fail(f"Chromium is not installed at {services.CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        services.skip_or_fail(f"the playwright package cannot be imported ({error})")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, timezone_id=VIEWER_TIMEZONE, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
