"""An organiser authors a webinar in a real browser; a participant elsewhere registers, reads the
sessions in both zones and downloads the guidebook; an anonymous visitor cannot.

Organiser (Asia/Shanghai): password sign-in -> new webinar -> two speakers -> a module -> a PDF
guidebook for confirmed registrants -> two sessions entered in Shanghai time -> publish.
Participant (America/Sao_Paulo browser): register -> emailed sign-in link -> the webinar page
with each session in CST (Asia/Shanghai) and in their zone -> the module -> the download.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import VIEWER_TIMEZONE

PDF = b"%PDF-1.4\n% LearnHub guidebook\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TITLE = "Net Zero Neighbourhoods"
ZONE = "Asia/Shanghai"
SPEAKERS = [("Li Wei", "Deputy Mayor of Chengdu"), ("Ana Botella", "Climate Director")]


@pytest.mark.browser
def test_organiser_publishes_a_webinar_that_a_participant_follows(
    live_app, live_server, browser, page
):
    from playwright.sync_api import expect

    from learnhub.catalogue.models import Material, Programme
    from learnhub.extensions import db
    from learnhub.notifications.delivery import drain
    from learnhub.timefmt import format_range, local_to_utc
    from tests import factories as f

    with live_app.app_context():
        organiser = f.make_organiser(email="organiser@example.org", timezone=ZONE)
        organiser_email = organiser.email
    server_errors: list[str] = []

    def note_server_error(response) -> None:
        if response.status >= 500:
            server_errors.append(f"{response.status} {response.url}")

    organiser_context = browser.new_context(base_url=live_server, timezone_id=ZONE)
    organiser_context.set_default_timeout(10_000)
    org = organiser_context.new_page()
    org.on("response", note_server_error)
    try:
        # Sign in with a password.
        org.goto("/login")
        org.locator("#password_email").fill(organiser_email)
        org.get_by_label("Password", exact=True).fill("organiser-password")
        org.get_by_role("button", name="Sign in", exact=True).click()
        expect(org.get_by_role("heading", level=1)).to_have_text("Your programmes")

        # A new webinar, in Shanghai time.
        org.get_by_role("link", name="New programme or webinar").click()
        org.get_by_label("Kind", exact=True).select_option("webinar")
        org.get_by_label("Title", exact=True).fill(TITLE)
        org.get_by_label("Summary (one or two sentences)", exact=True).fill(
            "Cities share their plans."
        )
        org.get_by_label("Description", exact=True).fill(
            "Two sessions with **Chengdu** and **Madrid**."
        )
        org.get_by_label("Time zone (sessions are entered in it)", exact=True).select_option(ZONE)
        org.get_by_role("button", name="Save draft").click()
        expect(org.get_by_role("heading", level=1)).to_contain_text(TITLE)
        edit_url = org.url

        # Two speakers, reused across programmes.
        for name, position in SPEAKERS:
            org.goto("/organiser/people")
            org.get_by_label("Full name", exact=True).fill(name)
            org.get_by_label("Position", exact=True).fill(position)
            org.get_by_role("button", name="Add person").click()
            expect(org.get_by_text(f"{name} added")).to_be_visible()

        # A module and its PDF guidebook, for confirmed registrants.
        org.goto(edit_url)
        org.get_by_role("navigation", name="Programme").get_by_role("link", name="Modules").click()
        org.get_by_label("Title", exact=True).fill("Net zero basics")
        org.get_by_label("Summary", exact=True).fill("What net zero asks of a city.")
        org.get_by_role("button", name="Add module").click()
        expect(org.get_by_text("Module added.")).to_be_visible()
        org.get_by_role("link", name="materials page").click()
        org.get_by_label("Title", exact=True).fill("Net zero guidebook")
        org.get_by_label("Kind", exact=True).select_option("guidebook")
        org.get_by_label("Module", exact=True).select_option(label="1. Net zero basics")
        org.get_by_label("File (PDF, .pptx or .docx, up to 25 MB)", exact=True).set_input_files(
            {"name": "guidebook.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        org.get_by_label("Who may open it", exact=True).select_option("registered")
        org.get_by_role("button", name="Add material").click()
        expect(org.get_by_text("Material added.")).to_be_visible()

        # Two sessions, entered in the programme's zone, with the speakers.
        day = (datetime.now().date() + timedelta(days=10)).isoformat()
        sessions = [("Plans", day, "19:00", "20:30"), ("Results", day, "21:00", "22:00")]
        labels = [f"{name}, {position}" for name, position in SPEAKERS]
        for title, when, start, end in sessions:
            org.goto(edit_url)
            org.get_by_role("link", name="Add a session").click()
            org.get_by_label("Title", exact=True).fill(title)
            org.get_by_label("Date", exact=True).fill(when)
            org.get_by_label("Starts at", exact=True).fill(start)
            org.get_by_label("Ends at", exact=True).fill(end)
            expect(org.get_by_label("Time zone of these times", exact=True)).to_have_value(ZONE)
            org.get_by_label("Module", exact=True).select_option(label="1. Net zero basics")
            # A checkable list: its search box (filter_list.js) narrows it as one types.
            speakers = org.get_by_role("group", name="Speakers", exact=True)
            speakers.get_by_label("Search Speakers").fill(SPEAKERS[0][0])
            expect(speakers.get_by_label(labels[1], exact=True)).to_be_hidden()
            for (name, _), label in zip(SPEAKERS, labels, strict=True):
                speakers.get_by_label("Search Speakers").fill(name)
                expect(speakers.get_by_label(label, exact=True)).to_be_visible()
                speakers.get_by_label(label, exact=True).check()
            speakers.get_by_label("Search Speakers").fill("")
            org.get_by_role("button", name="Save session").click()
            expect(org.get_by_text("Session added.")).to_be_visible()

        org.get_by_role("button", name="Publish").click()
        expect(org.get_by_text("Published: the programme is in the catalogue.")).to_be_visible()
    finally:
        organiser_context.close()

    with live_app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.title == TITLE))
        assert programme.status == "published" and programme.timezone == ZONE
        stored = [(s.title, s.starts_at, s.ends_at) for s in programme.sessions]
        material_id = db.session.scalar(select(Material.id))
        slug = programme.slug
    day_date = datetime.fromisoformat(day).date()
    expected = [
        (
            title,
            local_to_utc(datetime.combine(day_date, time.fromisoformat(start)), ZONE),
            local_to_utc(datetime.combine(day_date, time.fromisoformat(end)), ZONE),
        )
        for title, _, start, end in sessions
    ]
    assert stored == expected

    # The participant, in Sao Paulo, registers.
    page.on("response", note_server_error)
    email = f"joana.{uuid.uuid4().hex[:10]}@example.org"
    page.goto("/")
    page.get_by_role("link", name=TITLE).click()
    speakers = page.get_by_role("region", name="Speakers")
    for name, position in SPEAKERS:
        expect(speakers).to_contain_text(f"{name}, {position}")
    page.get_by_role("link", name="Register", exact=True).click()
    page.get_by_label("Full name", exact=True).fill("Joana Conceição")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Your time zone", exact=True).fill(VIEWER_TIMEZONE)
    page.get_by_label("I agree that LearnHub").check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are registered")
    with live_app.app_context():
        drain()

    # The emailed link signs them in.
    page.goto("/dev/mailbox/")
    page.get_by_role("row").filter(has_text=email).get_by_role("link").first.click()
    page.locator("pre.email a[href*='/login/link/']").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My programmes")

    # Every session in its own zone and in the participant's.
    page.goto(f"/programmes/{slug}")
    items = page.locator("ol.sessions > li")
    expect(items).to_have_count(2)
    for index, (_, starts_at, ends_at) in enumerate(expected):
        item = items.nth(index)
        expect(item.locator(".time-local")).to_have_text(format_range(starts_at, ends_at, ZONE))
        expect(item.locator(".time-local")).to_contain_text("CST (Asia/Shanghai)")
        expect(item.locator(".time-viewer")).to_have_text(
            f"({format_range(starts_at, ends_at, VIEWER_TIMEZONE)})"
        )
        expect(item.locator(".time-viewer")).to_contain_text(f"({VIEWER_TIMEZONE})")

    # The guidebook downloads from the module page, as a PDF attachment.
    page.get_by_role("link", name="Net zero basics", exact=True).click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Net zero guidebook").click()
    download = download_info.value
    assert download.suggested_filename == "guidebook.pdf"
    with open(download.path(), "rb") as downloaded:
        assert downloaded.read() == PDF

    # An anonymous visitor gets the sign-in page, never the file.
    anonymous = browser.new_context(base_url=live_server)
    try:
        url = f"/materials/{material_id}/download"
        response = anonymous.request.get(url, max_redirects=0)
        assert response.status == 302
        assert "/login" in response.headers["location"]
        visitor = anonymous.new_page()
        visitor.goto(f"/programmes/{slug}/modules/1")
        expect(visitor.get_by_role("link", name="Net zero guidebook")).to_have_count(0)
        landed = visitor.goto(url)
        assert landed is not None and "/login" in visitor.url
        assert b"%PDF" not in landed.body()
    finally:
        anonymous.close()
    assert server_errors == []


@pytest.mark.browser
def test_organiser_corrects_a_draft_without_javascript(live_app, live_server, browser):
    """Preview shows registration closed; a session is removed, a material and a speaker's
    contribution corrected, all with plain forms (JavaScript off)."""
    from playwright.sync_api import expect

    from learnhub.catalogue.models import Material, Session, SessionSpeaker
    from learnhub.extensions import db
    from tests import factories as f

    with live_app.app_context():
        programme = f.make_programme(status="draft", sessions=2, timezone=ZONE)
        organiser = f.make_organiser(programme, email="editor@example.org")
        f.make_material(programme, title="Reading list", url="https://example.org/list")
        f.make_speaker(programme.sessions[1], "Li Wei", "Mayor")
        slug, email = programme.slug, organiser.email
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    context.set_default_timeout(10_000)
    org = context.new_page()
    try:
        org.goto("/login")
        org.locator("#password_email").fill(email)
        org.get_by_label("Password", exact=True).fill("organiser-password")
        org.get_by_role("button", name="Sign in", exact=True).click()
        org.goto(f"/organiser/programmes/{slug}/preview")
        expect(org.get_by_role("button", name="Register")).to_be_disabled()
        expect(
            org.get_by_text("Registration opens when the programme is published.")
        ).to_be_visible()

        org.goto(f"/organiser/programmes/{slug}/edit")
        org.get_by_role("button", name="Remove Session 1").click()
        expect(org.get_by_role("heading", name="Remove the session “Session 1”?")).to_be_visible()
        org.get_by_role("button", name="Remove", exact=True).click()  # the confirmation page
        expect(org.get_by_text("Session removed.")).to_be_visible()

        org.goto(f"/organiser/programmes/{slug}/materials")
        org.get_by_role("link", name="Edit Reading list").click()
        org.get_by_label("Title", exact=True).fill("Reading list 2026")
        org.get_by_role("button", name="Save material").click()
        expect(org.get_by_text("Material saved.")).to_be_visible()

        org.goto(f"/organiser/programmes/{slug}/edit")
        org.get_by_role("link", name="Edit Session 2").click()
        org.get_by_role("textbox", name="Li Wei, Mayor", exact=True).fill("Opening keynote")
        org.get_by_role("button", name="Save session").click()
        expect(org.get_by_text("Session saved.")).to_be_visible()
    finally:
        context.close()
    with live_app.app_context():
        assert db.session.scalars(select(Session.title)).all() == ["Session 2"]
        assert db.session.scalar(select(Material.title)) == "Reading list 2026"
        assert db.session.scalar(select(SessionSpeaker.contribution)) == "Opening keynote"
