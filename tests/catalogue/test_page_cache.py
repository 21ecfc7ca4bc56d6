"""The programme page's cached parts: every change the page shows appears on the next request,
in every worker (each app below stands for a gunicorn worker with its own cache), signed in or
signed out."""

from __future__ import annotations

from datetime import timedelta

import cachelib.simple
import pytest
from sqlalchemy import event

from learnhub.catalogue import services as catalogue
from learnhub.catalogue import versions
from learnhub.catalogue.authoring import (
    materials,
    modules,
    organisations,
    people,
    programmes,
    topics,
)
from learnhub.catalogue.models import Programme
from learnhub.extensions import cache, db
from learnhub.registration import services as registration
from learnhub.types import utcnow
from tests import factories as f


@pytest.fixture
def workers(app, app_factory):
    """Two clients on two apps (two caches) over the same database."""
    from tests.conftest import _FreshStateClient

    clients = []
    for built in (app, app_factory()):
        built.test_client_class = _FreshStateClient
        clients.append(built.test_client())
    return clients


def pages(workers, programme_slug: str) -> list[str]:
    return [c.get(f"/programmes/{programme_slug}").get_data(as_text=True) for c in workers]


def warm(workers, slug: str, *expected: str) -> None:
    for html in pages(workers, slug):
        for text in expected:
            assert text in html


def shown_everywhere(workers, slug: str, present: str, absent: str | None = None) -> None:
    for html in pages(workers, slug):
        assert present in html
        if absent is not None:
            assert absent not in html


def organiser_of(programme: Programme) -> int:
    return f.make_organiser(programme).id


def test_a_warm_page_runs_one_statement_and_reads_the_same(app, client):
    programme = f.make_programme(capacity=50, sessions=3, description="Cached **words**.")
    slug = programme.slug
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    cold = client.get(f"/programmes/{slug}").get_data(as_text=True)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        again = client.get(f"/programmes/{slug}").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 1, statements  # the programme row and its confirmed count
    assert again == cold
    assert "<strong>words</strong>" in again
    assert "50 seats left" in again


def test_programme_edit_shows_at_once_in_every_worker(app, workers):
    host = f.make_organisation("Old Host")
    programme = f.make_programme(title="Old title", description="Old about.", hosts=[host])
    slug, pid = programme.slug, programme.id
    user_id = organiser_of(programme)
    warm(workers, slug, "Old title", "Old about.", "Old Host")
    new_host = f.make_organisation("New Host")
    programmes.update_programme(
        pid,
        user_id,
        None,
        programmes.ProgrammeInput(
            kind="programme",
            title="New title",
            summary="New summary.",
            timezone="Asia/Seoul",
            description="New **about**.",
            organisations={"host": [new_host.id]},
        ),
    )
    for html in pages(workers, slug):
        assert "New title" in html and "Old title" not in html
        assert "New <strong>about</strong>." in html
        assert "Hosted by New Host" in html and "Old Host" not in html


def test_reschedule_and_cancel_show_at_once(app, workers):
    programme = f.make_programme(sessions=2, timezone="UTC")
    slug, pid = programme.slug, programme.id
    first, second = programme.sessions[0].id, programme.sessions[1].id
    warm(workers, slug, "Session 1")
    new_start = (utcnow() + timedelta(days=40)).replace(hour=9, minute=15, second=0)
    catalogue.reschedule_session(pid, first, new_start, new_start + timedelta(hours=1))
    shown_everywhere(workers, slug, "9:15")
    catalogue.cancel_session(pid, second)
    shown_everywhere(workers, slug, "<strong>cancelled</strong>")


def test_modules_added_and_removed_show_at_once(app, workers):
    programme = f.make_programme()
    slug, pid = programme.slug, programme.id
    user_id = organiser_of(programme)
    warm(workers, slug)
    module = modules.add_module(pid, user_id, modules.ModuleInput(title="Climate module"))
    shown_everywhere(workers, slug, "Climate module")
    modules.delete_module(pid, module.id, user_id)
    for html in pages(workers, slug):
        assert "Climate module" not in html


def test_materials_added_and_removed_show_at_once(app, workers):
    programme = f.make_programme()
    slug, pid = programme.slug, programme.id
    user_id = organiser_of(programme)
    warm(workers, slug)
    material = materials.add_material(
        pid,
        user_id,
        materials.MaterialInput(
            title="The guidebook",
            kind="guidebook",
            language="English",
            visibility="public",
            url="https://files.example.org/guidebook",
        ),
    )
    shown_everywhere(workers, slug, "The guidebook")
    materials.delete_material(pid, material.id, user_id)
    for html in pages(workers, slug):
        assert "The guidebook" not in html


