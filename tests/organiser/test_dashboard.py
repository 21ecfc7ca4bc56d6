"""The organiser workspace: a programme's overview dashboard (its figures against known data),
the organiser home's figures, the grouped navigation and the checkable lists."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from learnhub.accounts.models import ProgrammeTeamMember
from learnhub.catalogue.models import Programme, ProgrammeOrganisation
from learnhub.extensions import db
from learnhub.organiser import dashboard
from learnhub.types import utcnow
from tests import factories as f
from tests.test_query_counts import counted_statements

DAY_A = datetime(2026, 3, 2, 9, 0)
DAY_B = datetime(2026, 3, 4, 23, 30)
DAY_C = datetime(2026, 3, 9, 0, 15)


def _created(registration, when: datetime) -> None:
    registration.created_at = when.replace(tzinfo=utcnow().tzinfo)


def _known_programme() -> tuple[Programme, dict]:
    """Two sessions held, one to come (in Seoul); 5 seats: 3 confirmed, 2 waitlisted, 1
    pending, 1 cancelled; registered on three days; two failed emails of its own."""
    programme = f.past_programme(sessions=2, capacity=5, timezone="Asia/Seoul")
    upcoming = f.make_session(
        programme,
        utcnow().replace(microsecond=0) + timedelta(days=3),
        title="Next workshop",
        join_url="https://meet.example.org/next",
    )
    first, second = programme.sessions[0], programme.sessions[1]
    r1, r2, r3 = (f.early_registration(programme) for _ in range(3))
    w1 = f.make_registration(programme, status="waitlisted")
    w2 = f.make_registration(programme, status="waitlisted")
    pending = f.make_registration(programme, status="pending")
    cancelled = f.make_registration(programme, status="cancelled")
    for registration, when in [
        (r1, DAY_A),
        (r2, DAY_A),
        (r3, DAY_B),
        (w1, DAY_B),
        (w2, DAY_C),
        (pending, DAY_C),
        (cancelled, DAY_C),
    ]:
        _created(registration, when)
    db.session.commit()
    # First session: 2 of 3 attended; second: 1 of 2 (r3 excused). r1 100%, r2 50%, r3 0%.
    for registration, status in [(r1, "present"), (r2, "late"), (r3, "absent")]:
        f.make_attendance(first, registration, status)
    for registration, status in [(r1, "present"), (r2, "absent"), (r3, "excused")]:
        f.make_attendance(second, registration, status)
    f.make_outbox_message(status="failed", registration_id=r1.id)
    f.make_outbox_message(status="failed", session_id=first.id)
    f.make_outbox_message(status="sent", registration_id=r2.id)
    elsewhere = f.make_registration(f.make_programme())
    f.make_outbox_message(status="failed", registration_id=elsewhere.id)
    return programme, {"upcoming": upcoming, "first": first, "second": second}


def test_the_dashboard_figures_match_known_data(app):
    programme, sessions = _known_programme()
    overview = dashboard.programme_dashboard(programme)
    assert (overview.seats_taken, programme.capacity, overview.waiting) == (3, 5, 2)
    assert overview.pending == 1
    assert [(p.day, p.new, p.total) for p in overview.series] == [
        (date(2026, 3, 2), 2, 2),
        (date(2026, 3, 4), 2, 4),
        (date(2026, 3, 9), 3, 7),
    ]
    assert overview.chart.maximum == 7
    assert overview.chart.points.split()[-1] == "570.0,30.0"  # the last day, at the top
    assert overview.next_session is not None
    assert overview.next_session.id == sessions["upcoming"].id
    rates = [(s.session.id, s.attended, s.counted) for s in overview.past_sessions]
    assert rates == [(sessions["first"].id, 2, 3), (sessions["second"].id, 1, 2)]
    assert overview.failed_emails == 2
    assert overview.below_rule == 2  # r2 (50%) and r3 (0%) are under 75%


def test_a_programme_without_registrations_or_sessions_has_an_empty_dashboard(app):
    programme = f.make_programme(sessions=0)
    overview = dashboard.programme_dashboard(programme)
    assert overview.series == [] and overview.chart.points == ""
    assert overview.next_session is None and overview.past_sessions == []
    assert (overview.seats_taken, overview.waiting, overview.failed_emails) == (0, 0, 0)


def test_the_overview_page_shows_the_dashboard(app, client):
    programme, sessions = _known_programme()
    f.sign_in(client, f.make_organiser(programme))
    html = client.get(f"/organiser/programmes/{programme.slug}").text
    assert re.search(r'<span class="stat-figure">3</span> of 5 taken', html)
    assert "Waiting list: <a" in html and ">2 people</a>" in html
    assert (
        f'href="/organiser/programmes/{programme.slug}/registrants?status=pending">1 awaiting'
        in (html)
    )
    assert "2 below the completion rule" in html
    assert "2 emails failing" in html
    # The chart: an image with a title and description, and its figures as a table.
    assert re.search(r'<svg[^>]*role="img"[^>]*aria-labelledby="growth-title growth-desc"', html)
    assert '<title id="growth-title">' in html and "7 registrations from 2 Mar 2026" in html
    assert "<td>Mon 9 Mar 2026</td><td>3</td><td>7</td>" in html
    # The next session: its zone and the viewer's, its check-in and join links.
    next_session = sessions["upcoming"]
    assert "Next workshop" in html and "KST" in html and "(Europe/Madrid)" in html
    check_in = f"/organiser/programmes/{programme.slug}/sessions/{next_session.id}/check-in"
    assert f'href="{check_in}"' in html
    assert 'href="https://meet.example.org/next"' in html
    assert "<td>2 / 3</td>" in html and "67%" in html and "<td>1 / 2</td>" in html


@pytest.mark.parametrize("size", [2, 10])
def test_the_overview_page_query_count_does_not_grow(app, client, size):
    programme = f.past_programme(sessions=2, capacity=100)
    for _ in range(size):
        registration = f.early_registration(programme)
        f.make_attendance(programme.sessions[0], registration)
        f.make_outbox_message(status="failed", registration_id=registration.id)
    for _ in range(size):
        f.make_registration(programme, status="pending")
    f.sign_in(client, f.make_organiser(programme))
    with counted_statements(app) as statements:
        assert client.get(f"/organiser/programmes/{programme.slug}").status_code == 200
    assert len(statements) <= 14, statements


def _home_programmes(count: int, organiser) -> list[Programme]:
    programmes = []
    for n in range(count):
        programme = f.make_programme(title=f"Programme {n:02d}", capacity=10, sessions=2)
        db.session.add(ProgrammeTeamMember(programme_id=programme.id, user_id=organiser.id))
        f.make_registration(programme)
        f.make_registration(programme, status="pending")
        programmes.append(programme)
    db.session.commit()
    return programmes


def test_the_organiser_home_lists_each_programme_with_its_figures(app, client):
    organiser = f.make_organiser()
    first, second = _home_programmes(2, organiser)
    f.make_registration(second, status="pending")
    f.make_registration(second, status="waitlisted")
    f.make_programme(title="Not in my team")
    lines = dashboard.home_figures(
        db.paginate(select(Programme).where(Programme.id.in_([first.id, second.id])))
    )
    figures = {line.programme.id: (line.pending, line.next_session) for line in lines}
    assert figures[first.id] == (1, first.sessions[0])
    assert figures[second.id] == (2, second.sessions[0])
    f.sign_in(client, organiser)
    html = client.get("/organiser/").text
    assert "Not in my team" not in html
    assert html.count('class="programme-card"') == 2
    card = html.split("Programme 01")[1]
    assert "<dt>Seats taken</dt><dd>1 of 10</dd>" in card
    assert "<dt>Waiting list</dt><dd>1</dd>" in card
    assert f"/organiser/programmes/{second.slug}/registrants?status=pending" in card
    assert "KST (Asia/Seoul)" in card and "(Europe/Madrid)" in card


@pytest.mark.parametrize("count", [2, 8])
def test_the_organiser_home_query_count_does_not_grow(app, client, count):
    organiser = f.make_organiser()
    _home_programmes(count, organiser)
    f.sign_in(client, organiser)
    with counted_statements(app) as statements:
        assert client.get("/organiser/").status_code == 200
    assert len(statements) <= 6, statements


def test_the_navigation_is_grouped_and_marks_the_page_shown(app, client):
    programme = f.make_programme()
    f.sign_in(client, f.make_organiser(programme))
    html = client.get(f"/organiser/programmes/{programme.slug}/modules").text
    nav = html.split('<nav aria-label="Programme"')[1].split("</nav>")[0]
    assert "<summary>Programme menu</summary>" in nav
    groups = re.findall(r'<p class="workspace-group"[^>]*>([^<]+)</p>', nav)
    assert groups == ["Set up", "Run", "Records"]
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == ["Modules"]
    set_up = nav.split("Set up")[1].split("Run")[0]
    for label in ("Details", "Sessions", "Modules", "Materials", "Registration settings"):
        assert f">{label}</a>" in set_up
    assert ">Change log</a>" in nav.split("Records")[1]
    overview = client.get(f"/organiser/programmes/{programme.slug}").text
    assert 'aria-current="page">Overview' in overview
    session = programme.sessions[0]
    sheet = client.get(f"/organiser/programmes/{programme.slug}/sessions/{session.id}/attendance")
    nav = sheet.text.split('<nav aria-label="Programme"')[1].split("</nav>")[0]
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == ["Attendance"]


def test_a_teammate_sees_only_the_links_of_their_rights(app, client):
    programme = f.make_programme()
    teammate = f.make_organiser()
    db.session.add(
        ProgrammeTeamMember(
            programme_id=programme.id,
            user_id=teammate.id,
            manage_programme=False,
            manage_registrations=False,
            manage_attendance=True,
        )
    )
    db.session.commit()
    f.sign_in(client, teammate)
    html = client.get(f"/organiser/programmes/{programme.slug}/attendance").text
    nav = html.split('<nav aria-label="Programme"')[1].split("</nav>")[0]
    assert ">Attendance</a>" in nav
    assert ">Registrants</a>" not in nav and ">Team</a>" not in nav
    assert "Set up" not in nav


def test_organisations_are_a_checkable_list_that_posts_what_the_multi_select_did(app, client):
    host, partner, other = (f.make_organisation() for _ in range(3))
    f.sign_in(client, f.make_organiser())
    page = client.get("/organiser/programmes/new").text
    assert "<select multiple" not in page and 'multiple id="hosts"' not in page
    assert '<fieldset class="checklist field" id="hosts" data-filter-list>' in page
    assert f'name="hosts" type="checkbox" value="{host.id}"' in page
    assert "filter_list.js" in page
    data = {
        "kind": "webinar",
        "title": "Checkable",
        "summary": "S.",
        "format": "online",
        "language": "English",
        "timezone": "Asia/Shanghai",
        "hosts": [str(host.id), str(other.id)],
        "partners": [str(partner.id)],
    }
    assert client.post("/organiser/programmes/new", data=data).status_code == 302
    links = db.session.execute(
        select(ProgrammeOrganisation.role, ProgrammeOrganisation.organisation_id).order_by(
            ProgrammeOrganisation.role, ProgrammeOrganisation.position
        )
    ).all()
    assert [tuple(link) for link in links] == [
        ("host", host.id),
        ("host", other.id),
        ("partner", partner.id),
    ]
    edit = client.get(f"/organiser/programmes/{db.session.scalar(select(Programme.slug))}/edit")
    for chosen in (host, other):
        assert re.search(
            rf'<input checked id="hosts-\d+" name="hosts" type="checkbox" value="{chosen.id}">',
            edit.text,
        )
    assert not re.search(
        rf'<input checked id="hosts-\d+" name="hosts" type="checkbox" value="{partner.id}">',
        edit.text,
    )
