"""Module pages, recorded openings, module completion and the progress bars."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from learnhub.catalogue import services as catalogue
from learnhub.extensions import db
from learnhub.learning.models import MaterialView, ModuleCompletion
from learnhub.notifications.models import OutboxMessage
from tests import factories as f


def _module_url(course, module) -> str:
    return f"/programmes/{course.programme.slug}/modules/{module.position}"


def _open_url(course, material) -> str:
    return f"/programmes/{course.programme.slug}/materials/{material.id}/open"


def _progress(html: str, programme_id: int) -> tuple[int, int]:
    found = re.search(rf'<progress id="progress-{programme_id}" value="(\d+)" max="(\d+)"', html)
    assert found, "no progress bar"
    return int(found.group(1)), int(found.group(2))


def test_module_page_lists_materials_for_a_participant_with_player_and_plain_link(client, course):
    f.sign_in(client, course.participant)
    html = client.get(_module_url(course, course.manual)).get_data(as_text=True)
    assert "Resilient City guidebook" in html
    assert "Watch: Session 1 recording" in html
    assert 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"' in html  # the plain link
    assert "Mark this module complete" in html

    player = client.get(_open_url(course, course.recording))
    assert player.status_code == 200
    page = player.get_data(as_text=True)
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in page
    assert "https://www.youtube-nocookie.com" in player.headers["Content-Security-Policy"]
    assert "Open the recording on its own site" in page


def test_opening_a_material_is_recorded_once(client, course):
    f.sign_in(client, course.participant)
    for _ in range(2):
        response = client.get(_open_url(course, course.guidebook))
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/materials/{course.guidebook.id}/download")
    assert client.get(response.headers["Location"]).data == b"%PDF-1.4 guide"
    views = db.session.scalar(
        select(func.count()).where(MaterialView.registration_id == course.registration.id)
    )
    assert views == 1
    html = client.get(_module_url(course, course.manual)).get_data(as_text=True)
    assert "Opened" in html


def test_items_module_completes_when_its_required_items_are_opened(client, course):
    f.sign_in(client, course.participant)
    client.get(_open_url(course, course.reading_a))
    assert _completions(course) == []
    html = client.get(_module_url(course, course.items)).get_data(as_text=True)
    assert "1 of 2 opened" in html
    assert "Mark this module complete" not in html
    client.get(_open_url(course, course.reading_b))
    assert _completions(course) == [(course.items.id, "items")]
    # an items module cannot be marked by hand
    response = client.post(_module_url(course, course.items) + "/complete")
    assert response.status_code == 302


def test_marking_a_manual_module_complete_moves_the_progress_bars(client, course):
    f.sign_in(client, course.participant)
    programme_url = f"/programmes/{course.programme.slug}"
    assert _progress(client.get(programme_url).get_data(as_text=True), course.programme.id) == (
        0,
        4,
    )
    response = client.post(_module_url(course, course.manual) + "/complete")
    assert response.status_code == 302
    assert _completions(course) == [(course.manual.id, "manual")]
    assert _progress(client.get(programme_url).get_data(as_text=True), course.programme.id) == (
        1,
        4,
    )
    mine = client.get("/me/programmes").get_data(as_text=True)
    assert _progress(mine, course.programme.id) == (1, 4)
    assert "Module 2: Economic resilience" in mine  # what comes next
    html = client.get(_module_url(course, course.manual)).get_data(as_text=True)
    assert "Completed" in html and "Mark this module complete" not in html


def test_someone_not_registered_is_refused_registered_materials(client, course):
    outsider = f.make_user()
    f.make_registration(f.make_programme(), outsider)
    f.sign_in(client, outsider)
    html = client.get(_module_url(course, course.manual)).get_data(as_text=True)
    assert "Resilient City guidebook" not in html
    assert "Session 1 recording" not in html
    assert client.get(_open_url(course, course.recording)).status_code == 403
    assert client.get(_open_url(course, course.guidebook)).status_code == 403
    # a public reading opens, but nothing is recorded for someone not registered
    assert client.get(_open_url(course, course.reading_a)).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(MaterialView)) == 0
    assert client.post(_module_url(course, course.manual) + "/complete").status_code == 403


def test_anonymous_is_sent_to_sign_in_for_registered_materials(client, course):
    response = client.get(_open_url(course, course.recording))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_recording_added_to_a_past_session_shows_on_the_session_and_module(app, client, course):
    session = course.programme.sessions[1]
    session.module_id = course.items.id
    f.save(session)
    with app.test_request_context():
        recording = catalogue.add_recording(
            course.programme.id,
            session.id,
            "Economic resilience recording",
            "https://vimeo.com/76979871",
        )
    follow_ups = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "recording_available")
    ).all()
    assert [m.to_address for m in follow_ups] == ["joao@example.org"]
    f.sign_in(client, course.participant)
    programme_page = client.get(f"/programmes/{course.programme.slug}").get_data(as_text=True)
    assert "Watch the recording: Economic resilience recording" in programme_page
    module_page = client.get(_module_url(course, course.items)).get_data(as_text=True)
    assert "Watch: Economic resilience recording" in module_page
    player = client.get(_open_url(course, recording)).get_data(as_text=True)
    assert 'src="https://player.vimeo.com/video/76979871?dnt=1"' in player


def test_anonymous_programme_page_says_recordings_are_for_participants(client, course):
    html = client.get(f"/programmes/{course.programme.slug}").get_data(as_text=True)
    assert "A recording is available to registered participants." in html
    assert "Session 1 recording" not in html
    assert "<progress" not in html


def _completions(course) -> list[tuple[int, str]]:
    db.session.rollback()
    return [
        (c.module_id, c.source)
        for c in db.session.scalars(
            select(ModuleCompletion).where(
                ModuleCompletion.registration_id == course.registration.id
            )
        )
    ]
