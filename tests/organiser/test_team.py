"""Per-programme rights: each organiser reaches only what their team rights allow."""

from __future__ import annotations

from sqlalchemy import select

from learnhub.accounts.models import ProgrammeTeamMember
from learnhub.extensions import db
from tests import factories as f


def test_rights_decide_which_pages_an_organiser_reaches(client):
    programme = f.make_programme()
    lead = f.make_organiser(programme)
    helper = f.make_organiser(email="helper@example.org")
    f.sign_in(client, lead)
    response = client.post(
        f"/organiser/programmes/{programme.slug}/team",
        data={"email": "Helper@example.org", "manage_attendance": "y"},
    )
    assert response.status_code == 302
    f.sign_in(client, helper)
    base = f"/organiser/programmes/{programme.slug}"
    assert client.get(f"{base}/attendance").status_code == 200
    assert client.get(f"{base}/registrants").status_code == 404
    assert client.get(f"{base}/registration-settings").status_code == 404
    assert client.get(f"{base}/team").status_code == 404


def test_only_existing_organisers_join_and_no_one_removes_themselves(client):
    programme = f.make_programme()
    lead = f.make_organiser(programme)
    f.make_user(email="participant@example.org")
    f.sign_in(client, lead)
    refused = client.post(
        f"/organiser/programmes/{programme.slug}/team",
        data={"email": "participant@example.org", "manage_programme": "y"},
    )
    assert refused.status_code == 422
    assert "no organiser account" in refused.get_data(as_text=True)
    own = db.session.scalar(select(ProgrammeTeamMember.id))
    client.post(f"/organiser/programmes/{programme.slug}/team/{own}/remove")
    assert db.session.scalar(select(ProgrammeTeamMember.id)) == own
