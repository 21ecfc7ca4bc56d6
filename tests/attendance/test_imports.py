"""Importing Zoom, Teams and generic participant reports: preview, apply, idempotence, errors.

The samples in samples/ follow the real exports: Zoom's "Participants" CSV (UTF-8 with BOM,
meeting block first, "11/14/2026 09:31:05 AM"), Teams' attendance report (UTF-16 LE TSV with
three sections, "11/14/26, 9:31:05 AM", a narrow no-break space before AM in places) and the
same report saved as UTF-8 CSV by an en-GB tenant (day-first, 24-hour, sections 1 and 2 only).
They hold reconnects (Ana), a second device overlapping (José), a rename (Budi), a guest
without an email (Chen Jing), a phone dial-in, a waiting-room row (Grace) and the host.
"""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from learnhub.attendance.models import Attendance, AttendanceImport
from learnhub.extensions import db
from tests import factories as f
from tests.factories import sign_in

SAMPLES = Path(__file__).parent / "samples"
MADRID = ZoneInfo("Europe/Madrid")
STARTS = datetime(2026, 11, 14, 9, 30, tzinfo=MADRID)

PEOPLE = {
    "Ana Souza": "ana.souza@prefeitura.sp.gov.br",
    "José Martínez": "jose.martinez@madrid.es",
    "Fatima Zahra": "fatima.zahra@rabat.ma",
    "Budi Santoso": "budi.santoso@jakarta.go.id",
    "Chen Jing": "chen.jing@chengdu.gov.cn",
    "Grace Kim": "grace.kim@seoul.go.kr",
}
#: name -> (status, minutes) under the default rule (75 %, late after 10 minutes).
EXPECTED = {
    "Ana Souza": ("present", 87),  # two connections: 45 + 42.7 minutes inside the session
    "José Martínez": ("present", 68),  # a second device overlapping is not counted twice
    "Fatima Zahra": ("absent", 19),
    "Budi Santoso": ("late", 70),  # joined 20 minutes after the start
    "Chen Jing": ("present", 83),  # guest without email, matched by name
    "Grace Kim": ("absent", 0),  # only in the waiting room: not in the report
}


