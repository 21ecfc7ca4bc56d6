"""A participant's learning path in a real browser: opens a module's guidebook and recording,
marks the module complete, sees the progress bar move, and once the attendance rule is met
downloads the PDF certificate (read back with pypdf) and checks it on the verification page,
which also rejects a made-up code."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

PASSWORD = "participant-password-1"
TITLE = "On-line training program on Resilient City"
NAME = "João São Paulo"


def _course(tmp_path, live_app):
    from learnhub.catalogue.models import ProgrammeOrganisation
    from learnhub.types import utcnow
    from tests import factories as f

    upload = tmp_path / "uploads"
    upload.mkdir(exist_ok=True)
    (upload / "guide.pdf").write_bytes(b"%PDF-1.4 the guidebook")
    live_app.config["UPLOAD_FOLDER"] = str(upload)
    programme = f.past_programme(
        sessions=2, title=TITLE, edition="2nd edition", completion_percent=50
    )
    host = f.make_organisation("United Cities and Local Governments Asia-Pacific")
    programme.organisation_links.append(
        ProgrammeOrganisation(organisation=host, role="host", position=0)
    )
    f.save(programme)
    module = f.make_module(programme, 1, "Climate resilience")
    f.make_material(
        programme,
        kind="guidebook",
        title="Resilient City guidebook",
        file_name="guide.pdf",
        url=None,
        download_name="resilient-city-guidebook.pdf",
        content_type="application/pdf",
        size_bytes=22,
        visibility="registered",
        module_id=module.id,
    )
    f.make_material(
        programme,
        kind="recording",
        title="Climate resilience session",
        url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        visibility="registered",
        module_id=module.id,
        session_id=programme.sessions[0].id,
    )
    participant = f.make_user(email="joao@example.org", full_name=NAME, password=PASSWORD)
    registration = f.make_registration(
        programme, participant, confirmed_at=utcnow() - timedelta(days=30)
    )
    organiser = f.make_organiser(programme)
    return programme.slug, programme.sessions[0].id, registration.id, organiser.id


@pytest.mark.browser
def test_participant_follows_a_module_and_earns_a_verifiable_certificate(
    live_app, live_server, page, tmp_path
):
    from playwright.sync_api import expect
    from pypdf import PdfReader

    from learnhub.accounts.models import User
    from learnhub.attendance import services as attendance
    from learnhub.extensions import db

    with live_app.app_context():
        slug, session_id, registration_id, organiser_id = _course(tmp_path, live_app)
    server_errors: list[str] = []
    page.on("response", lambda r: r.status >= 500 and server_errors.append(f"{r.status} {r.url}"))
    # The players' own sites are not part of this test (and the machine may be offline).
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server) else route.abort()
        ),
    )

    page.goto("/login")
    form = page.get_by_role("region", name="Sign in with your password")
    form.get_by_label("Email address").fill("joao@example.org")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()

    # The programme page shows an empty progress bar.
    page.goto(f"/programmes/{slug}")
    bar = page.locator("#learning progress")
    expect(bar).to_have_attribute("value", "0")
    expect(bar).to_have_attribute("max", "3")  # 2 sessions + 1 module

    # The module: the guidebook downloads...
    page.get_by_role("link", name="Climate resilience").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Module 1: Climate resilience")
    with page.expect_download() as download:
        page.get_by_role("link", name="Resilient City guidebook").click()
    assert download.value.suggested_filename == "resilient-city-guidebook.pdf"
    page.reload()
    expect(page.locator("li", has_text="Resilient City guidebook")).to_contain_text("Opened")

    # ...the recording plays in a privacy-friendly frame, with a plain link beside it.
    page.get_by_role("link", name="Watch: Climate resilience session").click()
    frame = page.locator("iframe")
    expect(frame).to_have_attribute("src", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ")
    expect(page.get_by_role("link", name="Open the recording on its own site")).to_have_attribute(
        "href", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    )
    page.go_back()
    page.reload()
    expect(page.locator("li", has_text="Climate resilience session")).to_contain_text("Opened")

    # Marking the module complete moves the bar.
    page.get_by_role("button", name="Mark this module complete").click()
    expect(page.get_by_text("Module 1 is complete.")).to_be_visible()
    page.goto(f"/programmes/{slug}")
    expect(bar).to_have_attribute("value", "1")
    expect(page.locator("#learning")).not_to_contain_text("Download your certificate")

    # The organiser records attendance: 1 of 2 sessions meets the 50% rule.
    with live_app.app_context():
        attendance.record_attendance(
            session_id, {registration_id: "present"}, db.session.get(User, organiser_id)
        )
    page.reload()
    expect(bar).to_have_attribute("value", "2")
    expect(page.locator("#learning")).to_contain_text("You completed this programme.")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download your certificate (PDF)").click()
    text = PdfReader(io.BytesIO(download.value.path().read_bytes())).pages[0].extract_text()
    assert NAME in text
    assert TITLE in text

    # Anyone can check the code; a made-up one is rejected.
    page.get_by_role("link", name="Verification page").click()
    expect(page.get_by_role("status")).to_contain_text("Valid.")
    expect(page.get_by_role("main")).to_contain_text(NAME)
    code = page.url.rsplit("/", 1)[1]
    assert code in text
    response = page.goto("/certificates/MADE-UPXX-CODE")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("No certificate has the code")
    assert server_errors == []
