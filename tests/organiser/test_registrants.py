"""Organisers manage registrants: list, filters, decisions, moves, settings, questions, CSV."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.registration.models import Registration, RegistrationQuestion
from tests import factories as f


def url(programme, tail=""):
    return f"/organiser/programmes/{programme.slug}{tail}"


def status_of(registration) -> str:
    db.session.refresh(registration)
    return registration.status


def test_list_search_and_filters_by_state_and_answer(client):
    programme = f.make_programme(capacity=1)
    sector = f.make_question(programme, "Sector", kind="single_choice", choices=["Water", "Energy"])
    ana = f.make_registration(
        programme, f.make_user(full_name="Ana Souza"), answers={sector: "Water"}
    )
    f.make_registration(
        programme,
        f.make_user(full_name="Budi Santoso"),
        status="waitlisted",
        answers={sector: "Energy"},
    )
    f.sign_in(client, f.make_organiser(programme))
    page = client.get(url(programme, "/registrants")).get_data(as_text=True)
    assert "Ana Souza" in page and "Budi Santoso" in page
    assert "Confirmed: 1" in page and "Waiting list: 1" in page and "(number 1)" in page
    page = client.get(url(programme, "/registrants?q=souza")).get_data(as_text=True)
    assert "Ana Souza" in page and "Budi Santoso" not in page
    page = client.get(url(programme, "/registrants?status=waitlisted")).get_data(as_text=True)
    assert "Ana Souza" not in page and "Budi Santoso" in page
    page = client.get(url(programme, f"/registrants?question={sector.id}&answer=wat")).get_data(
        as_text=True
    )
    assert "Ana Souza" in page and "Budi Santoso" not in page
    odd = client.get(url(programme, "/registrants?q=%25_%5C&status=nonsense&question=x"))
    assert odd.status_code == 200
    assert ana.id


def test_bulk_approve_and_reject_with_their_emails(client):
    programme = f.make_programme(capacity=1, approval_required=True)
    a, b, c = (f.make_registration(programme, status="pending") for _ in range(3))
    f.sign_in(client, f.make_organiser(programme))
    response = client.post(
        url(programme, "/registrants/decide"), data={"action": "approve", "ids": [a.id, b.id]}
    )
    assert response.status_code == 302
    assert (status_of(a), status_of(b)) == ("confirmed", "waitlisted")
    client.post(url(programme, "/registrants/decide"), data={"action": "reject", "ids": [c.id]})
    assert status_of(c) == "rejected"
    kinds = sorted(db.session.scalars(select(OutboxMessage.kind)))
    assert kinds == ["registration_approved", "registration_rejected", "registration_waitlisted"]
    nothing = client.post(url(programme, "/registrants/decide"), data={"action": "approve"})
    assert nothing.status_code == 302
    follow = client.get(nothing.headers["Location"]).get_data(as_text=True)
    assert "Select at least one registration." in follow


def test_an_organiser_cannot_touch_another_programmes_registrants(client):
    mine = f.make_programme(approval_required=True)
    theirs = f.make_programme(approval_required=True)
    their_registration = f.make_registration(theirs, status="pending")
    f.sign_in(client, f.make_organiser(mine))
    assert client.get(url(theirs, "/registrants")).status_code == 404
    client.post(
        url(mine, "/registrants/decide"), data={"action": "approve", "ids": [their_registration.id]}
    )
    client.post(
        url(mine, f"/registrants/{their_registration.id}/move"), data={"status": "confirmed"}
    )
    assert status_of(their_registration) == "pending"


def test_move_between_states_refuses_what_breaks_the_rules(client):
    programme = f.make_programme(capacity=1)
    holder = f.make_registration(programme)
    waiting = f.make_registration(programme, status="waitlisted")
    f.sign_in(client, f.make_organiser(programme))
    response = client.post(
        url(programme, f"/registrants/{waiting.id}/move"), data={"status": "confirmed"}
    )
    assert "Every seat is taken" in client.get(response.headers["Location"]).get_data(as_text=True)
    client.post(url(programme, f"/registrants/{holder.id}/move"), data={"status": "cancelled"})
    assert (status_of(holder), status_of(waiting)) == ("cancelled", "confirmed")


def test_settings_save_in_the_programmes_zone_and_raise_capacity_promotes(client):
    programme = f.make_programme(capacity=1, timezone="Asia/Seoul")
    f.make_registration(programme)
    waiting = f.make_registration(programme, status="waitlisted")
    f.sign_in(client, f.make_organiser(programme))
    response = client.post(
        url(programme, "/registration-settings"),
        data={"capacity": "2", "closes_at": "2030-03-01T18:00", "waitlist_enabled": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(programme)
    assert programme.capacity == 2
    assert programme.registration_closes_at.isoformat() == "2030-03-01T09:00:00+00:00"
    assert programme.approval_required is False
    assert status_of(waiting) == "confirmed"
    for bad in ({"capacity": "-1"}, {"capacity": "many"}, {"capacity": "1", "opens_at": "x"}):
        answer = client.post(url(programme, "/registration-settings"), data=bad)
        assert answer.status_code == 422
    below = client.post(url(programme, "/registration-settings"), data={"capacity": "1"})
    assert "2 people already hold a seat" in below.get_data(as_text=True)
    window = client.post(
        url(programme, "/registration-settings"),
        data={"opens_at": "2030-03-02T10:00", "closes_at": "2030-03-01T10:00"},
    )
    assert "must close after it opens" in window.get_data(as_text=True)


def test_questions_are_added_reordered_and_deleted(client):
    programme = f.make_programme()
    f.sign_in(client, f.make_organiser(programme))
    for label in ("First", "Second"):
        client.post(url(programme, "/questions"), data={"label": label, "kind": "short_text"})
    refused = client.post(
        url(programme, "/questions"),
        data={"label": "Pick", "kind": "single_choice", "choices": "A"},
    )
    assert refused.status_code == 422 and "at least two choices" in refused.get_data(as_text=True)
    first, second = db.session.scalars(
        select(RegistrationQuestion).order_by(RegistrationQuestion.position)
    ).all()
    client.post(url(programme, f"/questions/{second.id}/move/up"))
    db.session.expire_all()
    labels = db.session.scalars(
        select(RegistrationQuestion.label).order_by(RegistrationQuestion.position)
    ).all()
    assert labels == ["Second", "First"]
    client.post(url(programme, f"/questions/{second.id}/delete"), data={"confirmed": "yes"})
    db.session.expire_all()
    remaining = db.session.execute(
        select(RegistrationQuestion.label, RegistrationQuestion.position)
    ).all()
    assert [tuple(r) for r in remaining] == [("First", 1)]


def test_csv_export_is_streamed_utf8_with_bom_and_safe_for_excel(client):
    programme = f.make_programme()
    q = f.make_question(programme, "Topics", kind="multiple_choice", choices=["A", "B"])
    f.make_registration(programme, f.make_user(full_name="Joana Conceição"), answers={q: "A\nB"})
    f.make_registration(programme, f.make_user(full_name='=HYPERLINK("x")'))
    f.sign_in(client, f.make_organiser(programme))
    response = client.get(url(programme, "/registrants.csv"))
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Registration", "Status"] and rows[0][-1] == "Topics"
    assert "Registered at (UTC)" in rows[0]
    by_name = {row[3]: row for row in rows[1:]}
    assert by_name["Joana Conceição"][-1] == "A; B"
    assert '\'=HYPERLINK("x")' in by_name, "formula-looking cells are neutralised"
    filtered = client.get(url(programme, "/registrants.csv?q=joana")).get_data()
    assert len(list(csv.reader(io.StringIO(filtered.decode("utf-8-sig"))))) == 2
    assert db.session.scalar(select(Registration.id)) is not None


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
junk = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "0", "-1", "99999999999", "0001-01-01T00:00", "9999-12-31T23:59", "y"]),
)


@FUZZ
@given(
    endpoint=st.sampled_from(["/registration-settings", "/questions", "/team"]),
    data=st.dictionaries(
        st.sampled_from(
            [
                "capacity",
                "opens_at",
                "closes_at",
                "approval_required",
                "waitlist_enabled",
                "label",
                "kind",
                "required",
                "choices",
                "email",
                "manage_programme",
            ]
        ),
        junk,
    ),
)
def test_organiser_registration_forms_never_answer_500(client, endpoint, data):
    programme = f.make_programme(timezone="Pacific/Kiritimati")
    f.sign_in(client, f.make_organiser(programme))
    response = client.post(url(programme, endpoint), data=data)
    assert response.status_code in (302, 422), response.status_code


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T23:59", "1999-12-31T23:00"])
def test_dates_out_of_range_are_refused_not_a_500(client, moment):
    programme = f.make_programme(timezone="Pacific/Kiritimati")
    f.sign_in(client, f.make_organiser(programme))
    response = client.post(url(programme, "/registration-settings"), data={"opens_at": moment})
    assert response.status_code == 422
    assert "between the years 2000 and 2100" in response.get_data(as_text=True)


@pytest.mark.parametrize("odd", ["²", "99999999999999999999"])
def test_an_id_that_is_no_row_id_in_filters_and_decisions_is_refused_not_a_500(client, odd):
    """ "²" passes str.isdigit() but int() refuses it, and SQLite cannot bind a number past
    the largest row id: both answered 500."""
    programme = f.make_programme(approval_required=True)
    pending = f.make_registration(programme, status="pending")
    f.sign_in(client, f.make_organiser(programme))
    for tail in ("/registrants", "/registrants.csv"):
        assert client.get(url(programme, tail), query_string={"question": odd}).status_code == 200
    response = client.post(
        url(programme, "/registrants/decide"), data={"action": "approve", "ids": [odd]}
    )
    assert response.status_code == 302
    assert "tick at least one person" in client.get(url(programme, "/registrants")).text
    assert status_of(pending) == "pending"
