"""Attendance: organisers mark sessions, see the programme summary; access is per programme."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learnhub.attendance.models import Attendance
from learnhub.extensions import db
from tests import factories as f


@pytest.fixture
def setup(app):
    programme = f.make_programme(sessions=2)
    organiser = f.make_organiser(programme)
    present = f.make_registration(programme, f.make_user(full_name="Ana Present"))
    absent = f.make_registration(programme, f.make_user(full_name="Bo Absent"))
    f.make_registration(programme, f.make_user(full_name="Cy Cancelled"), status="cancelled")
    return programme, organiser, present, absent


def sheet_url(programme, session):
    return f"/organiser/programmes/{programme.slug}/sessions/{session.id}/attendance"


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
    marks = {
        a.registration_id: (a.status, a.recorded_by_id, a.method)
        for a in db.session.scalars(select(Attendance))
    }
    assert marks == {
        present.id: ("present", organiser.id, "manual"),
        absent.id: ("absent", organiser.id, "manual"),
    }
    summary = client.get(f"/organiser/programmes/{programme.slug}/attendance")
    html = summary.get_data(as_text=True)
    assert summary.status_code == 200
    assert "1 / 2" in html and "0 / 2" in html


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
    assert "Choose present or absent" in response.get_data(as_text=True)
    assert db.session.scalar(select(Attendance.id)) is None


def test_a_session_of_another_programme_is_404(client, setup):
    programme, organiser, _, _ = setup
    other = f.make_programme()
    f.sign_in(client, organiser)
    assert client.get(sheet_url(programme, other.sessions[0])).status_code == 404


def organiser_urls(app, programme, session):
    """Every organiser route, with this programme's values filled in."""
    values = {
        "slug": programme.slug,
        "session_id": session.id,
        "registration_id": 1,
        "question_id": 1,
        "member_id": 1,
        "direction": "up",
    }
    adapter = app.url_map.bind("localhost")
    urls = [
        adapter.build(rule.endpoint, {name: values[name] for name in rule.arguments})
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("organiser.")
    ]
    assert len(urls) >= 4
    return urls


@pytest.mark.parametrize("who", ["anonymous", "participant", "other_organiser"])
def test_access_matrix_over_every_organiser_route(app, client, setup, who):
    programme, _, present, _ = setup
    expected = {"anonymous": 302, "participant": 403, "other_organiser": 404}[who]
    if who == "participant":
        f.sign_in(client, present.user)
    elif who == "other_organiser":
        f.sign_in(client, f.make_organiser(f.make_programme()))
    for url in organiser_urls(app, programme, programme.sessions[0]):
        if "/programmes/" not in url and who == "other_organiser":
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code == 405:
                continue
            assert response.status_code == expected, f"{who} {method.upper()} {url}"
            if expected == 302:
                assert "/login" in response.headers["Location"]


def test_administrator_reaches_every_programme(client, setup):
    programme, _, _, _ = setup
    admin = f.make_user(role="admin")
    f.sign_in(client, admin)
    assert client.get(f"/organiser/programmes/{programme.slug}").status_code == 200
