"""Attendance: the sheet, bulk actions, the programme report and exports, "My attendance",
and the access matrix over every attendance route."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from learnhub.attendance import services
from learnhub.attendance.errors import AttendanceError
from learnhub.attendance.models import Attendance
from learnhub.extensions import db
from learnhub.types import utcnow
from tests import factories as f
from tests.test_query_counts import counted_statements


@pytest.fixture
def setup(app):
    programme = f.past_programme(sessions=2)
    organiser = f.make_organiser(programme)
    present = f.early_registration(programme, f.make_user(full_name="Ana Present"))
    absent = f.early_registration(programme, f.make_user(full_name="Bo Absent"))
    f.make_registration(programme, f.make_user(full_name="Cy Cancelled"), status="cancelled")
    return programme, organiser, present, absent


def sheet_url(programme, session):
    return f"/organiser/programmes/{programme.slug}/sessions/{session.id}/attendance"


def marks():
    return {a.registration_id: (a.status, a.method) for a in db.session.scalars(select(Attendance))}


def test_organiser_marks_attendance_and_sees_the_summary(client, setup):
    programme, organiser, present, absent = setup
    session = programme.sessions[0]
    f.sign_in(client, organiser)
    page = client.get(sheet_url(programme, session)).get_data(as_text=True)
    assert "Ana Present" in page and "Bo Absent" in page
    assert "Cy Cancelled" not in page
    response = client.post(
        sheet_url(programme, session), data={f"r{present.id}": "present", f"r{absent.id}": "absent"}
    )
    assert response.status_code == 302
    recorded = {
        a.registration_id: (a.status, a.recorded_by_id, a.method)
        for a in db.session.scalars(select(Attendance))
    }
    assert recorded == {
        present.id: ("present", organiser.id, "manual"),
        absent.id: ("absent", organiser.id, "manual"),
    }
    summary = client.get(f"/organiser/programmes/{programme.slug}/attendance")
    html = summary.get_data(as_text=True)
    assert summary.status_code == 200
    # Session 2 is not marked: it counts, unmarked, in the denominator.
    assert "1 / 2" in html and "0 / 2" in html
    assert "<svg" in html and "Session 1: 50%" in html


def test_late_and_excused_and_clearing_a_mark(client, setup):
    programme, organiser, present, absent = setup
    session = programme.sessions[0]
    f.sign_in(client, organiser)
    client.post(sheet_url(programme, session), data={f"r{present.id}": "late"})
    client.post(sheet_url(programme, session), data={f"r{absent.id}": "excused"})
    assert marks() == {present.id: ("late", "manual"), absent.id: ("excused", "manual")}
    client.post(sheet_url(programme, session), data={f"r{present.id}": ""})
    assert marks() == {absent.id: ("excused", "manual")}


def test_marking_again_updates_instead_of_duplicating(client, setup):
    programme, organiser, present, _ = setup
    session = programme.sessions[0]
    f.sign_in(client, organiser)
    client.post(sheet_url(programme, session), data={f"r{present.id}": "present"})
    client.post(sheet_url(programme, session), data={f"r{present.id}": "absent"})
    statuses = list(db.session.scalars(select(Attendance.status)))
    assert statuses == ["absent"]


def test_an_unknown_status_is_refused_and_nothing_saved(client, setup):
    programme, organiser, present, _ = setup
    f.sign_in(client, organiser)
    response = client.post(
        sheet_url(programme, programme.sessions[0]), data={f"r{present.id}": "asleep"}
    )
    assert response.status_code == 200
    assert "Choose present, late, excused or absent" in response.get_data(as_text=True)
    assert db.session.scalar(select(Attendance.id)) is None


def test_bulk_marks_the_selected_and_then_everyone_unmarked(client, setup):
    programme, organiser, present, absent = setup
    other = f.early_registration(programme, f.make_user(full_name="Di Other"))
    session = programme.sessions[0]
    f.sign_in(client, organiser)
    response = client.post(
        sheet_url(programme, session),
        data={"action": "bulk", "bulk_status": "present", "selected": [present.id, other.id]},
    )
    assert response.status_code == 302
    assert marks() == {present.id: ("present", "manual"), other.id: ("present", "manual")}
    client.post(sheet_url(programme, session), data={"action": "absent_unmarked"})
    assert marks()[absent.id] == ("absent", "manual")
    assert marks()[present.id] == ("present", "manual")
    page = client.post(sheet_url(programme, session), data={"action": "bulk", "selected": []})
    assert "Select at least one participant" in page.get_data(as_text=True)


def test_someone_who_registered_after_a_session_is_never_counted_absent(client, setup):
    programme, organiser, present, _ = setup
    late_comer = f.make_registration(programme, f.make_user(full_name="Eve Latecomer"))
    first = programme.sessions[0]
    f.sign_in(client, organiser)
    client.post(sheet_url(programme, first), data={"action": "absent_unmarked"})
    assert late_comer.id not in marks()
    client.post(sheet_url(programme, first), data={f"r{late_comer.id}": "absent"})
    assert late_comer.id not in marks()
    assert "Registered after this session" in client.get(sheet_url(programme, first)).text
    with pytest.raises(AttendanceError, match="registered after"):
        services.record_attendance(first.id, {late_comer.id: "absent"}, organiser)
    db.session.rollback()
    html = client.get(f"/organiser/programmes/{programme.slug}/attendance").get_data(as_text=True)
    assert "0 / 0" in html  # Eve: no session counts against her
    assert "n/a" in html


def test_below_the_completion_rule_and_the_rule_can_change(client, setup):
    programme, organiser, present, absent = setup
    for session in programme.sessions:
        f.make_attendance(session, present, "present")
    f.make_attendance(programme.sessions[0], absent, "present")
    f.make_attendance(programme.sessions[1], absent, "absent")
    f.sign_in(client, organiser)
    url = f"/organiser/programmes/{programme.slug}/attendance"
    html = client.get(url).get_data(as_text=True)
    risk = html.split('id="risk-heading"')[1].split("</section>")[0]
    assert "Bo Absent" in risk and "Ana Present" not in risk
    assert client.post(url, data={"completion_percent": "50"}).status_code == 302
    risk = client.get(url).get_data(as_text=True).split('id="risk-heading"')[1]
    assert "Bo Absent" not in risk.split("</section>")[0]
    assert client.post(url, data={"completion_percent": "0"}).status_code == 200


def test_exports_csv_and_xlsx(client, setup):
    programme, organiser, present, absent = setup
    f.make_attendance(programme.sessions[0], present, "present")
    f.make_attendance(programme.sessions[0], absent, "excused")
    f.sign_in(client, organiser)
    csv_response = client.get(f"/organiser/programmes/{programme.slug}/attendance.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    lines = csv_response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith('Name,Email,Organisation,"1. ')
    assert lines[1].startswith("Ana Present,") and ",present,,,,1,2,50.0" in lines[1]
    assert lines[2].startswith("Bo Absent,") and ",excused,,,,0,1,0.0" in lines[2]
    xlsx = client.get(f"/organiser/programmes/{programme.slug}/attendance.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:5] == ("Ana Present", present.user.email, None, "present", None)
    assert rows[-1][0] == "Attendance rate (%)" and rows[-1][3] == 100.0


def test_the_report_counts_each_participant_and_session_by_the_rule(app):
    """Held sessions count unless excused or not yet registered; sessions to come are
    `remaining`; a registration's standing says the same as its line of the report."""
    programme = f.make_programme(
        sessions=3, first_session_in=-timedelta(days=10), completion_percent=50
    )
    first, second, coming = programme.sessions
    ana = f.early_registration(programme, f.make_user(full_name="Ana"))
    bo = f.early_registration(programme, f.make_user(full_name="Bo"))
    eve = f.make_registration(
        programme, f.make_user(full_name="Eve"), confirmed_at=utcnow() - timedelta(days=5)
    )
    for session, registration, status in [
        (first, ana, "present"),
        (second, ana, "late"),
        (first, bo, "excused"),
        (second, bo, "absent"),
        (coming, bo, "excused"),
        (second, eve, "present"),
    ]:
        f.make_attendance(session, registration, status)
    report = services.programme_report(programme)
    lines = {line.participant.full_name: line for line in report.participants}
    assert list(lines) == ["Ana", "Bo", "Eve"]
    numbers = {
        name: (line.cells, line.attended, line.counted, line.remaining, line.needed, line.rate)
        for name, line in lines.items()
    }
    assert numbers == {
        "Ana": (["present", "late", None], 2, 2, 1, 2, 1.0),
        "Bo": (["excused", "absent", "excused"], 0, 1, 0, 1, 0.0),
        "Eve": (["not_expected", "present", None], 1, 1, 1, 1, 1.0),
    }
    assert [line.participant.full_name for line in report.below_rule] == ["Bo"]
    assert not lines["Bo"].can_still_complete and lines["Ana"].can_still_complete
    sessions = [(s.held, s.counts, s.attended, s.counted, s.rate) for s in report.sessions]
    none = dict.fromkeys(("present", "late", "excused", "absent"), 0)
    assert sessions == [
        (True, {**none, "present": 1, "excused": 1}, 1, 1, 1.0),
        (True, {**none, "present": 1, "late": 1, "absent": 1}, 2, 3, 2 / 3),
        (False, {**none, "excused": 1}, 0, 0, None),
    ]
    standing = services.attendance_standing([ana, bo, eve])
    for registration in (ana, bo, eve):
        alone, in_report = standing[registration.id], lines[registration.user.full_name]
        assert (alone.cells, alone.attended, alone.counted, alone.remaining, alone.needed) == (
            in_report.cells,
            in_report.attended,
            in_report.counted,
            in_report.remaining,
            in_report.needed,
        )


