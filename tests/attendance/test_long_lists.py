"""Lists that grow with the programme come a page at a time, with plain links: the sheet
(100 registrants a page, saving stays on the page), the report's tables, check-in arrivals."""

from __future__ import annotations

from tests import factories as f


def test_the_sheet_and_the_report_come_a_page_at_a_time(client):
    programme = f.past_programme(sessions=2, completion_percent=100)
    organiser = f.make_organiser(programme)
    people = [
        f.early_registration(programme, f.make_user(full_name=f"P{n:03d}")) for n in range(105)
    ]
    session = programme.sessions[0]
    f.sign_in(client, organiser)
    sheet_url = f"/organiser/programmes/{programme.slug}/sessions/{session.id}/attendance"

    second = client.get(sheet_url + "?page=2").text
    assert "P104" in second and "P000" not in second
    assert "105 confirmed participants (101-105 on this page)" in second
    assert f'href="{sheet_url}?page=1"' in second
    saved = client.post(sheet_url + "?page=2", data={f"r{people[104].id}": "late"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("?page=2")
    assert client.get(sheet_url + "?page=3").status_code == 404
    assert client.get(sheet_url + "?page=99999999999999999999").status_code == 200  # page 1

    report_url = f"/organiser/programmes/{programme.slug}/attendance"
    first_page = client.get(report_url).text
    assert "P099" in first_page and "P100" not in first_page
    assert "Pages of participants below the rule" in first_page
    last_page = client.get(report_url + "?page=2&below=2").text
    assert "P104" in last_page and "P000" not in last_page

    check_in = client.get(sheet_url.replace("/attendance", "/check-in")).text
    assert "Arrivals (0 of 105)" in check_in