def test_a_shared_speakers_edit_shows_on_every_programme_at_once(app, workers):
    one, two = f.make_programme(), f.make_programme()
    person = f.make_speaker(one.sessions[0], "Ana Speaker", "Mayor")
    f.save(
        type(one.sessions[0].speaker_links[0])(
            session_id=two.sessions[0].id, person_id=person.id, role="speaker"
        )
    )
    for slug in (one.slug, two.slug):
        warm(workers, slug, "Ana Speaker", "Mayor")
    people.update_person(
        person.id, people.PersonInput(full_name="Ana Speaker", position="Governor")
    )
    for slug in (one.slug, two.slug):
        shown_everywhere(workers, slug, "Governor", absent="Mayor")


def test_an_organisation_renamed_anywhere_shows_at_once(app, workers):
    host = f.make_organisation("Before Org")
    programme = f.make_programme(hosts=[host])
    speaking = f.make_programme()
    f.make_speaker(speaking.sessions[0], "Ana Speaker", "Mayor", organisation=host)
    for slug in (programme.slug, speaking.slug):
        warm(workers, slug, "Before Org")
    organisations.update_organisation(
        host.id, organiser_of(programme), None, organisations.OrganisationInput(name="After Org")
    )
    for slug in (programme.slug, speaking.slug):
        shown_everywhere(workers, slug, "After Org", absent="Before Org")


def test_a_topic_renamed_shows_at_once(app, workers):
    topic = f.make_topic("Old topic")
    programme = f.make_programme()
    programme.topic_id = topic.id
    f.save(programme)
    warm(workers, programme.slug, "Topic: Old topic")
    topics.rename_topic(topic.id, organiser_of(programme), "New topic")
    shown_everywhere(workers, programme.slug, "Topic: New topic", absent="Old topic")


def test_a_recording_added_shows_at_once(app, workers):
    programme = f.make_programme(first_session_in=timedelta(days=-2))
    slug, pid, session_id = programme.slug, programme.id, programme.sessions[0].id
    warm(workers, slug)
    catalogue.add_recording(pid, session_id, "Session 1 recording", "https://video.example.org/1")
    shown_everywhere(workers, slug, "A recording is available to registered participants.")


def test_each_shared_record_raises_the_versions_of_the_programmes_showing_it(app):
    host, other = f.make_organisation(), f.make_organisation()
    hosted, speaking, elsewhere = (
        f.make_programme(hosts=[host]),
        f.make_programme(),
        f.make_programme(hosts=[other]),
    )
    person = f.make_speaker(speaking.sessions[0], "Ana Speaker", "Mayor", organisation=host)
    topic = f.make_topic()
    elsewhere.topic_id = topic.id
    f.save(elsewhere)
    ids = (hosted.id, speaking.id, elsewhere.id)

    def raised(change) -> tuple[int, ...]:
        before = [db.session.get(Programme, pid).content_version for pid in ids]
        change()
        db.session.commit()
        return tuple(
            db.session.get(Programme, pid).content_version - was
            for pid, was in zip(ids, before, strict=True)
        )

    assert raised(lambda: versions.content_changed(hosted.id)) == (1, 0, 0)
    assert raised(lambda: versions.content_changed([hosted.id, elsewhere.id])) == (1, 0, 1)
    assert raised(lambda: versions.content_changed([])) == (0, 0, 0)
    assert raised(lambda: versions.person_changed(person.id)) == (0, 1, 0)
    assert raised(lambda: versions.organisation_changed(host.id)) == (1, 1, 0)
    assert raised(lambda: versions.topic_changed(topic.id)) == (0, 0, 1)


def test_registration_settings_show_to_signed_out_visitors_at_once(app, workers):
    programme = f.make_programme(capacity=1)
    f.make_registration(programme)
    warm(workers, programme.slug, "All seats are taken.", "Join the waiting list")
    registration.update_registration_settings(
        programme.id,
        registration.RegistrationSettings(
            capacity=1,
            opens_at=None,
            closes_at=utcnow() + timedelta(days=3),
            approval_required=True,
            waitlist_enabled=False,
        ),
    )
    for html in pages(workers, programme.slug):
        assert "Join the waiting list" not in html
        assert "The organisers approve each registration." in html
        assert "Registration closes" in html