def _csv_and_xlsx(client, programme):
    text = client.get(f"/organiser/programmes/{programme.slug}/attendance.csv").text
    csv_rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    response = client.get(f"/organiser/programmes/{programme.slug}/attendance.xlsx")
    assert response.status_code == 200
    return csv_rows, load_workbook(io.BytesIO(response.data)).active


def _as_csv(value, text: str):
    """An XLSX value as the CSV's text, numbers compared as numbers (100 is "100.0")."""
    if value is None:
        return ""
    if isinstance(value, int | float) and text and float(text) == value:
        return text
    return value


def test_a_cancelled_session_is_left_out_of_the_report_like_the_standing(app):
    programme = f.make_programme(sessions=2, first_session_in=-timedelta(days=10))
    held, called_off = programme.sessions
    called_off.status = "cancelled"
    ana = f.early_registration(programme, f.make_user(full_name="Ana"))
    f.make_attendance(held, ana, "present")
    db.session.commit()
    report = services.programme_report(programme)
    assert [line.session.id for line in report.sessions] == [held.id]
    (line,) = report.participants
    assert (line.cells, line.attended, line.counted, line.rate) == (["present"], 1, 1, 1.0)
    alone = services.attendance_standing([ana])[ana.id]
    assert (alone.cells, alone.attended, alone.counted) == (line.cells, 1, 1)


