"""Time sanity on the public and organiser pages (issue 14): "upcoming" means a session still
to come, cancelled sessions leave every count and total and are marked wherever listed, and a
session held with nobody expected says so."""

from __future__ import annotations

from datetime import timedelta

from learnhub.types import utcnow
from tests import factories as f


def _cut(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end)]


def test_a_programme_whose_sessions_are_all_over_is_not_upcoming(client):
    """One session dated in the past and one cancelled still to come: nothing left to attend."""
    programme = f.make_programme(title="Looked upcoming", sessions=2)
    programme.sessions[0].starts_at = utcnow() - timedelta(days=2)
    programme.sessions[0].ends_at = programme.sessions[0].starts_at + timedelta(hours=1)
    programme.sessions[1].status = "cancelled"
    f.save(programme)
    html = client.get("/").get_data(as_text=True)
    assert "Looked upcoming" in _cut(html, "Past programmes", "</main>")
    assert "Looked upcoming" not in _cut(html, "upcoming-heading", "Past programmes")


def test_a_running_programme_shows_its_next_session_under_upcoming(client):
    programme = f.make_programme(title="Half way", sessions=3, first_session_in=-timedelta(days=8))
    html = client.get("/").get_data(as_text=True)
    upcoming = _cut(html, "upcoming-heading", "Past programmes")
    assert "Half way" in upcoming and "Next session:" in upcoming
    next_day = programme.sessions[2].starts_at.strftime("%-d %b %Y")
    assert next_day in upcoming


def test_cancelled_sessions_leave_the_public_totals_and_are_marked(client):
    programme = f.make_programme(sessions=3, session_length=timedelta(hours=2))
    module = f.make_module(programme, 1, "Climate resilience")
    cancelled = programme.sessions[2]
    cancelled.status = "cancelled"
    for session in programme.sessions:
        session.module_id = module.id
    f.save(programme, *programme.sessions)
    page = client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
    assert "2 live sessions, 4.0 hours in all" in page
    assert "3 live sessions" not in page
    module_page = client.get(f"/programmes/{programme.slug}/modules/1").get_data(as_text=True)
    assert f"{cancelled.title} — <strong>cancelled</strong>" in module_page


def test_cancelled_sessions_are_marked_on_the_organisers_pages(client):
    programme = f.make_programme(sessions=2)
    organiser = f.make_organiser(programme)
    programme.sessions[1].status = "cancelled"
    f.save(programme.sessions[1])
    registration = f.early_registration(programme)
    f.sign_in(client, organiser)
    dashboard = client.get(f"/organiser/programmes/{programme.slug}").get_data(as_text=True)
    assert "Session 2 <strong>cancelled</strong>" in dashboard
    f.sign_in(client, registration.user)
    mine = client.get("/me/attendance").get_data(as_text=True)
    assert "Cancelled" in mine


def test_a_session_held_with_nobody_expected_says_so(client):
    """Everyone registered after the first session: it was held, not "not held yet"."""
    programme = f.make_programme(sessions=2, first_session_in=-timedelta(days=3))
    organiser = f.make_organiser(programme)
    f.make_registration(programme)  # confirmed now, after the first session
    f.sign_in(client, organiser)
    html = client.get(f"/organiser/programmes/{programme.slug}/attendance").get_data(as_text=True)
    assert "held, nobody expected" in html
    assert html.count("not held yet") == 2  # the second session: its row and the chart's text


def test_cancelling_through_the_organiser_page_updates_the_public_totals(client):
    programme = f.make_programme(sessions=3, session_length=timedelta(hours=2))
    organiser = f.make_organiser(programme)
    assert "3 live sessions, 6.0 hours" in client.get(f"/programmes/{programme.slug}").text
    f.sign_in(client, organiser)
    session = programme.sessions[1]
    client.post(
        f"/organiser/programmes/{programme.slug}/sessions/{session.id}/cancel",
        data={"confirmed": "yes"},
    )
    client.post("/logout")
    page = client.get(f"/programmes/{programme.slug}").text
    assert "2 live sessions, 4.0 hours" in page
    assert f"{session.title}</strong> — <strong>cancelled</strong>" in page
