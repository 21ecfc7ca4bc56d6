"""Self check-in in a real browser: the organiser opens it on one screen, a participant on a
phone follows the QR link, signs in, is refused a wrong code, enters the right one, and the
organiser's sheet shows them present."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import VIEWER_TIMEZONE

ORGANISER_PASSWORD = "organiser-password"
PARTICIPANT_PASSWORD = "participant-password-1"


def sign_in(page, email: str, password: str) -> None:
    form = page.get_by_role("region", name="Sign in with your password")
    form.get_by_label("Email address").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_organiser_opens_check_in_and_a_participant_checks_in(live_app, live_server, browser, page):
    from playwright.sync_api import expect

    from learnhub.types import utcnow
    from tests import factories as f

    with live_app.app_context():
        programme = f.make_programme(
            title="Resilient City",
            sessions=1,
            first_session_in=-timedelta(minutes=3),
            timezone="Asia/Jakarta",
        )
        organiser = f.make_organiser(
            programme, email="officer@example.org", password=ORGANISER_PASSWORD
        )
        participant = f.make_user(
            email="budi@example.org",
            full_name="Budi Santoso",
            password=PARTICIPANT_PASSWORD,
            timezone="Asia/Jakarta",
        )
        registration = f.make_registration(
            programme, participant, confirmed_at=utcnow() - timedelta(days=2)
        )
        slug, session_id, registration_id = (
            programme.slug,
            programme.sessions[0].id,
            registration.id,
        )
        assert organiser.id
    server_errors: list[str] = []
    page.on("response", lambda r: r.status >= 500 and server_errors.append(f"{r.status} {r.url}"))

    # The organiser signs in and opens check-in with a 10-minute grace period.
    page.goto(f"/organiser/programmes/{slug}/sessions/{session_id}/check-in")
    sign_in(page, "officer@example.org", ORGANISER_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Self check-in: Session 1")
    page.get_by_label("Grace period").fill("10")
    page.get_by_role("button", name="Open check-in").click()
    expect(page.get_by_text("Check-in is open.")).to_be_visible()
    code = page.locator("#check-in-code").inner_text().strip()
    assert len(code) == 6
    expect(page.locator(".check-in-code svg")).to_be_visible()  # the QR code
    qr_link = page.locator(".check-in-code").get_attribute("data-link")
    assert qr_link == f"{live_server}/check-in?code={code}"

    # The participant, on a phone, scans the QR code: signs in and lands on the filled form.
    phone = browser.new_context(
        base_url=live_server,
        timezone_id=VIEWER_TIMEZONE,
        locale="en-GB",
        viewport={"width": 390, "height": 844},
    )
    try:
        mobile = phone.new_page()
        mobile.on("response", lambda r: r.status >= 500 and server_errors.append(r.url))
        mobile.goto(qr_link)
        expect(mobile.get_by_role("heading", level=1)).to_have_text("Sign in")
        sign_in(mobile, "budi@example.org", PARTICIPANT_PASSWORD)
        expect(mobile.get_by_role("heading", level=1)).to_have_text("Check in to your session")
        expect(mobile.get_by_label("Check-in code")).to_have_value(code)

        # A wrong code is refused, with the reason next to the field.
        mobile.get_by_label("Check-in code").fill("ZZZZZ9" if code != "ZZZZZ9" else "ZZZZZ8")
        mobile.get_by_role("button", name="Check in").click()
        expect(mobile.locator("#code-error")).to_contain_text("That code is not right.")
        expect(mobile.get_by_label("Check-in code")).to_have_attribute("aria-invalid", "true")

        # The right one checks them in.
        mobile.get_by_label("Check-in code").fill(code.lower())
        mobile.get_by_role("button", name="Check in").click()
        expect(mobile.get_by_role("heading", level=1)).to_have_text("You are checked in")
        expect(mobile.get_by_role("main")).to_contain_text("You are marked present")
        expect(mobile.get_by_role("main")).to_contain_text("(Asia/Jakarta)")
    finally:
        phone.close()

    # The organiser sees the arrival without reloading (the list refreshes itself every 10 s;
    # without JavaScript a "Refresh the list" link does it), and the sheet shows them present.
    expect(page.get_by_text("The list updates by itself every 10 seconds.")).to_be_visible()
    expect(page.get_by_role("link", name="Refresh the list")).to_be_hidden()
    expect(page.get_by_role("heading", name="Arrivals (1 of 1)")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("row").filter(has_text="Budi Santoso")).to_be_visible()
    page.get_by_role("link", name="Attendance sheet").click()
    row = page.get_by_role("row").filter(has_text="Budi Santoso")
    expect(row.get_by_role("radio", name="Budi Santoso budi@example.org Present")).to_be_checked()
    expect(row).to_contain_text("self check-in")
    assert page.locator(f"#p{registration_id}").count() == 1
    assert server_errors == []
