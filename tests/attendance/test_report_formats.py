"""Every common Zoom and Teams export, read right or refused with a message (issue 13).

The samples tell one meeting (Session 3, Madrid, 14 Nov 2026 09:30-11:00, the people of
test_imports.py) as each export tells it, in its real encoding: Zoom's unique users (UTF-8
BOM, CRLF), webinar Attendee Report (blocks, padded rows, "Nov 14, 2026 09:28:40", "--" for a
no-show), usage report export (the meeting's columns on every row, two "User Email" columns);
Teams' webinar report (UTF-16 LE TSV, registration columns, a row with no join time), German
and Spanish (UTF-16 LE TSV), French and Portuguese (UTF-8 BOM CSV) reports with day-first
dates and localised durations, and the older Teams list (UTF-16 LE TSV, Joined/Left rows).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from learnhub.attendance import imports
from learnhub.attendance.meeting_reports import merge_people, parse_report, status_by_rule
from learnhub.attendance.models import Attendance
from learnhub.extensions import db
from tests import factories as f
from tests.attendance.test_imports import (
    MADRID,
    SAMPLES,
    STARTS,
    current_marks,
    import_url,
    meeting,  # noqa: F401  (the fixture)
    nothing_saved,
    upload,
)
from tests.factories import sign_in

ENDS = STARTS + timedelta(minutes=90)

#: name -> (status, minutes, matched by) under the default rule; Grace Kim is missing from
#: every report (waiting room, no-show or absent) and is marked absent as a registrant.
BASE = {
    "Ana Souza": ("present", 87, "email"),
    "José Martínez": ("present", 68, "email"),
    "Fatima Zahra": ("absent", 19, "email"),
    "Budi Santoso": ("late", 70, "email"),
    "Chen Jing": ("present", 83, "name"),
    "Grace Kim": ("absent", 0, None),
}
BY_NAME = {name: (status, minutes, "name") for name, (status, minutes, _) in BASE.items()}
BY_NAME["Grace Kim"] = BASE["Grace Kim"]

#: sample -> (the format the preview names, the expected people, the rows left out).
FORMATS = {
    "zoom_participants.csv": ("Zoom participants export with meeting data", BASE, 2),
    "zoom_unique_users.csv": (
        "Zoom participants export, unique users",
        {  # Zoom adds up each row's rounded minutes; no join times, so nobody can be late
            **BASE,
            "Ana Souza": ("present", 89, "email"),
            "José Martínez": ("present", 84, "email"),  # two devices: Zoom counts both
            "Fatima Zahra": ("absent", 20, "email"),
            "Budi Santoso": ("present", 72, "email"),
        },
        1,
    ),
    "zoom_webinar_attendee_report.csv": ("Zoom webinar attendee report", BASE, 3),
    "zoom_usage_flat.csv": ("Zoom usage report export (meeting columns on every row)", BASE, 2),
    "teams_attendance_report.csv": ("Teams attendance report (English)", BASE, 1),
    "teams_attendance_report_utf8.csv": (
        "Teams attendance report (English), participants section only",
        {**BASE, "Ana Souza": ("present", 89, "email")},  # first join to last leave
        1,
    ),
    "teams_webinar_report.csv": ("Teams webinar attendance report (English)", BASE, 2),
    "teams_attendance_report_de.csv": ("Teams attendance report (German)", BASE, 1),
    "teams_attendance_report_fr.csv": ("Teams attendance report (French)", BASE, 1),
    "teams_attendance_report_es.csv": ("Teams attendance report (Spanish)", BASE, 1),
    "teams_attendance_report_pt.csv": ("Teams attendance report (Portuguese)", BASE, 1),
    "teams_attendance_list_legacy.csv": (
        "Teams attendance list (older format: Joined and Left rows)",
        BY_NAME,  # the list has no emails
        0,
    ),
}


@pytest.mark.parametrize("sample", list(FORMATS))
def test_each_export_gives_every_person_their_minutes_status_and_match(client, meeting, sample):  # noqa: F811
    programme, session, organiser, registrations = meeting
    label, expected, ignored = FORMATS[sample]
    sign_in(client, organiser)
    response = upload(client, programme, session, (SAMPLES / sample).read_bytes(), name=sample)
    assert response.status_code == 302, html.unescape(response.text)
    location = response.headers["Location"]
    page = html.unescape(client.get(location).text)
    assert f'<strong id="report-format">{label}</strong>' in page
    import_id = int(location.rsplit("/", 1)[1])
    preview = imports.preview_import(session, import_id)
    assert len(preview.report["ignored"]) == ignored, preview.report["ignored"]
    shown = {o.registrant_name: (o.status, o.minutes, o.matched_by) for o in preview.matched}
    shown |= {r.full_name: ("absent", 0, None) for r in preview.missing}
    assert shown == expected
    assert [o.name for o in preview.unmatched if o.name.startswith("+55")] == ["+55 11 5555 0100"]
    by_name = [o.registrant_name for o in preview.matched_by_name]
    assert sorted(by_name) == sorted(n for n, (_, _, how) in expected.items() if how == "name")
    assert sorted(preview.marked_absent) == ["Fatima Zahra", "Grace Kim"]

    assert client.post(location, data={"action": "apply"}).status_code == 302
    marks = current_marks(registrations)
    assert marks == {
        name: (status, minutes, "import") for name, (status, minutes, _) in expected.items()
    }


def _statuses(sample: str) -> dict[str, str]:
    report = parse_report((SAMPLES / sample).read_bytes(), "Europe/Madrid", STARTS)
    late_after = STARTS.timestamp() + 10 * 60
    length = (ENDS - STARTS).total_seconds()
    return {
        p.name: status_by_rule(p.seconds, p.joined, length, late_after, 75)
        for p in merge_people(report, STARTS, ENDS)
    }


def test_the_same_meeting_told_by_each_export_gives_the_same_marks():
    """Every format gives the same status to every person; the only difference is the one a
    format cannot tell: Zoom's unique users give no join times, so Budi is present, not late."""
    reference = _statuses("zoom_participants.csv")
    assert reference["Budi Santoso"] == "late" and len(reference) == 6
    for sample in FORMATS:
        statuses = _statuses(sample)
        if sample == "zoom_unique_users.csv":
            statuses["Budi Santoso"] = "late"
        if sample == "teams_attendance_list_legacy.csv":
            assert statuses.pop("LearnHub Host") == "present"  # no roles in the old list
        assert statuses == reference, sample


