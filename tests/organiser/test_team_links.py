"""A teammate sees exactly the pages their rights allow, from their dashboard and the
programme's navigation: every link they are shown opens (issue 14)."""

from __future__ import annotations

import re

import pytest

from learnhub.accounts.models import TEAM_RIGHTS, ProgrammeTeamMember
from tests import factories as f

LINK = re.compile(r'href="(/organiser/[^"#?]*)')


def _teammate(programme, rights: set[str]):
    user = f.make_organiser()
    f.save(
        ProgrammeTeamMember(
            programme_id=programme.id,
            user_id=user.id,
            **{right: right in rights for right in TEAM_RIGHTS},
        )
    )
    return user


def _crawl(client, start: str, depth: int = 5) -> dict[str, int]:
    """Every organiser page reachable by links from `start`, with its status."""
    seen: dict[str, int] = {}
    frontier = [start]
    for _ in range(depth):
        found = []
        for url in frontier:
            if url in seen:
                continue
            response = client.get(url)
            seen[url] = response.status_code
            body = response.get_data()  # a streamed export is read to its end
            response.close()
            if response.status_code == 200 and response.mimetype == "text/html":
                found += LINK.findall(body.decode())
        frontier = found
    return seen


@pytest.mark.parametrize(
    "rights",
    [
        {"manage_attendance"},
        {"manage_registrations"},
        {"manage_programme"},
        {"manage_attendance", "manage_registrations"},
    ],
)
def test_every_link_a_teammate_is_shown_opens(client, rights):
    programme = f.make_programme(title="Resilient City", sessions=2)
    f.make_module(programme, 1)
    _teammate(programme, rights)
    member = _teammate(programme, rights)
    f.sign_in(client, member)
    pages = _crawl(client, "/organiser/")
    refused = {url: status for url, status in pages.items() if status != 200}
    assert refused == {}
    base = f"/organiser/programmes/{programme.slug}"
    reached = {url for url in pages if url.startswith(base)}
    if "manage_attendance" in rights:
        assert f"{base}/attendance" in reached
    if "manage_registrations" in rights:
        assert f"{base}/registrants" in reached
    if "manage_programme" in rights:
        assert f"{base}/edit" in reached or any("/edit" in url for url in reached)
    if "manage_registrations" not in rights:
        assert f"{base}/registrants" not in reached


def test_an_attendance_teammate_sees_no_title_link_to_a_refusal(client):
    """The issue's case: the title and "Edit" led to "Not found"."""
    programme = f.make_programme(title="Resilient City")
    member = _teammate(programme, {"manage_attendance"})
    f.sign_in(client, member)
    html = client.get("/organiser/").get_data(as_text=True)
    base = f"/organiser/programmes/{programme.slug}"
    assert f'href="{base}/attendance">Resilient City' in html
    assert f'href="{base}"' not in html and f"{base}/edit" not in html
