"""The waiting list in a real browser: a full programme, a place in the queue, a cancellation
from the emailed link by someone else, and the promotion email in the mailbox."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select


@pytest.mark.browser
def test_waitlisted_participant_is_promoted_when_another_cancels(
    live_app, live_server, browser, page
):
    from playwright.sync_api import expect

    from learnhub.extensions import db
    from learnhub.notifications.delivery import drain
    from learnhub.notifications.models import OutboxMessage
    from learnhub.registration import services
    from tests import factories as f

    title = "Resilient City: waiting list"
    holder_email = f"holder.{uuid.uuid4().hex[:8]}@example.org"
    waiting_email = f"budi.{uuid.uuid4().hex[:8]}@example.org"
    with live_app.app_context():
        programme = f.make_programme(title=title, capacity=1, timezone="Asia/Jakarta")
        slug = programme.slug
        with live_app.test_request_context():
            services.register(
                services.RegistrationInput(
                    programme_id=programme.id,
                    participant=services.ParticipantDetails(
                        "Holder", holder_email, None, None, None, "Europe/Madrid"
                    ),
                    consent=True,
                )
            )
        drain()
        body = db.session.scalar(
            select(OutboxMessage.text_body).where(OutboxMessage.to_address == holder_email)
        )
    cancel_link = re.search(r"http://\S+/registrations/cancel/\S+", body).group(0)
    server_errors: list[str] = []
    page.on(
        "response",
        lambda response: server_errors.append(response.url) if response.status >= 500 else None,
    )
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )

    # The programme is full: the form offers the waiting list and the answer gives the place.
    page.goto(f"/programmes/{slug}/register")
    expect(page.get_by_text("Every seat is taken")).to_be_visible()
    page.get_by_label("Full name").fill("Budi Santoso")
    page.get_by_label("Email address").fill(waiting_email)
    page.get_by_label("Your time zone").fill("Asia/Jakarta")
    page.get_by_label("I agree that LearnHub").check()
    page.get_by_role("button", name="Join the waiting list").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are on the waiting list")
    expect(page.get_by_role("main")).to_contain_text("number 1")

    # Someone else cancels from the link in their email, in another browser, not signed in.
    other = browser.new_context(base_url=live_server)
    try:
        holder_page = other.new_page()
        holder_page.goto(cancel_link)
        expect(holder_page.get_by_role("heading", level=1)).to_have_text(
            "Cancel your registration?"
        )
        holder_page.get_by_role("button", name="Yes, cancel my registration").click()
        expect(holder_page.get_by_role("heading", level=1)).to_have_text(
            "Your registration is cancelled"
        )
    finally:
        other.close()

    # The worker delivers; the first on the list finds the promotion in the mailbox.
    with live_app.app_context():
        assert {o.status for o in drain()} == {"sent"}
    page.goto("/dev/mailbox/")
    row = page.get_by_role("row").filter(has_text=waiting_email)
    expect(row).to_have_count(2)  # the waiting-list email, then the promotion
    row.get_by_role("link", name=f"A seat is yours: {title}").click()
    text = page.locator("pre.email")
    expect(text).to_contain_text("Hello Budi Santoso,")
    expect(text).to_contain_text("a seat has freed up and it is yours")
    expect(text).to_contain_text("(Asia/Jakarta)")
    expect(page.get_by_role("link", name="sessions.ics")).to_be_visible()
    assert server_errors == []
    assert csp_violations == []
