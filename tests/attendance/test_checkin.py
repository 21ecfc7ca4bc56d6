"""Self check-in: the organiser opens it, registrants type the code during the window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnhub.attendance import checkin
from learnhub.attendance.models import Attendance, CheckIn, CheckInAttempt
from learnhub.extensions import db
from learnhub.types import utcnow
from tests import factories as f
from tests.factories import sign_in


@pytest.fixture
def running(app):
    """A session that started five minutes ago, an organiser, a confirmed registrant."""
    programme = f.make_programme(sessions=1, first_session_in=-timedelta(minutes=5))
    organiser = f.make_organiser(programme)
    registration = f.make_registration(programme, f.make_user(full_name="Joana Conceição"))
    return programme, programme.sessions[0], organiser, registration


def check_in_url(programme, session):
    return f"/organiser/programmes/{programme.slug}/sessions/{session.id}/check-in"


def test_organiser_opens_check_in_and_sees_code_and_qr(client, running):
    programme, session, organiser, _ = running
    sign_in(client, organiser)
    response = client.post(check_in_url(programme, session), data={"grace_minutes": "15"})
    assert response.status_code == 302
    check_in = db.session.scalar(select(CheckIn))
    assert check_in.grace_minutes == 15 and len(check_in.code) == 6
    assert set(check_in.code) <= set(checkin.CODE_ALPHABET)
    html = client.get(check_in_url(programme, session)).text
    assert check_in.code in html and "<svg" in html
    assert f"/check-in?code={check_in.code}" in html
    assert "No one has checked in yet." in html
    # Without JavaScript the list refreshes by a link; check_in.js swaps it for a live list.
    assert f'<a href="{check_in_url(programme, session)}">Refresh the list</a>' in html
    assert "check_in.js" in html and "data-live-hint hidden" in html
    client.post(check_in_url(programme, session) + "/close")
    assert db.session.scalar(select(CheckIn.opened_at)) is None


def test_participant_checks_in_with_the_code_and_appears_as_arrival(client, running):
    programme, session, organiser, registration = running
    code = f.make_check_in(session, grace_minutes=10).code
    sign_in(client, registration.user)
    form = client.get(f"/check-in?code={code}").text
    assert f'value="{code}"' in form  # the QR link fills the code in
    response = client.post("/check-in", data={"code": f" {code.lower()} "})
    assert response.status_code == 200
    assert "You are checked in" in response.text and "present" in response.text
    mark = db.session.scalar(select(Attendance))
    assert (mark.status, mark.method, mark.recorded_by_id) == (
        "present",
        "self_check_in",
        registration.user_id,
    )
    again = client.post("/check-in", data={"code": code})
    assert "You had already checked in" in again.text
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 1
    sign_in(client, organiser)
    arrivals = client.get(check_in_url(programme, session)).text
    assert "Arrivals (1 of 1)" in arrivals and "Joana Conceição" in arrivals


def test_after_the_grace_period_a_check_in_is_late(app, running):
    _, session, _, registration = running
    code = f.make_check_in(session, grace_minutes=2).code
    result = checkin.check_in(registration.user, code)
    assert result.status == "late"


def test_a_wrong_code_is_refused_then_rate_limited(client, running):
    _, session, _, registration = running
    code = f.make_check_in(session).code
    sign_in(client, registration.user)
    for left in range(checkin.MAX_WRONG_CODES - 1, 0, -1):
        response = client.post("/check-in", data={"code": "WRONG1"})
        assert response.status_code == 422
        assert "That code is not right" in response.text and f"({left} attempt" in response.text
    client.post("/check-in", data={"code": "WRONG1"})
    refused = client.post("/check-in", data={"code": code})  # even the right one, for now
    assert refused.status_code == 429 and "Too many wrong codes" in refused.text
    assert db.session.scalar(select(Attendance.id)) is None
    # Once the window has passed the right code works.
    later = utcnow() + checkin.WRONG_CODE_WINDOW + timedelta(seconds=1)
    assert checkin.check_in(registration.user, code, now=later).status == "late"


def test_outside_the_window_the_answer_says_when_check_in_opens(app, running):
    programme, _, _, registration = running
    registration.user.timezone = "America/Sao_Paulo"
    db.session.commit()
    upcoming = f.make_session(programme, utcnow() + timedelta(days=1), timezone="Asia/Seoul")
    code = f.make_check_in(upcoming).code
    with pytest.raises(checkin.CheckInError) as error:
        checkin.check_in(registration.user, code)
    db.session.rollback()
    opens = upcoming.starts_at - checkin.CHECK_IN_OPENS_BEFORE
    assert "opens at" in str(error.value)
    assert "(Asia/Seoul)" in str(error.value) and "(America/Sao_Paulo)" in str(error.value)
    from learnhub.timefmt import format_moment

    assert format_moment(opens, "Asia/Seoul") in str(error.value)
    ended = f.make_session(programme, utcnow() - timedelta(days=1))
    with pytest.raises(checkin.CheckInError, match="closed at"):
        checkin.check_in(registration.user, f.make_check_in(ended).code)
    db.session.rollback()
    assert db.session.scalar(select(CheckInAttempt.id)) is None  # not counted as wrong codes


def test_closed_check_in_and_non_registrants_are_refused(app, running):
    _, session, _, _ = running
    code = f.make_check_in(session, open=False).code
    stranger = f.make_user()
    with pytest.raises(checkin.CheckInError, match="closed at the moment"):
        checkin.check_in(stranger, code)
    db.session.rollback()
    db.session.get(CheckIn, db.session.scalar(select(CheckIn.id))).opened_at = utcnow()
    db.session.commit()
    with pytest.raises(checkin.CheckInError, match="not a confirmed participant"):
        checkin.check_in(stranger, code)
    db.session.rollback()
    assert db.session.scalar(select(Attendance.id)) is None


def test_check_in_cannot_be_opened_for_a_session_that_ended(client, app):
    programme = f.make_programme(sessions=1, first_session_in=-timedelta(days=3))
    organiser = f.make_organiser(programme)
    sign_in(client, organiser)
    response = client.post(
        check_in_url(programme, programme.sessions[0]), data={"grace_minutes": "5"}
    )
    assert "check-in can no longer be opened" in response.text
    assert db.session.scalar(select(CheckIn.id)) is None
    bad = client.post(check_in_url(programme, programme.sessions[0]), data={"grace_minutes": "x"})
    assert bad.status_code == 200 and db.session.scalar(select(CheckIn.id)) is None
