"""Lists that grow without bound are paged: people, organisations, a programme's change log.
Each page links to the next and the previous with plain links (no JavaScript) that keep the
search or the filter."""

from __future__ import annotations

import re

import pytest

from learnhub.catalogue.models import AuditEntry, Person
from learnhub.extensions import db
from learnhub.organiser.authoring_views.pages import PER_PAGE
from tests import factories as f


@pytest.fixture
def organiser(client):
    user = f.make_organiser()
    f.sign_in(client, user)
    return user


def _links(html: str) -> dict[str, str]:
    """The pager's links by their rel (prev, next), unescaped."""
    found = re.findall(r'<a href="([^"]+)" rel="(prev|next)">', html)
    return {rel: href.replace("&amp;", "&") for href, rel in found}


def _page_of(html: str) -> str:
    """The pager's "Page n of m": the current page and the highest page it links to."""
    current = re.search(
        r'aria-current="page"><span class="visually-hidden">Page </span>(\d+)', html
    )
    numbers = re.findall(r'<span class="visually-hidden">Page </span>(\d+)<', html)
    return f"Page {current.group(1)} of {max(map(int, numbers))}"


def test_people_are_listed_a_page_at_a_time_keeping_the_search(client, organiser):
    for n in range(PER_PAGE + 5):
        db.session.add(Person(full_name=f"Speaker {n:03d}"))
    db.session.add(Person(full_name="Ana Lopez"))
    db.session.commit()
    first = client.get("/organiser/people?q=speaker").get_data(as_text=True)
    assert "Speaker 000" in first and f"Speaker {PER_PAGE - 1:03d}" in first
    assert f"Speaker {PER_PAGE:03d}" not in first and "Ana Lopez" not in first
    assert _page_of(first) == "Page 1 of 2" and "prev" not in _links(first)
    second = client.get(_links(first)["next"]).get_data(as_text=True)
    assert "q=speaker" in _links(first)["next"]
    assert f"Speaker {PER_PAGE + 4:03d}" in second and "Speaker 000" not in second
    assert _page_of(second) == "Page 2 of 2" and "next" not in _links(second)
    assert client.get("/organiser/people?page=x").status_code == 200  # not a page: the first
    assert client.get("/organiser/people?page=99").status_code == 200  # past the end: empty


def test_organisations_are_listed_a_page_at_a_time(client, organiser):
    for n in range(PER_PAGE + 1):
        f.make_organisation(f"Organisation {n:03d}")
    first = client.get("/organiser/organisations").get_data(as_text=True)
    assert "Organisation 000" in first and f"Organisation {PER_PAGE:03d}" not in first
    second = client.get(_links(first)["next"]).get_data(as_text=True)
    assert f"Organisation {PER_PAGE:03d}" in second


def test_a_long_change_log_is_paged_keeping_its_filter(client):
    programme = f.make_programme()
    organiser = f.make_organiser(programme)
    f.sign_in(client, organiser)
    for n in range(PER_PAGE + 2):
        db.session.add(AuditEntry(programme_id=programme.id, action="added module", detail=f"M{n}"))
    db.session.commit()
    url = f"/organiser/programmes/{programme.slug}/audit?kind=programme"
    first = client.get(url).get_data(as_text=True)
    assert _page_of(first) == "Page 1 of 2" and "kind=programme" in _links(first)["next"]
    second = client.get(_links(first)["next"]).get_data(as_text=True)
    assert _page_of(second) == "Page 2 of 2" and "added module" in second