@pytest.fixture
def meeting(app):
    programme = f.make_programme(
        sessions=0, timezone="Europe/Madrid", first_session_in=timedelta(0)
    )
    session = f.make_session(programme, STARTS.astimezone(UTC), minutes=90, title="Session 3")
    organiser = f.make_organiser(programme)
    registrations = {
        name: f.make_registration(
            programme,
            f.make_user(full_name=name, email=email),
            confirmed_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        for name, email in PEOPLE.items()
    }
    return programme, session, organiser, registrations


def import_url(programme, session):
    return f"/organiser/programmes/{programme.slug}/sessions/{session.id}/import"


def upload(client, programme, session, data: bytes, name="report.csv", **fields):
    form = {
        "report": (io.BytesIO(data), name),
        "times_timezone": "Europe/Madrid",
        "present_percent": "75",
        "late_minutes": "10",
        "absent_if_missing": "y",
        **fields,
    }
    return client.post(
        import_url(programme, session), data=form, content_type="multipart/form-data"
    )


def current_marks(registrations):
    names = {r.id: name for name, r in registrations.items()}
    return {
        names[a.registration_id]: (a.status, a.minutes_attended, a.method)
        for a in db.session.scalars(select(Attendance))
    }


def nothing_saved():
    return (
        db.session.scalar(select(func.count()).select_from(Attendance)) == 0
        and db.session.scalar(select(func.count()).select_from(AttendanceImport)) == 0
    )


@pytest.mark.parametrize(
    "sample",
    [
        "zoom_participants.csv",
        "teams_attendance_report.csv",
        "teams_attendance_report_utf8.csv",
        "generic_attendance.csv",
    ],
)
def test_a_real_format_report_is_previewed_then_applied(client, meeting, sample):
    programme, session, organiser, registrations = meeting
    sign_in(client, organiser)
    response = upload(client, programme, session, (SAMPLES / sample).read_bytes(), name=sample)
    assert response.status_code == 302, response.text
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0  # preview only
    page = preview.text
    assert "Chen Jing" in page and "name" in page  # matched by name, shown as such
    if sample != "generic_attendance.csv":
        assert "+55 11 5555 0100" in page  # to match by hand
        assert "LearnHub Host" in page  # left out as the host, and shown as such
    applied = client.post(response.headers["Location"], data={"action": "apply"})
    assert applied.status_code == 302
    expected = {name: (status, minutes, "import") for name, (status, minutes) in EXPECTED.items()}
    if sample == "teams_attendance_report_utf8.csv":
        # One summary row per person: Ana's 89 minutes span her reconnect.
        expected["Ana Souza"] = ("present", 89, "import")
    assert current_marks(registrations) == expected
    record = db.session.scalar(select(AttendanceImport))
    assert record.state == "applied" and record.people is None
    first_join = db.session.scalar(
        select(Attendance.first_seen_at).where(
            Attendance.registration_id == registrations["Budi Santoso"].id
        )
    )
    assert first_join == datetime(2026, 11, 14, 9, 50, tzinfo=MADRID)


def test_importing_the_same_file_twice_changes_nothing(client, meeting):
    programme, session, organiser, registrations = meeting
    sign_in(client, organiser)
    data = (SAMPLES / "zoom_participants.csv").read_bytes()
    location = upload(client, programme, session, data).headers["Location"]
    client.post(location, data={"action": "apply"})
    before = current_marks(registrations)
    again = upload(client, programme, session, data)
    assert again.status_code == 422
    assert "already imported for this session" in again.text
    assert current_marks(registrations) == before
    assert db.session.scalar(select(func.count()).select_from(AttendanceImport)) == 1
    # Applying a second staged copy of the same file is refused too.
    client.post(location, data={"action": "apply"})
    assert current_marks(registrations) == before


def test_unmatched_rows_can_be_matched_by_hand_or_ignored(client, meeting):
    programme, session, organiser, registrations = meeting
    sign_in(client, organiser)
    location = upload(
        client, programme, session, (SAMPLES / "zoom_participants.csv").read_bytes()
    ).headers["Location"]
    page = client.get(location).text
    # The phone dial-in is Grace on the phone.
    phone_index = page.split('value="name:+55 11 5555 0100"')[0].rsplit('name="key-', 1)[1]
    phone_index = phone_index.split('"')[0]
    client.post(
        location,
        data={
            "action": "apply",
            f"key-{phone_index}": "name:+55 11 5555 0100",
            f"match-{phone_index}": "Grace.Kim@seoul.go.kr ",
        },
    )
    assert current_marks(registrations)["Grace Kim"] == ("absent", 50, "import")  # 50 of 90


def test_a_registrant_matched_by_hand_who_registered_after_the_session_is_never_absent(app):
    from learnhub.attendance.imports import ImportSettings, apply_import, stage_import

    starts = datetime(2026, 11, 14, 9, 30, tzinfo=ZoneInfo("Europe/Madrid")).astimezone(UTC)
    programme = f.make_programme(sessions=0, timezone="Europe/Madrid")
    session = f.make_session(programme, starts, minutes=90)
    organiser = f.make_organiser(programme)
    late = f.make_registration(
        programme, f.make_user(email="zed@example.org"), confirmed_at=starts + timedelta(days=2)
    )
    report = b"email,name,join,leave\n,Someone Else,2026-11-14 09:30:00,2026-11-14 09:35:00\n"
    staged = stage_import(session.id, "r.csv", report, ImportSettings("Europe/Madrid"), organiser)
    apply_import(session.id, staged, {"name:someone else": "zed@example.org"}, organiser)
    marks = db.session.scalars(
        select(Attendance.status).where(Attendance.registration_id == late.id)
    )
    assert "absent" not in list(marks)


def test_excused_marks_are_kept_and_discard_saves_nothing(client, meeting):
    programme, session, organiser, registrations = meeting
    f.make_attendance(session, registrations["Fatima Zahra"], "excused")
    sign_in(client, organiser)
    data = (SAMPLES / "zoom_participants.csv").read_bytes()
    location = upload(client, programme, session, data).headers["Location"]
    assert "Kept because excused: 1" in client.get(location).text
    client.post(location, data={"action": "discard"})
    assert db.session.scalar(select(AttendanceImport.state)) == "discarded"
    assert current_marks(registrations) == {"Fatima Zahra": ("excused", None, "manual")}
    location = upload(client, programme, session, data).headers["Location"]
    client.post(location, data={"action": "apply"})
    assert current_marks(registrations)["Fatima Zahra"] == ("excused", None, "manual")


def test_the_rule_is_the_organisers(client, meeting):
    programme, session, organiser, registrations = meeting
    sign_in(client, organiser)
    data = (SAMPLES / "zoom_participants.csv").read_bytes()
    location = upload(
        client,
        programme,
        session,
        data,
        present_percent="25",
        late_minutes="30",
        absent_if_missing="",
    ).headers["Location"]
    client.post(location, data={"action": "apply"})
    marks = current_marks(registrations)
    assert marks["Budi Santoso"][0] == "present"  # 20 minutes late is within 30
    assert marks["Fatima Zahra"][0] == "absent"  # 19 of 90 minutes is under 25 %
    assert "Grace Kim" not in marks  # not in the report, and not marked absent


BAD_FILES = {
    "empty": (b"", "The file is empty"),
    "not text": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not UTF-8 or UTF-16"),
    "latin-1": (
        "email,name,join,leave\nj@x.es,José,2026-11-14 09:30:00,2026-11-14 10:30:00\n".encode(
            "latin-1"
        ),
        "not UTF-8 or UTF-16",
    ),
    "no columns": (b"a,b,c\n1,2,3\n", "does not look like a Zoom or Teams participant report"),
    "bad time": (
        b"email,name,join,leave\na@x.org,A,yesterday,2026-11-14 10:00:00\n",
        'Line 2: "yesterday" is not a date and time',
    ),
    "short row": (
        b"email,name,join,leave\na@x.org,A,2026-11-14 09:30:00\n",
        "Line 2 has 3 columns",
    ),
    "leave before join": (
        b"email,name,join,leave\na@x.org,A,2026-11-14 10:30:00,2026-11-14 09:30:00\n",
        "leave time is before the join time",
    ),
    "other day": (
        b"email,name,join,leave\na@x.org,A,2025-01-01 09:30:00,2025-01-01 10:30:00\n",
        "This report's times do not overlap the session: the report runs "
        "Wed 1 Jan 2025, 09:30\u201310:30 CET (Europe/Madrid), the session "
        "Sat 14 Nov 2026, 09:30\u201311:00 CET (Europe/Madrid)",
    ),
    "header only": (b"email,name,join,leave\n", "lists no participants"),
    "no overlap": (  # the right day, but everyone left before the session began
        b"email,name,join,leave\na@x.org,A,2026-11-14 07:00:00,2026-11-14 08:15:00\n",
        "No one in this report was connected during the session: the report runs "
        "Sat 14 Nov 2026, 07:00\u201308:15 CET (Europe/Madrid), the session "
        "Sat 14 Nov 2026, 09:30\u201311:00 CET (Europe/Madrid)",
    ),
    "NUL in a row": (
        b"email,name,join,leave\na@x.org,A\x00B,2026-11-14 09:30:00,2026-11-14 10:00:00\n",
        "contains NUL characters",
    ),
    "field too long": (
        b'email,name,join,leave\na@x.org,"' + b"A" * 200_000 + b'",2026-11-14 09:30:00,x\n',
        "not a well-formed CSV",
    ),
    "huge": (b"email,name,join,leave\n" + b"x" * (6 * 1024 * 1024), "larger than 5 MB"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_malformed_file_gives_a_clear_message_and_saves_nothing(client, meeting, case):
    programme, session, organiser, _ = meeting
    data, message = BAD_FILES[case]
    sign_in(client, organiser)
    response = upload(client, programme, session, data)
    assert response.status_code == 422, response.status_code
    assert message in html.unescape(response.text)
    assert nothing_saved()


@pytest.mark.parametrize(
    "moment, zone",
    [("9999-12-31 23:30:00", "America/Los_Angeles"), ("01/01/0001 00:30:00", "Asia/Seoul")],
)
def test_a_time_at_the_ends_of_the_calendar_is_refused_not_a_500(client, meeting, moment, zone):
    """In a zone behind UTC, 9999-12-31 23:30 is in year 10000 in UTC; ahead of it,
    0001-01-01 00:30 is before year 1: reading either overflowed (OverflowError), a 500."""
    programme, session, organiser, _ = meeting
    sign_in(client, organiser)
    data = f"email,name,join,leave\na@x.org,A,{moment},2026-11-14 10:00:00\n".encode()
    response = upload(client, programme, session, data, times_timezone=zone)
    assert response.status_code == 422
    assert f'Line 2: "{moment}" is not a date and time' in html.unescape(response.text)
    assert nothing_saved()


def test_a_zoom_file_cut_in_the_middle_is_refused(client, meeting):
    programme, session, organiser, _ = meeting
    data = (SAMPLES / "zoom_participants.csv").read_bytes()
    cut = data[: data.index(b"Fatima") + 40]
    sign_in(client, organiser)
    response = upload(client, programme, session, cut)
    assert response.status_code == 422 and "The file may have been cut" in response.text
    assert nothing_saved()


def test_the_upload_form_asks_for_the_zone_and_a_missing_file(client, meeting):
    programme, session, organiser, _ = meeting
    sign_in(client, organiser)
    page = client.get(import_url(programme, session)).text
    assert '<option selected value="Europe/Madrid">' in page
    response = client.post(import_url(programme, session), data={"times_timezone": "Europe/Madrid"})
    assert response.status_code == 422 and "Choose the report file." in response.text
    assert nothing_saved()


def test_a_teams_report_without_its_byte_order_mark_still_reads(app, meeting):
    from learnhub.attendance.meeting_reports import merge_people, parse_report

    _, session, _, _ = meeting
    data = (SAMPLES / "teams_attendance_report.csv").read_bytes()
    assert data.startswith(b"\xff\xfe")
    report = parse_report(data[2:], "Europe/Madrid", session.starts_at)
    people = {p.name: p.minutes for p in merge_people(report, session.starts_at, session.ends_at)}
    assert report.source == "teams" and people["Ana Souza"] == 87 and people["Chen Jing"] == 83


def test_the_preview_reads_a_fixed_number_of_statements(app, client, meeting):
    from tests.test_query_counts import counted_statements

    programme, session, organiser, _ = meeting
    for _ in range(20):  # more registrants do not mean more statements
        f.make_registration(programme, confirmed_at=datetime(2026, 11, 1, tzinfo=UTC))
    sign_in(client, organiser)
    data = (SAMPLES / "zoom_participants.csv").read_bytes()
    location = upload(client, programme, session, data).headers["Location"]
    with counted_statements(app) as statements:
        assert client.get(location).status_code == 200
    assert len(statements) <= 7, statements


def test_a_preview_staged_in_an_earlier_layout_asks_for_the_report_again(client, meeting):
    programme, session, organiser, registrations = meeting
    sign_in(client, organiser)
    data = (SAMPLES / "zoom_participants.csv").read_bytes()
    location = upload(client, programme, session, data).headers["Location"]
    record = db.session.scalar(select(AttendanceImport))
    record.people = '[["ana.souza@prefeitura.sp.gov.br","Ana Souza",null,0,0,null,null]]'
    db.session.commit()
    shown = client.get(location, follow_redirects=True)
    assert shown.status_code == 200 and "upload the report again" in shown.text
    applied = client.post(location, data={"action": "apply"}, follow_redirects=True)
    assert "upload the report again" in applied.text
    assert current_marks(registrations) == {}
    client.post(location, data={"action": "discard"})
    assert db.session.scalar(select(AttendanceImport.state)) == "discarded"