def test_seats_left_follow_registrations_at_once(app, workers):
    programme = f.make_programme(capacity=5)
    warm(workers, programme.slug, "5 seats left")
    registration_ = f.make_registration(programme)
    user = registration_.user
    shown_everywhere(workers, programme.slug, "4 seats left", absent="5 seats left")
    registration.cancel(registration_.id, user)
    shown_everywhere(workers, programme.slug, "5 seats left", absent="4 seats left")


def test_each_viewer_zone_gets_its_own_times(app, client):
    programme = f.make_programme(timezone="UTC")
    session = programme.sessions[0]
    slug = programme.slug
    utc_html = client.get(f"/programmes/{slug}").get_data(as_text=True)
    client.set_cookie("tz", "Asia/Tokyo")
    tokyo_html = client.get(f"/programmes/{slug}").get_data(as_text=True)
    assert 'class="time-viewer"' not in utc_html
    assert 'class="time-viewer"' in tokyo_html
    tokyo_hour = f"{(session.starts_at.hour + 9) % 24}:{session.starts_at.minute:02d}"
    assert tokyo_hour in tokyo_html
    client.delete_cookie("tz")
    assert 'class="time-viewer"' not in client.get(f"/programmes/{slug}").get_data(as_text=True)


def test_a_signed_out_copy_never_carries_a_flash(app, client):
    programme = f.make_programme()
    url = f"/programmes/{programme.slug}"
    other = app.test_client()
    first = other.get(url).get_data(as_text=True)  # fills the signed-out copy
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Your zone is saved.")]
    flashed = client.get(url).get_data(as_text=True)
    assert "Your zone is saved." in flashed
    again = client.get(url).get_data(as_text=True)
    assert "Your zone is saved." not in again
    assert again == first


def test_a_signed_out_visitor_gets_no_session_cookie_and_no_token(app):
    """The page's only form (the time zone) is a GET form: nothing per visitor to sign."""
    programme = f.make_programme()
    url = f"/programmes/{programme.slug}"
    for _ in range(2):  # the copy being filled, then the cached copy
        response = app.test_client().get(url)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        html = response.get_data(as_text=True)
        assert "csrf_token" not in html
        assert '<form method="get" action="/timezone">' in html


# --- the signed-out page's freshness window (PUBLIC_PAGE_MAX_AGE_SECONDS) ------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """The clock of the page cache (Flask-Caching's SimpleCache, the default)."""
    fake = FakeClock()
    monkeypatch.setattr(cachelib.simple, "time", fake)
    return fake


@pytest.fixture
def windowed_workers(app, app_factory, clock):
    """Two workers (two caches) that may show a signed-out page read up to 1 s before."""
    from tests.conftest import _FreshStateClient

    clients = []
    for built in (app, app_factory()):
        built.config["PUBLIC_PAGE_MAX_AGE_SECONDS"] = 1
        built.test_client_class = _FreshStateClient
        clients.append(built.test_client())
    return clients


def statements_of(client, url: str) -> tuple[list[str], str]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        html = client.get(url).get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return statements, html


def test_a_signed_out_page_reads_the_database_at_most_once_per_window(app, clock):
    app.config["PUBLIC_PAGE_MAX_AGE_SECONDS"] = 1
    programme = f.make_programme(capacity=50)
    url = f"/programmes/{programme.slug}"
    client = app.test_client()
    client.get(url)
    statements, html = statements_of(client, url)
    assert statements == [] and "50 seats left" in html
    clock.now += 0.999
    assert statements_of(client, url)[0] == []
    clock.now += 0.001
    statements, html = statements_of(client, url)
    assert len(statements) == 1, statements  # the programme row and its confirmed count
    assert "50 seats left" in html


def test_seats_left_change_in_every_worker_within_the_window(app, windowed_workers, clock):
    programme = f.make_programme(capacity=5)
    slug = programme.slug
    warm(windowed_workers, slug, "5 seats left")
    registration_ = f.make_registration(programme)
    shown_everywhere(windowed_workers, slug, "5 seats left")  # read less than 1 s ago
    clock.now += 1.0
    shown_everywhere(windowed_workers, slug, "4 seats left", absent="5 seats left")
    registration.cancel(registration_.id, registration_.user)
    clock.now += 1.0
    shown_everywhere(windowed_workers, slug, "5 seats left", absent="4 seats left")


