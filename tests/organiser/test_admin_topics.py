"""Administrators keep the topic list: add, rename (the catalogue address stays), remove an
unused one; the programme page shows a rename at once and each programme's change log says so."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from learnhub.catalogue.models import AuditEntry, Programme, Topic
from learnhub.extensions import db
from tests import factories as f

URL = "/admin/topics/"


@pytest.fixture
def admin(client):
    user = f.make_user(role="admin")
    f.sign_in(client, user)
    return user


def _topics() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Topic.name, Topic.slug).order_by(Topic.id))
    return [tuple(row) for row in rows]


def test_an_administrator_adds_a_topic_that_organisers_and_the_catalogue_can_use(client, admin):
    response = client.post(URL, data={"name": "  Urban   resilience "})
    assert response.status_code == 302
    assert _topics() == [("Urban resilience", "urban-resilience")]
    page = client.get(URL).get_data(as_text=True)
    assert "Urban resilience" in page and "Topic “Urban resilience” added." in page
    programme = f.make_programme(topic=db.session.scalar(select(Topic)))
    catalogue = client.get("/?topic=urban-resilience").get_data(as_text=True)
    assert programme.title in catalogue
    organiser = f.make_organiser(programme)
    f.sign_in(client, organiser)
    form = client.get(f"/organiser/programmes/{programme.slug}/edit").get_data(as_text=True)
    assert ">Urban resilience</option>" in form


@pytest.mark.parametrize("name", ["urban RESILIENCE", "Urban-resilience", ""])
def test_a_name_another_topic_has_is_refused_beside_the_field(client, admin, name):
    client.post(URL, data={"name": "Urban resilience"})
    response = client.post(URL, data={"name": name})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="name-error"' in page
    assert len(_topics()) == 1


def test_a_name_without_latin_letters_gets_an_address_of_its_own(client, admin):
    assert client.post(URL, data={"name": "气候"}).status_code == 302
    assert client.post(URL, data={"name": "韧性"}).status_code == 302
    (first, first_slug), (second, second_slug) = _topics()
    assert (first, second) == ("气候", "韧性")
    assert first_slug.startswith("topic-") and first_slug != second_slug


def test_a_rename_keeps_the_address_shows_at_once_and_is_logged(client, admin):
    topic = f.make_topic("Climate", slug="climate")
    programme = f.make_programme(topic=topic)
    assert "Climate" in client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
    response = client.post(f"{URL}{topic.id}/edit", data={"name": "Climate adaptation"})
    assert response.status_code == 302
    assert _topics() == [("Climate adaptation", "climate")]
    page = client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
    assert "Climate adaptation" in page  # the cached page was invalidated
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.programme_id == programme.id))
    assert entry.action == "renamed topic" and "Climate adaptation" in entry.detail
    other = f.make_topic("Economy")
    taken = client.post(f"{URL}{other.id}/edit", data={"name": "climate adaptation"})
    assert taken.status_code == 422 and "There is already a topic" in taken.get_data(as_text=True)


def test_only_an_unused_topic_can_be_removed(client, admin):
    used = f.make_topic("Climate")
    f.make_programme(topic=used)
    unused = f.make_topic("Economy")
    refused = client.post(f"{URL}{used.id}/remove", follow_redirects=True)
    assert "is the topic of 1 programme" in refused.get_data(as_text=True)
    client.post(f"{URL}{unused.id}/remove")
    assert [name for name, _ in _topics()] == ["Climate"]
    assert db.session.scalar(select(func.count()).select_from(Programme)) == 1
    assert client.post(f"{URL}999999/remove", follow_redirects=True).status_code == 200
    assert client.get(f"{URL}999999/edit").status_code == 404


def test_organisers_and_participants_cannot_manage_topics(client):
    topic = f.make_topic("Climate")
    for user in (f.make_organiser(), f.make_user()):
        f.sign_in(client, user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, data={"name": "Mine"}).status_code == 403
        assert client.post(f"{URL}{topic.id}/edit", data={"name": "Mine"}).status_code == 403
        assert client.post(f"{URL}{topic.id}/remove").status_code == 403
    assert _topics() == [("Climate", topic.slug)]