def test_the_xlsx_holds_the_same_matrix_as_the_csv(client):
    """Every cell of the XLSX equals the CSV's (empty where the CSV is empty), counts and
    rates are numbers, the header is bold and stays in view."""
    programme = f.make_programme(sessions=3, first_session_in=-timedelta(days=10))
    organiser = f.make_organiser(programme)
    held, also_held, coming = programme.sessions
    ana = f.early_registration(programme, f.make_user(full_name="Ana Present"))
    ana.user.organisation_name = "Ayuntamiento de Madrid"
    bo = f.early_registration(programme, f.make_user(full_name="Bo Mixed"))
    eve = f.make_registration(
        programme, f.make_user(full_name="Eve Latecomer"), confirmed_at=utcnow() - timedelta(days=5)
    )
    f.make_attendance(held, ana, "present")
    f.make_attendance(also_held, ana, "late")
    f.make_attendance(held, bo, "excused")
    f.make_attendance(also_held, bo, "absent")
    f.make_attendance(also_held, eve, "present")
    db.session.commit()
    f.sign_in(client, organiser)
    csv_rows, sheet = _csv_and_xlsx(client, programme)
    madrid = "Ayuntamiento de Madrid"
    assert csv_rows[1:] == [
        ["Ana Present", ana.user.email, madrid, "present", "", "late", "", "", "", "2", "2",
         "100.0"],
        ["Bo Mixed", bo.user.email, "", "excused", "", "absent", "", "", "", "0", "1", "0.0"],
        ["Eve Latecomer", eve.user.email, "", "not registered yet", "", "present", "", "", "",
         "1", "1", "100.0"],
        ["Attendance rate (%)", "", "", "100.0", "", "66.7", "", "", "", "", "", ""],
    ]  # fmt: skip
    xlsx_rows = list(sheet.iter_rows(values_only=True))
    assert len(xlsx_rows) == len(csv_rows)
    for csv_row, xlsx_row in zip(csv_rows, xlsx_rows, strict=True):
        assert [_as_csv(value, text) for value, text in zip(xlsx_row, csv_row, strict=True)] == (
            csv_row
        )
    assert xlsx_rows[1][-3:] == (2, 2, 100.0)
    assert all(cell.font.b for cell in sheet[1]) and not sheet["A2"].font.b
    assert sheet.freeze_panes == "B2"