def test_an_edit_shows_in_every_worker_within_the_window(app, windowed_workers, clock):
    programme = f.make_programme(title="Old title")
    slug, pid = programme.slug, programme.id
    warm(windowed_workers, slug, "Old title")
    programmes.update_programme(
        pid,
        organiser_of(programme),
        None,
        programmes.ProgrammeInput(
            kind="programme", title="New title", summary="New.", timezone="Asia/Seoul"
        ),
    )
    clock.now += 0.5
    shown_everywhere(windowed_workers, slug, "Old title")
    clock.now += 0.5
    shown_everywhere(windowed_workers, slug, "New title", absent="Old title")


def test_a_withdrawn_programme_is_gone_within_the_window(app, windowed_workers, clock):
    programme = f.make_programme()
    slug = programme.slug
    warm(windowed_workers, slug)
    found = db.session.get(Programme, programme.id)
    found.status = "draft"
    f.save(found)
    clock.now += 1.0
    for client in windowed_workers:
        assert client.get(f"/programmes/{slug}").status_code == 404


def test_a_signed_in_viewer_sees_seats_at_once_whatever_the_window(app, windowed_workers, clock):
    programme = f.make_programme(capacity=5)
    slug = programme.slug
    warm(windowed_workers, slug, "5 seats left")
    viewer = f.make_user()
    f.make_registration(programme)
    signed_in = windowed_workers[0]
    with signed_in.session_transaction() as session:
        session["_user_id"] = str(viewer.id)
    assert "4 seats left" in signed_in.get(f"/programmes/{slug}").get_data(as_text=True)
    assert "5 seats left" in windowed_workers[1].get(f"/programmes/{slug}").get_data(as_text=True)


def test_unknown_addresses_are_not_kept(app, clock):
    app.config["PUBLIC_PAGE_MAX_AGE_SECONDS"] = 1
    client = app.test_client()

    def kept() -> int:
        return len(cache.cache._cache)  # SimpleCache's entries

    before = kept()
    for n in range(5):
        assert client.get(f"/programmes/made-up-{n}").status_code == 404
    assert kept() == before
    programme = f.make_programme(status="draft")
    assert client.get(f"/programmes/{programme.slug}").status_code == 404
    found = db.session.get(Programme, programme.id)
    found.status = "published"
    f.save(found)
    assert client.get(f"/programmes/{programme.slug}").status_code == 200  # no clock step


def test_a_browser_revalidating_an_unchanged_signed_out_page_gets_a_304(app, client):
    programme = f.make_programme(capacity=5)
    url = f"/programmes/{programme.slug}"
    first = client.get(url)
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    client.set_cookie("tz", "Asia/Tokyo")  # another zone: other bytes, another tag
    other_zone = client.get(url, headers={"If-None-Match": etag})
    assert other_zone.status_code == 200 and other_zone.headers["ETag"] != etag
    client.delete_cookie("tz")
    f.make_registration(programme)  # the seat count changes the page
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "4 seats left" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != etag


def test_a_signed_in_page_carries_no_etag(app, client):
    programme = f.make_programme()
    url = f"/programmes/{programme.slug}"
    etag = client.get(url).headers["ETag"]
    with client.session_transaction() as session:
        session["_user_id"] = str(f.make_user().id)
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and "ETag" not in response.headers


@pytest.mark.redis
def test_pages_kept_in_redis_are_shared_and_still_shown_while_redis_is_down(
    app_factory, private_redis
):
    """Production keeps the parts in Redis, shared by every web process; a Redis out of reach
    only means rendering afresh."""
    from tests.conftest import _FreshStateClient

    settings = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": private_redis.url}
    settings["CACHE_OPTIONS"] = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    one, two = app_factory(**settings), app_factory(**settings)
    with one.app_context():
        programme = f.make_programme(title="Kept in Redis")
        url = f"/programmes/{programme.slug}"
        clients = []
        for built in (one, two):
            built.test_client_class = _FreshStateClient
            clients.append(built.test_client())
        assert "Kept in Redis" in clients[0].get(url).get_data(as_text=True)
        assert any(key.startswith("parts:") for key in _redis_keys(private_redis.url))
        private_redis.stop()
        for client in clients:
            response = client.get(url)
            assert response.status_code == 200
            assert "Kept in Redis" in response.get_data(as_text=True)


def _redis_keys(url: str) -> list[str]:
    import redis

    prefix = "learnhub:"
    return [k.decode()[len(prefix) :] for k in redis.Redis.from_url(url).keys(f"{prefix}*")]
