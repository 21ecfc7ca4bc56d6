"""The programme page of a signed-in participant says where they stand (issue 15): status,
waiting-list place, next session in their zone, add to calendar, cancel; never "Register".
Nobody else ever sees it: not another person, not a signed-out visitor (whose page is kept)."""

from __future__ import annotations

import pytest

from tests import factories as f


def page(client, programme) -> str:
    response = client.get(f"/programmes/{programme.slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


#: What the page says for each status, and the button's path (/me/registrations/<id>/...).
SAID = {
    "confirmed": ("your place is <strong>confirmed</strong>", "cancel"),
    "pending": ("<strong>awaiting approval</strong>", "cancel"),
    "waitlisted": ("number <strong>2</strong>", "leave-waiting-list"),
}


@pytest.mark.parametrize("status", sorted(SAID))
def test_a_registered_participant_sees_their_registration_not_register(client, status):
    says, cancel_path = SAID[status]
    programme = f.make_programme(capacity=60, approval_required=status == "pending")
    f.make_registration(programme, status="waitlisted")  # someone ahead in the queue
    participant = f.make_user(timezone="Asia/Jakarta")
    registration = f.make_registration(programme, participant, status=status)
    f.sign_in(client, participant)

    html = page(client, programme)

    assert "Your registration" in html and says in html
    assert f"/programmes/{programme.slug}/register" not in html
    assert "seats left" not in html
    # The next session in their zone, with its name; a calendar file; the cancel button.
    assert "(Asia/Jakarta)" in html and "Your next session" in html
    assert f'href="/programmes/{programme.slug}/calendar.ics"' in html
    assert f'action="/me/registrations/{registration.id}/{cancel_path}"' in html


def test_a_cancelled_registration_is_offered_register_again(client):
    programme = f.make_programme(capacity=60)
    participant = f.make_user()
    f.make_registration(programme, participant, status="cancelled")
    f.sign_in(client, participant)

    html = page(client, programme)

    assert "Your registration" not in html
    assert f'href="/programmes/{programme.slug}/register"' in html


def test_nobody_else_sees_a_participants_registration(app, client):
    app.config["PUBLIC_PAGE_MAX_AGE_SECONDS"] = 60  # the signed-out page is kept
    programme = f.make_programme(capacity=60)
    participant = f.make_user()
    f.make_registration(programme, participant, status="waitlisted")
    f.sign_in(client, participant)
    assert "Your registration" in page(client, programme)

    for visitor in (app.test_client(), app.test_client()):  # fills the kept page, then reads it
        html = page(visitor, programme)
        assert "Your registration" not in html and "leave-waiting-list" not in html
        assert "seats left" in html and f"/programmes/{programme.slug}/register" in html

    someone_else = app.test_client()
    f.sign_in(someone_else, f.make_user())
    html = page(someone_else, programme)
    assert "Your registration" not in html and "leave-waiting-list" not in html


def test_the_first_screen_holds_what_when_and_register(client):
    """What it is, who runs it, when (with the zone) and Register come before the sessions;
    no empty "About" heading; each session's times once (no "Ends:")."""
    programme = f.make_programme(capacity=60, description="")
    programme.summary = ""
    f.save(programme)
    html = page(client, programme)

    register = html.index(f'href="/programmes/{programme.slug}/register"')
    assert html.index("<h1>") < html.index("Hosted by") < register < html.index('id="when-heading"')
    assert html.index("First session:") < register
    assert "(Asia/Seoul)" in html[:register]
    assert ">About<" not in html
    assert "Ends:" not in html
