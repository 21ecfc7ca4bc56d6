"""The programme page on a phone (390 x 740, issue 15): what it is, when and the Register
action on the first screen; a refused registration moves focus to its error summary; a
registered participant's first screen says where they stand. Screenshots are saved under
/tmp/i15-participant/browser/ for a reviewer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import VIEWER_TIMEZONE

SHOTS = Path("/tmp/i15-participant/browser")
PHONE = {"width": 390, "height": 740}
PASSWORD = "a long password for the phone test"
TITLE = "On-line training programme on the Resilient City, second edition"


def _programme(live_app) -> tuple[str, str]:
    """A programme with a long title, two hosts and four sessions; and a participant's email."""
    from tests import factories as f

    with live_app.app_context():
        hosts = [
            f.make_organisation("Seoul Human Resources Development Center", "SHRDC"),
            f.make_organisation("United Cities and Local Governments Asia-Pacific"),
        ]
        programme = f.make_programme(
            title=TITLE,
            capacity=60,
            sessions=4,
            hosts=hosts,
            description="Four live sessions and three modules.\n\n" * 6,
        )
        participant = f.make_user(email="phone.participant@example.org", password=PASSWORD)
        f.make_registration(programme, participant, status="waitlisted")
        return programme.slug, participant.email


def _within_first_screen(locator) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], box


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
def test_the_first_screen_on_a_phone_and_the_error_summary(live_app, live_server, browser):
    from playwright.sync_api import expect

    slug, email = _programme(live_app)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=live_server, viewport=PHONE, timezone_id=VIEWER_TIMEZONE, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        # A first visit: tz.js tells the page the browser's zone; the page shows it.
        page.goto(f"/programmes/{slug}")
        expect(page.locator(".key-box")).to_contain_text(f"({VIEWER_TIMEZONE})")
        page.screenshot(path=str(SHOTS / "programme-visitor-390.png"))
        _within_first_screen(page.get_by_role("heading", level=1))
        _within_first_screen(page.locator(".key-box .hosts"))
        _within_first_screen(page.get_by_text("First session:"))
        register = page.get_by_role("link", name="Register", exact=True)
        _within_first_screen(register)
        _no_sideways_scroll(page)

        # A refused registration: the summary has the focus, the title says "Error:".
        register.click()
        page.get_by_label("Email address").fill(email)
        page.get_by_role("button", name="Register").click()
        summary = page.locator("[data-error-summary]")
        expect(summary).to_be_focused()
        expect(page).to_have_title(f"Error: Register · {TITLE} · LearnHub")
        expect(
            summary.get_by_role("link", name="Full name: This field is required.")
        ).to_be_visible()
        page.screenshot(path=str(SHOTS / "register-refused-390.png"))
        _no_sideways_scroll(page)
        summary.get_by_role("link").first.click()
        expect(page.get_by_label("Full name")).to_be_focused()

        # Signed in, a waitlisted participant sees their place first, not "Register".
        page.goto("/login")
        page.locator("#password_email").fill(email)
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.goto(f"/programmes/{slug}")
        box = page.locator(".your-registration")
        expect(box).to_contain_text("waiting list, number 1")
        expect(page.get_by_role("link", name="Register", exact=True)).to_have_count(0)
        _within_first_screen(page.get_by_role("heading", name="Your registration"))
        page.screenshot(path=str(SHOTS / "programme-waitlisted-390.png"))
        _no_sideways_scroll(page)
    finally:
        context.close()
