"""The organiser's lists are read a page at a time (`db.paginate`): plain page links that keep the
filters, a page past the end shows the last one, a page that is no number the first, and the CSV
exports still hold every row."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest

from learnhub.catalogue.audit import record
from learnhub.extensions import db
from learnhub.organiser import services
from learnhub.organiser.authoring_views import audit_log
from tests import factories as f


@pytest.fixture
def two_per_page(monkeypatch):
    for name in ("PROGRAMMES_PER_PAGE", "REGISTRANTS_PER_PAGE", "TEAM_PER_PAGE"):
        monkeypatch.setattr(services, name, 2)
    monkeypatch.setattr(audit_log, "PER_PAGE", 2)


def names_on(page: str, prefix: str) -> list[str]:
    """Each name once, in the order the page first shows it."""
    return list(dict.fromkeys(re.findall(rf"{prefix} \d+", page)))


def page_links(page: str) -> list[str]:
    pager = re.search(r'<nav class="pager".*?</nav>', page, re.S)
    return (
        [unescape(href) for href in re.findall(r'href="([^"]+)"', pager.group(0))] if pager else []
    )


def test_registrants_come_in_pages_whose_links_keep_the_filters(client, two_per_page):
    programme = f.make_programme(capacity=None)
    for n in range(5):
        f.make_registration(programme, f.make_user(full_name=f"Water {n}"))
    f.make_registration(programme, f.make_user(full_name="Other 9"), status="cancelled")
    f.sign_in(client, f.make_organiser(programme))
    base = f"/organiser/programmes/{programme.slug}/registrants"

    first = client.get(f"{base}?status=confirmed&q=water").get_data(as_text=True)
    assert names_on(first, "Water") == ["Water 0", "Water 1"]
    assert "5 registrations, 1–2 of 5 on this page" in first
    links = page_links(first)
    assert links and all("status=confirmed" in link and "q=water" in link for link in links)
    assert any("page=3" in link for link in links)

    last = client.get(f"{base}?status=confirmed&q=water&page=3").get_data(as_text=True)
    assert names_on(last, "Water") == ["Water 4"] and "Other 9" not in last
    beyond = client.get(f"{base}?status=confirmed&q=water&page=40").get_data(as_text=True)
    assert names_on(beyond, "Water") == ["Water 4"]
    for odd in ("abc", "0", "-2", "9" * 30):
        response = client.get(f"{base}?status=confirmed&q=water&page={odd}")
        assert response.status_code == 200
        assert names_on(response.get_data(as_text=True), "Water") == ["Water 0", "Water 1"]

    # the CSV link leaves the page out, and the export holds every matching row
    assert f"{base}.csv?status=confirmed&amp;q=water" in last
    rows = list(
        csv.reader(io.StringIO(client.get(f"{base}.csv?status=confirmed").get_data(as_text=True)))
    )
    assert sorted(row[3] for row in rows[1:]) == [f"Water {n}" for n in range(5)]


def test_a_decision_taken_on_a_later_page_comes_back_to_it(client, two_per_page):
    programme = f.make_programme(approval_required=True)
    pending = [
        f.make_registration(programme, f.make_user(full_name=f"Pending {n}"), status="pending")
        for n in range(5)
    ]
    f.sign_in(client, f.make_organiser(programme))
    base = f"/organiser/programmes/{programme.slug}/registrants"
    page = client.get(f"{base}?status=pending&page=3").get_data(as_text=True)
    assert 'name="return_query" value="status=pending&amp;page=3"' in page
    response = client.post(
        f"{base}/decide",
        data={"action": "reject", "ids": [pending[4].id], "return_query": "status=pending&page=3"},
    )
    assert response.headers["Location"].endswith(f"{base}?status=pending&page=3")
    # the last page emptied: the list shows its new last page
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert names_on(after, "Pending") == ["Pending 2", "Pending 3"]


def test_the_dashboard_the_overview_the_team_and_the_change_log_come_in_pages(client, two_per_page):
    admin = f.make_user(role="admin", full_name="Admin 0")
    programmes = [f.make_programme(title=f"Programme {n}") for n in range(3)]
    programme = programmes[0]
    for n in range(3):
        f.make_registration(programme, f.make_user(full_name=f"Seated {n}"))
        f.make_organiser(programme, full_name=f"Teammate {n}")
        record(programme.id, admin.id, "set team rights", f"Change {n}")
    db.session.commit()
    f.sign_in(client, admin)
    base = f"/organiser/programmes/{programme.slug}"

    home = client.get("/organiser/").get_data(as_text=True)
    assert re.findall(r">Programme \d", home) == [">Programme 0", ">Programme 1"]
    assert any("page=2" in link for link in page_links(home))
    assert ">Programme 2" in client.get("/organiser/?page=2").get_data(as_text=True)

    overview = client.get(base).get_data(as_text=True)
    assert names_on(overview, "Seated") == ["Seated 0", "Seated 1"] and "1–2 of 3" in overview
    assert names_on(client.get(f"{base}?page=2").get_data(as_text=True), "Seated") == ["Seated 2"]

    team = client.get(f"{base}/team").get_data(as_text=True)
    assert names_on(team, "Teammate") == ["Teammate 0", "Teammate 1"]
    assert names_on(client.get(f"{base}/team?page=2").get_data(as_text=True), "Teammate") == [
        "Teammate 2"
    ]

    changes = client.get(f"{base}/audit?kind=team").get_data(as_text=True)
    assert names_on(changes, "Change") == ["Change 2", "Change 1"]
    links = page_links(changes)
    assert links and all("kind=team" in link for link in links)
    assert names_on(
        client.get(f"{base}/audit?kind=team&page=2").get_data(as_text=True), "Change"
    ) == ["Change 0"]
    export = client.get(f"{base}/audit.csv?kind=team").get_data(as_text=True)
    assert names_on(export, "Change") == ["Change 2", "Change 1", "Change 0"]

    accounts = client.get("/admin/organisers/").get_data(as_text=True)
    assert any("page=2" in link for link in page_links(accounts))
