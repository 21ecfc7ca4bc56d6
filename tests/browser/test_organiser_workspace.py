"""The organiser workspace in Chromium at 390 and 1280 px: no page scrolls sideways, the
programme menu is closed on a phone (and opens without JavaScript) and beside the page on a wide
screen; a screenshot of each page lands in SCREENSHOTS for a reviewer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SCREENSHOTS = Path(os.environ.get("LEARNHUB_SCREENSHOTS", "/tmp/learnhub-screenshots/workspace"))
WIDTHS = (390, 1280)


def _known_workspace(live_app) -> tuple[str, list[str]]:
    """A programme with registrants, attendance, a failed email; the organiser's pages."""
    from learnhub.extensions import db
    from tests import factories as f

    with live_app.app_context():
        programme = f.past_programme(sessions=2, capacity=40, title="A programme with a long title")
        f.make_session(programme, programme.sessions[-1].starts_at.replace(year=2031))
        for n in range(12):
            registration = f.early_registration(programme)
            f.make_attendance(programme.sessions[0], registration, "present" if n % 3 else "absent")
        f.make_registration(programme, status="pending")
        f.make_registration(programme, status="waitlisted")
        f.make_outbox_message(status="failed", registration_id=registration.id)
        organiser = f.make_organiser(programme, email="workspace@example.org")
        f.make_organisation()
        db.session.commit()
        slug, email = programme.slug, organiser.email
    base = f"/organiser/programmes/{slug}"
    pages = ["/organiser/", base, f"{base}/edit", f"{base}/registrants", f"{base}/attendance"]
    return email, [*pages, f"{base}/team", f"{base}/materials", f"{base}/certificates"]


@pytest.mark.browser
def test_workspace_pages_fit_a_phone_and_a_wide_screen(live_app, live_server, browser):
    from playwright.sync_api import expect

    email, pages = _known_workspace(live_app)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.locator("#password_email").fill(email)
    page.get_by_label("Password", exact=True).fill("organiser-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 844})
            for url in pages:
                response = page.goto(url)
                assert response is not None and response.status == 200, url
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                assert overflow <= 0, f"{url} scrolls sideways by {overflow} px at {width} px"
                name = url.strip("/").replace("/", "_") or "home"
                page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
        overview = pages[1]
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(overview)
        nav = page.get_by_role("navigation", name="Programme")
        registrants = nav.get_by_role("link", name="Registrants")
        expect(registrants).to_be_hidden()  # the menu does not take the first screen
        nav.get_by_text("Programme menu").click()  # a <details>: opens without JavaScript
        expect(registrants).to_be_visible()
        page.set_viewport_size({"width": 1280, "height": 844})
        page.goto(overview)
        expect(nav.get_by_text("Programme menu")).to_be_hidden()
        expect(nav.get_by_role("link", name="Registrants")).to_be_visible()
        expect(page.get_by_role("img", name="Registrations over time, cumulative")).to_be_visible()
    finally:
        context.close()
