"""A participant's whole journey in a real browser, against the app on a real HTTP server.

Catalogue -> webinar page (times in the session's zone, then in the viewer's chosen zone) ->
registration form (CSRF on) -> answer page -> the outbox delivered as the worker would ->
/dev/mailbox: the confirmation email, its calendar file and its single-use sign-in link ->
"My programmes".
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from tests.browser.conftest import VIEWER_TIMEZONE

NET_ZERO = "Creating a Net Zero Community"
NET_ZERO_SLUG = "creating-a-net-zero-community"
RESILIENT_CITY = "On-line training program on Resilient City"
SESSION_TIMEZONE = "Asia/Shanghai"


def _webinar_session(app):
    """The demo webinar's only session, as stored: (title, starts_at, ends_at), aware UTC."""
    from learnhub.catalogue.models import Programme
    from learnhub.extensions import db

    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.slug == NET_ZERO_SLUG))
        assert programme is not None and len(programme.sessions) == 1
        session = programme.sessions[0]
        assert session.timezone == SESSION_TIMEZONE
        return session.title, session.starts_at, session.ends_at


@pytest.mark.browser
def test_participant_registers_reads_the_email_and_signs_in(live_app, live_server, page):
    from icalendar import Calendar
    from playwright.sync_api import expect

    from learnhub.demo.data import load_demo
    from learnhub.notifications.delivery import drain
    from learnhub.timefmt import format_range

    with live_app.app_context():
        load_demo()
    title, starts_at, ends_at = _webinar_session(live_app)
    in_session_zone = format_range(starts_at, ends_at, SESSION_TIMEZONE)
    in_viewer_zone = format_range(starts_at, ends_at, VIEWER_TIMEZONE)
    assert "CST (Asia/Shanghai)" in in_session_zone
    assert in_viewer_zone.endswith(f"({VIEWER_TIMEZONE})")
    email = f"joana.{uuid.uuid4().hex[:10]}@example.org"
    server_errors: list[str] = []

    def note_server_error(response) -> None:
        if response.status >= 500:
            server_errors.append(f"{response.status} {response.url}")

    page.on("response", note_server_error)

    # The catalogue lists both demo programmes.
    page.goto("/")
    expect(page.get_by_role("link", name=NET_ZERO)).to_be_visible()
    expect(page.get_by_role("link", name=RESILIENT_CITY)).to_be_visible()

    # The webinar page shows the session in its own zone...
    page.get_by_role("link", name=NET_ZERO).click()
    expect(page.get_by_role("heading", level=1, name=NET_ZERO)).to_be_visible()
    sessions = page.locator("ol.sessions")
    expect(sessions.locator(".time-local")).to_have_text(in_session_zone)
    expect(sessions).to_contain_text("CST (Asia/Shanghai)")

    # ...and, once the viewer picks a zone, in that zone too (a cookie; no account needed).
    page.get_by_label("Show times in").fill(VIEWER_TIMEZONE)
    page.get_by_role("button", name="Show times").click()
    expect(sessions.locator(".time-viewer")).to_have_text(f"({in_viewer_zone})")
    expect(sessions.locator(".time-local")).to_have_text(in_session_zone)

    # Register through the real form, CSRF token included.
    page.get_by_role("link", name="Register", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Register for {NET_ZERO}")
    page.get_by_label("Full name").fill("Joana Conceição")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Organisation").fill("Prefeitura de São Paulo")
    page.get_by_label("City", exact=True).fill("São Paulo")
    page.get_by_label("Country", exact=True).fill("Brazil")
    page.get_by_label("Your time zone").fill(VIEWER_TIMEZONE)
    page.get_by_label("I agree that LearnHub").check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are registered")
    expect(page.get_by_role("main")).to_contain_text(email)

    # Deliver the outbox as the worker would (the worker process has its own tests).
    with live_app.app_context():
        outcomes = drain()
    assert [outcome.status for outcome in outcomes] == ["sent"]

    # The confirmation email in the development mailbox.
    page.goto("/dev/mailbox/")
    row = page.get_by_role("row").filter(has_text=email)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=f"You are registered: {NET_ZERO}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"You are registered: {NET_ZERO}")
    text = page.locator("pre.email")
    expect(text).to_contain_text("Hello Joana Conceição,")
    expect(text).to_contain_text(f"in your time zone, {VIEWER_TIMEZONE}")
    expect(text).to_contain_text(title)
    expect(text).to_contain_text(in_viewer_zone)
    expect(text).to_contain_text(in_session_zone)

    # Its calendar file holds the one session at the instant stored in the database.
    ics_href = page.get_by_role("link", name="sessions.ics").get_attribute("href")
    response = page.request.get(live_server + ics_href)
    assert response.ok, response.status
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.body())
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    assert events[0].decoded("DTSTART") == starts_at
    assert events[0].decoded("DTEND") == ends_at
    assert events[0]["DTSTART"].params["TZID"] == SESSION_TIMEZONE

    # The sign-in link points at this server; confirming it signs in to "My programmes".
    sign_in = text.locator("a[href*='/login/link/']")
    expect(sign_in).to_have_count(1)
    link = sign_in.get_attribute("href")
    assert re.fullmatch(re.escape(live_server) + r"/login/link/[\w-]+", link), link
    sign_in.click()
    expect(page.get_by_text(f"You are signing in as {email}.")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My programmes")
    card = page.locator("li.card").filter(has=page.get_by_role("heading", name=NET_ZERO))
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Status: Confirmed")
    expect(card).to_contain_text(f"Next session: {title}")
    expect(card.locator(".time-local")).to_have_text(in_session_zone)
    expect(card.locator(".time-viewer")).to_have_text(f"({in_viewer_zone})")
    expect(card).to_contain_text(VIEWER_TIMEZONE)

    # The link works once: following it again says so instead of signing in.
    second = page.goto(link)
    assert second is not None and second.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot sign you in")
    expect(page.get_by_text("This sign-in link has already been used.")).to_be_visible()
    assert server_errors == []