def test_text_that_looks_like_a_formula_or_an_error_stays_text_in_both_exports(client, setup):
    programme, organiser, present, absent = setup
    present.user.full_name = '=HYPERLINK("https://attacker.example","Ana")'
    present.user.organisation_name = "+34 City"
    absent.user.full_name = "Ana\x0bSouza"  # a control character pasted into a name
    absent.user.organisation_name = "#N/A"
    db.session.commit()
    f.sign_in(client, organiser)
    csv_rows, sheet = _csv_and_xlsx(client, programme)
    attacker = next(row for row in csv_rows if "HYPERLINK" in row[0])
    assert attacker[0] == '\'=HYPERLINK("https://attacker.example","Ana")'
    assert attacker[2] == "'+34 City"
    cells = {cell.value: cell for row in sheet.iter_rows(max_col=3) for cell in row}
    formula = cells['=HYPERLINK("https://attacker.example","Ana")']
    assert formula.data_type == "s"
    assert cells["+34 City"].data_type == "s"
    assert cells["#N/A"].data_type == "s"  # text, not an error value
    assert "AnaSouza" in cells  # XLSX cannot hold the control character: dropped, not a 500
    assert any(row[0] == "Ana\x0bSouza" for row in csv_rows)


@pytest.mark.parametrize("size", [3, 12])
def test_report_and_sheet_query_counts_do_not_grow(app, client, size):
    programme = f.past_programme(sessions=4)
    organiser = f.make_organiser(programme)
    for _ in range(size):
        registration = f.early_registration(programme)
        f.make_attendance(
            programme.sessions[0], registration, "present", recorded_by_id=organiser.id
        )
    f.sign_in(client, organiser)
    for url in (
        f"/organiser/programmes/{programme.slug}/attendance",
        f"/organiser/programmes/{programme.slug}/attendance.xlsx",
        sheet_url(programme, programme.sessions[0]),
    ):
        with counted_statements(app) as statements:
            assert client.get(url).status_code == 200
        assert len(statements) <= 7, (url, statements)


def test_participant_sees_their_own_attendance(client, setup):
    programme, _, present, absent = setup
    f.make_attendance(programme.sessions[0], present, "late", minutes_attended=61)
    f.make_attendance(programme.sessions[0], absent, "absent")
    f.sign_in(client, present.user)
    html = client.get("/me/attendance").get_data(as_text=True)
    assert programme.title in html and "Late" in html and "61" in html
    assert "Not marked" in html  # session 2
    assert "Absent" not in html.split("<main")[1]  # nobody else's marks
    assert "(Asia/Seoul)" in html


def test_a_session_of_another_programme_is_404(client, setup):
    programme, organiser, _, _ = setup
    other = f.make_programme()
    f.sign_in(client, organiser)
    assert client.get(sheet_url(programme, other.sessions[0])).status_code == 404


def organiser_urls(app, programme, session):
    """Every route under /organiser/ (the workspace's, attendance's and email's), with this
    programme's values filled in."""
    from learnhub.notifications.models import Announcement

    announcement = f.save(
        Announcement(programme_id=programme.id, subject="s", body="b", audience="confirmed")
    )
    values = {
        "slug": programme.slug,
        "session_id": session.id,
        "import_id": 1,
        "announcement_id": announcement.id,
        "registration_id": 1,
        "question_id": 1,
        "member_id": 1,
        "direction": "up",
        "module_id": 1,
        "material_id": 1,
        "person_id": 1,
        "organisation_id": 1,
        "position": 1,
        "post_id": 1,
        "certificate_id": 1,
    }
    adapter = app.url_map.bind("localhost")
    urls = [
        (rule.endpoint, adapter.build(rule.endpoint, {n: values[n] for n in rule.arguments}))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/organiser/")
    ]
    assert len(urls) >= 16
    return urls