# --- the host's email in the usage report's flat export --------------------------------


def test_a_duplicated_user_email_column_never_marks_the_hosts_address(client, meeting):  # noqa: F811
    """The flat export repeats the meeting's columns, the host's "User Email" first, on every
    row: read by position within the participant block, the host's address is never a
    participant, even when the host is also a registrant."""
    programme, session, organiser, registrations = meeting
    host = f.make_registration(
        programme,
        f.make_user(full_name="LearnHub Host", email="host@learnhub.local"),
        confirmed_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    sign_in(client, organiser)
    data = (SAMPLES / "zoom_usage_flat.csv").read_bytes()
    assert data.count(b"host@learnhub.local") >= 9  # on every row, in the meeting's columns
    response = upload(client, programme, session, data, absent_if_missing="")
    location = response.headers["Location"]
    page = html.unescape(client.get(location).text)
    assert "User Email (column 14)" in page and "User Email (column 4)" in page
    client.post(location, data={"action": "apply"})
    marked = set(db.session.scalars(select(Attendance.registration_id)))
    assert host.id not in marked
    assert marked == {registrations[name].id for name in BASE if name != "Grace Kim"}


def test_user_email_columns_that_stay_ambiguous_are_refused_naming_them(client, meeting):  # noqa: F811
    programme, session, organiser, _ = meeting
    sign_in(client, organiser)
    data = (
        b"Participant,User Email,User Email,Join Time,Leave Time\r\n"
        b"Ana Souza,host@learnhub.local,ana.souza@prefeitura.sp.gov.br,"
        b"11/14/2026 09:28:40 AM,11/14/2026 10:15:00 AM\r\n"
    )
    response = upload(client, programme, session, data)
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert 'column 2 "User Email" and column 3 "User Email"' in text
    assert nothing_saved()


# --- locale --------------------------------------------------------------------------------


def _teams_fr(day: str) -> bytes:
    text = (SAMPLES / "teams_attendance_report_fr.csv").read_bytes().decode("utf-8-sig")
    return ("\ufeff" + text.replace("14/11/2026", day)).encode()


def test_a_french_report_is_read_day_first_for_the_whole_file_even_when_ambiguous():
    """05/11/2026 in a French report is 5 November, for every row: the language decides, not
    each row's own guess and not the session's date."""
    starts = datetime(2026, 11, 5, 9, 30, tzinfo=MADRID)
    report = parse_report(_teams_fr("05/11/2026"), "Europe/Madrid", starts)
    assert report.day_first is True
    people = {
        p.name: p.minutes for p in merge_people(report, starts, starts + timedelta(hours=1.5))
    }
    assert people["Ana Souza"] == 87 and people["Budi Santoso"] == 70


def test_a_value_over_twelve_decides_the_order_for_every_row():
    data = (
        b"email,name,join,leave\n"
        b"a@x.org,A,11/05/2026 09:30:00,11/05/2026 10:30:00\n"
        b"b@x.org,B,13/05/2026 09:30:00,13/05/2026 10:30:00\n"
    )
    report = parse_report(data, "UTC", datetime(2026, 5, 11, 9, 30, tzinfo=UTC))
    assert report.day_first is True
    first = datetime.fromtimestamp(report.connections[0].joined, UTC)
    assert first == datetime(2026, 5, 11, 9, 30, tzinfo=UTC)  # 11 May, not 5 November


def test_dates_written_both_ways_are_refused():
    data = (
        b"email,name,join,leave\n"
        b"a@x.org,A,13/11/2026 09:30:00,13/11/2026 10:30:00\n"
        b"b@x.org,B,11/14/2026 09:30:00,11/14/2026 10:30:00\n"
    )
    with pytest.raises(Exception, match=r"dates are read (day|month)-first \(1\S+ can only be"):
        parse_report(data, "UTC", datetime(2026, 11, 13, 9, 30, tzinfo=UTC))


def test_a_french_report_for_another_day_is_refused_naming_both_ranges(client, meeting):  # noqa: F811
    programme, session, organiser, _ = meeting
    sign_in(client, organiser)
    response = upload(client, programme, session, _teams_fr("05/11/2026"))
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "the report runs Thu 5 Nov 2026, 09:28\u201311:01 CET (Europe/Madrid)" in text
    assert "the session Sat 14 Nov 2026, 09:30\u201311:00 CET (Europe/Madrid)" in text


@pytest.mark.parametrize(
    "text, minutes",
    [
        ("1h 2m 3s", 62.05),
        ("1 Std. 2 Min. 3 Sek.", 62.05),
        ("1 h 2 min 3 s", 62.05),
        ("2 Min.", 2),
        ("45 s", 0.75),
        ("1:02:03", 62.05),
        ("1 hora 2 minutos", 62),
    ],
)
def test_localised_durations_are_read(text, minutes):
    from learnhub.attendance.report_times import duration_minutes

    assert duration_minutes(text, 1) == pytest.approx(minutes)


@pytest.mark.parametrize("text", ["", "soon", "1 Tag", "5"])
def test_a_duration_we_cannot_read_names_its_line(text):
    from learnhub.attendance.report_base import ReportError
    from learnhub.attendance.report_times import duration_minutes

    with pytest.raises(ReportError, match="Line 7"):
        duration_minutes(text, 7)


# --- wrong files and sanity checks ---------------------------------------------------------

WRONG_FILES = {
    "xlsx": (b"PK\x03\x04\x14\x00\x06\x00" + bytes(300), "an Excel workbook"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(100), "a PDF document"),
    "not a report": (
        b"Title,Author,Year\r\nThe City,Ana,2020\r\n",
        "does not look like a Zoom or Teams participant report",
    ),
    "webinar with only no-shows": (
        b"Attendee Report,\r\nAttendee Details,\r\n"
        b"Attended,User Name (Original Name),Email,Join Time,Leave Time,\r\n"
        b"No,Grace Kim,grace.kim@seoul.go.kr,--,--,\r\n",
        "lists no attendee who attended",
    ),
    "teams without participants": (
        "1. Summary\nMeeting title\tX\n".encode("utf-16"),
        'no "2. Participants" section',
    ),
}


@pytest.mark.parametrize("case", list(WRONG_FILES))
def test_a_wrong_file_says_what_was_expected(client, meeting, case):  # noqa: F811
    programme, session, organiser, _ = meeting
    data, message = WRONG_FILES[case]
    sign_in(client, organiser)
    response = upload(client, programme, session, data)
    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert nothing_saved()


def test_a_spreadsheet_saved_with_semicolons_is_read(client, meeting):  # noqa: F811
    programme, session, organiser, registrations = meeting
    data = (SAMPLES / "generic_attendance.csv").read_text().replace(",", ";").encode()
    sign_in(client, organiser)
    response = upload(client, programme, session, data)
    assert response.status_code == 302
    client.post(response.headers["Location"], data={"action": "apply"})
    assert current_marks(registrations)["Budi Santoso"] == ("late", 70, "import")


def test_a_report_for_a_session_that_has_not_started_is_refused(client, app):
    programme = f.make_programme(sessions=0, timezone="Europe/Madrid")
    session = f.make_session(programme, datetime.now(UTC) + timedelta(days=3), minutes=90)
    organiser = f.make_organiser(programme)
    sign_in(client, organiser)
    data = (SAMPLES / "zoom_participants.csv").read_bytes()
    response = upload(client, programme, session, data)
    assert response.status_code == 422
    assert "This session has not started yet" in html.unescape(response.text)
    assert nothing_saved()


def test_a_report_that_matches_no_registrant_says_so(client, app):
    programme = f.make_programme(
        sessions=0, timezone="Europe/Madrid", first_session_in=timedelta(0)
    )
    session = f.make_session(programme, STARTS.astimezone(UTC), minutes=90)
    organiser = f.make_organiser(programme)
    f.make_registration(programme, f.make_user(full_name="Someone Else"))
    sign_in(client, organiser)
    response = upload(client, programme, session, (SAMPLES / "zoom_participants.csv").read_bytes())
    page = html.unescape(client.get(response.headers["Location"]).text)
    assert "No one in this report matched a confirmed registrant of this programme" in page
    assert client.get(import_url(programme, session)).status_code == 200


def test_a_teams_report_whose_summary_title_is_unknown_takes_its_language_from_the_header():
    text = (SAMPLES / "teams_attendance_report_es.csv").read_bytes().decode("utf-16")
    data = text.replace("1. Resumen", "1. Información general").encode("utf-16")
    report = parse_report(data, "Europe/Madrid", STARTS)
    assert report.label == "Teams attendance report (Spanish)" and report.day_first is True


def test_a_usage_export_over_several_meetings_keeps_the_sessions_meeting():
    """The usage report's export covers a date range: the rows of the meeting that began
    nearest the session's start are read, the others are left out and listed."""
    data = (SAMPLES / "zoom_usage_flat.csv").read_bytes()
    other = data.splitlines()[4].decode().replace("812 3456 7890", "899 0000 1111")
    other = other.replace("11/14/2026", "11/15/2026")
    report = parse_report(data + other.encode() + b"\r\n", "Europe/Madrid", STARTS)
    assert report.label.endswith(", meeting 812 3456 7890 of 2")
    assert [why for _, _, why in report.ignored][-1] == (
        "another meeting (ID 899 0000 1111) in the same export"
    )
    people = {p.name: p.minutes for p in merge_people(report, STARTS, ENDS)}
    assert people["Ana Souza"] == 87 and people["José Martínez"] == 68


def test_a_later_row_that_only_reads_day_first_turns_the_whole_file():
    """The first row (11/05) is ambiguous and the session's date suggests month-first, but
    13/05 on the next row only reads day-first: every row is read day-first, 11/05 too."""
    data = (
        b"email,name,join,leave\n"
        b"a@x.org,A,11/05/2026 09:30:00,11/05/2026 10:30:00\n"
        b"b@x.org,B,13/05/2026 09:30:00,13/05/2026 10:30:00\n"
    )
    report = parse_report(data, "UTC", datetime(2026, 11, 5, 9, 30, tzinfo=UTC))
    assert report.day_first is True
    first = datetime.fromtimestamp(report.connections[0].joined, UTC)
    assert first == datetime(2026, 5, 11, 9, 30, tzinfo=UTC)
