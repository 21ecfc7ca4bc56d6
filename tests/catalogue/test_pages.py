"""Public pages: catalogue, programme, module, downloads, viewer time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from learnhub.catalogue.models import Material
from tests import factories as f


def test_catalogue_lists_upcoming_before_past_with_seats(client):
    upcoming = f.make_programme(title="Upcoming programme", capacity=40)
    past = f.make_programme(
        title="Past webinar", kind="webinar", first_session_in=timedelta(days=-30)
    )
    f.make_registration(upcoming)
    html = client.get("/").get_data(as_text=True)
    upcoming_at = html.index("Upcoming programme")
    past_heading = html.index("Past programmes")
    assert upcoming_at < past_heading < html.index("Past webinar")
    assert "39 seats left" in html
    assert past.title in html


def test_catalogue_hides_drafts(client):
    f.make_programme(title="Secret draft", status="draft")
    assert "Secret draft" not in client.get("/").get_data(as_text=True)


def test_catalogue_filters_by_topic_and_kind(client):
    climate = f.make_topic("Climate", slug="climate")
    housing = f.make_topic("Housing", slug="housing")
    f.make_programme(title="Climate webinar", kind="webinar", topic=climate)
    f.make_programme(title="Climate programme", kind="programme", topic=climate)
    f.make_programme(title="Housing webinar", kind="webinar", topic=housing)
    html = client.get("/?topic=climate&kind=webinar").get_data(as_text=True)
    assert "Climate webinar" in html
    assert "Climate programme" not in html
    assert "Housing webinar" not in html
    assert client.get("/?kind=nonsense").status_code == 200


def test_catalogue_shows_first_session_in_the_viewers_zone(client):
    programme = f.make_programme(timezone="Asia/Seoul", sessions=0)
    f.make_session(programme, datetime(2030, 3, 10, 6, 30, tzinfo=UTC))
    client.set_cookie("tz", "America/Sao_Paulo")
    html = client.get("/").get_data(as_text=True)
    assert "Sun 10 Mar 2030, 03:30 UTC-03 (America/Sao_Paulo)" in html


@pytest.mark.parametrize(
    ("cookie", "shown"),
    [
        ("America%2FSao_Paulo", "America/Sao_Paulo"),  # as an earlier tz.js wrote it
        ("localtime", "UTC"),  # ZoneInfo loads these, but no one can choose them
        ("posix/Europe/Madrid", "UTC"),
        ("Mars/Olympus", "UTC"),
    ],
)
def test_the_viewers_zone_cookie_is_read_only_for_zones_of_the_list(client, cookie, shown):
    programme = f.make_programme(timezone="Asia/Seoul", sessions=0)
    f.make_session(programme, datetime(2030, 3, 10, 6, 30, tzinfo=UTC))
    client.set_cookie("tz", cookie)
    html = client.get("/").get_data(as_text=True)
    assert f"in yours ({shown})" in html


def test_programme_page_shows_sessions_in_both_zones(client):
    programme = f.make_programme(timezone="Asia/Seoul", sessions=0, capacity=10)
    f.make_session(programme, datetime(2030, 11, 14, 0, 30, tzinfo=UTC), minutes=90)
    client.set_cookie("tz", "Europe/Paris")
    html = client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
    assert "Thu 14 Nov 2030, 09:30–11:00 KST (Asia/Seoul)" in html
    assert "Thu 14 Nov 2030, 01:30–03:00 CET (Europe/Paris)" in html
    assert "10 seats left" in html
    assert f'href="/programmes/{programme.slug}/register"' in html


def test_choosing_a_time_zone_sets_it_for_the_next_pages(client):
    programme = f.make_programme(timezone="Asia/Seoul")
    response = client.get(
        "/timezone",
        query_string={"timezone": "Asia/Jakarta", "next": f"/programmes/{programme.slug}"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/programmes/{programme.slug}"
    assert "(Asia/Jakarta)" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_time_zone_form_never_redirects_off_site(client):
    response = client.get(
        "/timezone", query_string={"timezone": "UTC", "next": "https://evil.example"}
    )
    assert response.headers["Location"] == "/"


def test_unknown_time_zone_is_ignored(client):
    response = client.get("/timezone", query_string={"timezone": "Mars/Olympus", "next": "/"})
    assert response.status_code == 302
    assert "tz=" not in response.headers.get("Set-Cookie", "")


def test_draft_and_unknown_programmes_are_404(client):
    draft = f.make_programme(status="draft")
    assert client.get(f"/programmes/{draft.slug}").status_code == 404
    assert client.get("/programmes/no-such-thing").status_code == 404
    assert client.get(f"/programmes/{draft.slug}/register").status_code == 404


def test_programme_description_markdown_cannot_run_script(client):
    programme = f.make_programme(
        description='**Bold** <script>alert(1)</script> <img src=x onerror="alert(2)">'
    )
    html = client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
    assert "<strong>Bold</strong>" in html
    assert "<script>alert(1)" not in html
    assert "onerror" not in html


def test_module_page_and_registered_only_materials(client, app):
    programme = f.make_programme()
    module = f.make_module(programme, 1, "Climate resilience")
    f.make_material(programme, module_id=module.id, title="Open reading", visibility="public")
    f.make_material(
        programme, module_id=module.id, title="Members recording", visibility="registered"
    )
    html = client.get(f"/programmes/{programme.slug}/modules/1").get_data(as_text=True)
    assert "Module 1: Climate resilience" in html
    assert "Open reading" in html
    assert "Members recording" not in html
    assert client.get(f"/programmes/{programme.slug}/modules/2").status_code == 404


def _pdf_material(app, programme, visibility: str) -> Material:
    from pathlib import Path

    folder = Path(app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "guide.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    return f.make_material(
        programme,
        kind="guidebook",
        title="Guide",
        url=None,
        file_name="guide.pdf",
        download_name="guide.pdf",
        content_type="application/pdf",
        size_bytes=15,
        visibility=visibility,
    )


def test_public_file_downloads_as_an_attachment(client, app):
    material = _pdf_material(app, f.make_programme(), "public")
    response = client.get(f"/materials/{material.id}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"%PDF")


def test_registered_only_file_is_refused_to_others(client, app):
    programme = f.make_programme()
    material = _pdf_material(app, programme, "registered")
    anonymous = client.get(f"/materials/{material.id}/download")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    outsider = f.make_user()
    with client.session_transaction() as session:
        session["_user_id"] = str(outsider.id)
    assert client.get(f"/materials/{material.id}/download").status_code == 403
    member = f.make_registration(programme).user
    with client.session_transaction() as session:
        session["_user_id"] = str(member.id)
    assert client.get(f"/materials/{material.id}/download").status_code == 200