@pytest.mark.parametrize("who", ["anonymous", "participant", "other_organiser", "no_right"])
def test_access_matrix_over_every_organiser_route(app, client, setup, who):
    programme, _, present, _ = setup
    expected = {"anonymous": 302, "participant": 403, "other_organiser": 404, "no_right": 404}
    if who == "participant":
        f.sign_in(client, present.user)
    elif who == "other_organiser":
        f.sign_in(client, f.make_organiser(f.make_programme()))
    elif who == "no_right":
        from learnhub.accounts.models import ProgrammeTeamMember

        organiser = f.make_organiser(programme)
        member = db.session.scalar(
            select(ProgrammeTeamMember).where(ProgrammeTeamMember.user_id == organiser.id)
        )
        member.manage_attendance = False
        db.session.commit()
        f.sign_in(client, organiser)
    checked = 0
    for endpoint, url in organiser_urls(app, programme, programme.sessions[0]):
        if f"/programmes/{programme.slug}" not in url and who in ("other_organiser", "no_right"):
            continue
        if who == "no_right" and not endpoint.startswith("attendance."):
            continue  # other pages need other rights, which they keep
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code == 405:
                continue
            checked += 1
            assert response.status_code == expected[who], f"{who} {method.upper()} {url}"
            if expected[who] == 302:
                assert "/login" in response.headers["Location"]
    assert checked >= 10
    assert db.session.scalar(select(Attendance.id)) is None


@pytest.mark.parametrize("url", ["/check-in", "/me/attendance"])
def test_participant_routes_need_a_sign_in(client, url):
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if response.status_code != 405:
            assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_administrator_reaches_every_programme(client, setup):
    programme, _, _, _ = setup
    admin = f.make_user(role="admin")
    f.sign_in(client, admin)
    assert client.get(f"/organiser/programmes/{programme.slug}").status_code == 200
    assert client.get(f"/organiser/programmes/{programme.slug}/attendance").status_code == 200
    assert client.get(sheet_url(programme, programme.sessions[1])).status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "participant", "organiser"])
def test_admin_routes_are_for_administrators_only(app, client, setup, who):
    programme, organiser, present, _ = setup
    expected = {"anonymous": 302, "participant": 403, "organiser": 403}[who]
    if who != "anonymous":
        f.sign_in(client, present.user if who == "participant" else organiser)
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin/")]
    assert rules
    adapter = app.url_map.bind("localhost")
    for rule in rules:
        url = adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, 1))
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code == 405:
                continue
            assert response.status_code == expected, f"{who} {method.upper()} {url}"


def test_the_report_counts_a_session_once_it_has_started(client, app):
    programme = f.make_programme(sessions=1, first_session_in=-timedelta(minutes=10))
    organiser = f.make_organiser(programme)
    registration = f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=1))
    f.make_attendance(programme.sessions[0], registration, "present")
    f.sign_in(client, organiser)
    html = client.get(f"/organiser/programmes/{programme.slug}/attendance").get_data(as_text=True)
    assert "1 / 1" in html and "100.0%" in html


@pytest.mark.parametrize("size", [2, 6])
def test_my_attendance_query_count_does_not_grow(app, client, size):
    user = f.make_user()
    for _ in range(size):
        programme = f.past_programme(sessions=3)
        registration = f.early_registration(programme, user)
        f.make_attendance(programme.sessions[0], registration, "present")
    f.sign_in(client, user)
    with counted_statements(app) as statements:
        assert client.get("/me/attendance").status_code == 200
    assert len(statements) <= 6, statements


@pytest.mark.parametrize("odd", ["²", "99999999999999999999"])
def test_a_bulk_selection_that_is_no_registration_id_changes_nothing_not_a_500(client, setup, odd):
    """ "²" passes str.isdigit() but int() refuses it; SQLite cannot bind a number past the
    largest row id. Both answered 500; now they select no one."""
    programme, organiser, present, _ = setup
    f.sign_in(client, organiser)
    page = client.post(
        sheet_url(programme, programme.sessions[0]),
        data={"action": "bulk", "bulk_status": "present", "selected": [odd]},
    )
    assert "Select at least one participant" in page.get_data(as_text=True)
    assert marks() == {}
