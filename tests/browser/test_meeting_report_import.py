"""Importing a German Teams attendance report in a real browser: the organiser uploads the
UTF-16 file, the preview names the format and the columns, shows who was matched by name and
who will be marked absent, and applying it fills the attendance sheet (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.attendance.test_imports import PEOPLE

SAMPLE = Path(__file__).parents[1] / "attendance" / "samples" / "teams_attendance_report_de.csv"


@pytest.mark.browser
def test_organiser_imports_a_german_teams_report(live_app, live_server, page):
    from zoneinfo import ZoneInfo

    from playwright.sync_api import expect
    from sqlalchemy import select

    from learnhub.attendance.models import Attendance
    from learnhub.extensions import db
    from tests import factories as f

    starts = datetime(2026, 11, 14, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    with live_app.app_context():
        programme = f.make_programme(
            sessions=0, timezone="Europe/Berlin", first_session_in=timedelta(0)
        )
        session = f.make_session(programme, starts.astimezone(UTC), minutes=90, title="Sitzung 3")
        f.make_organiser(programme, email="officer@example.org", password="organiser-password")
        registrations = {
            name: f.make_registration(
                programme,
                f.make_user(full_name=name, email=email),
                confirmed_at=datetime(2026, 11, 1, tzinfo=UTC),
            ).id
            for name, email in PEOPLE.items()
        }
        slug, session_id = programme.slug, session.id
    server_errors: list[str] = []
    page.on("response", lambda r: r.status >= 500 and server_errors.append(f"{r.status} {r.url}"))

    page.goto(f"/organiser/programmes/{slug}/sessions/{session_id}/import")
    form = page.get_by_role("region", name="Sign in with your password")
    form.get_by_label("Email address").fill("officer@example.org")
    form.get_by_label("Password").fill("organiser-password")
    form.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import a meeting report")
    page.get_by_label("Participant report").set_input_files(str(SAMPLE))
    page.get_by_label("Time zone of the times in the report").select_option("Europe/Berlin")
    page.get_by_role("button", name="Preview").click()

    expect(page.locator("#report-format")).to_have_text("Teams attendance report (German)")
    expect(page.get_by_text("dates day-first")).to_be_visible()
    columns = page.get_by_role("table", name="Columns used")
    expect(columns).to_contain_text("Beitrittszeit (column 2)")
    expect(columns).to_contain_text("Zeitpunkt des Verlassens (column 3)")
    by_name = page.get_by_role("region", name="Matched by name")
    expect(by_name).to_contain_text("Chen Jing")
    absent = page.get_by_role("region", name="Will be marked absent")
    expect(absent).to_contain_text("Fatima Zahra")
    expect(absent).to_contain_text("Grace Kim")
    left_out = page.get_by_role("region", name="Rows left out")
    expect(left_out).to_contain_text("LearnHub Host")
    page.get_by_role("button", name="Apply the report").click()
    expect(page.get_by_text("Report imported")).to_be_visible()

    with live_app.app_context():
        marks = {
            row.registration_id: (row.status, row.minutes_attended)
            for row in db.session.scalars(select(Attendance))
        }
    assert marks == {
        registrations["Ana Souza"]: ("present", 87),
        registrations["José Martínez"]: ("present", 68),
        registrations["Fatima Zahra"]: ("absent", 19),
        registrations["Budi Santoso"]: ("late", 70),
        registrations["Chen Jing"]: ("present", 83),
        registrations["Grace Kim"]: ("absent", 0),
    }
    assert server_errors == []
