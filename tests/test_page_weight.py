"""Light pages: every participant page, on a first visit, weighs at most 30 KB transferred
(its HTML and the stylesheet it links, both compressed), and static files are served under a
content-hashed URL that browsers keep for a year."""

from __future__ import annotations

import gzip
import os
import re
from datetime import timedelta

import brotli
import pytest
from flask import url_for

from learnhub.types import utcnow
from tests import factories as f

BUDGET = 30 * 1024
FIRST_VISIT = {"Accept-Encoding": "br, gzip"}
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
YEAR = "max-age=31536000"


@pytest.fixture
def participant_pages(app, client):
    """A published programme with four sessions, a module, a material and a question; a
    confirmed participant holding a certificate, signed in. Each page's name and path."""
    organiser = f.make_organisation(name="Metropolis")
    programme = f.make_programme(sessions=4, capacity=60, hosts=[organiser])
    module = f.make_module(programme, 1, "Climate resilience")
    f.make_material(programme, module_id=module.id, title="Guidebook")
    f.make_question(programme, "Which city do you work for?")
    person = f.make_user(full_name="Paula Participante")
    registration = f.make_registration(programme, person)
    f.make_attendance(programme.sessions[0], registration, status="present")
    certificate = f.make_certificate(registration, issued_at=utcnow() - timedelta(days=1))
    slug = programme.slug
    signed_out = {
        "catalogue": "/",
        "programme": f"/programmes/{slug}",
        "registration form": f"/programmes/{slug}/register",
        "sign-in": "/login",
        "certificate verification": f"/certificates/{certificate.code}",
    }
    signed_in = {
        "programme (registered)": f"/programmes/{slug}",
        "module": f"/programmes/{slug}/modules/1",
        "my programmes": "/me/programmes",
        "my attendance": "/me/attendance",
        "profile": "/me/profile",
        "registration answer": f"/programmes/{slug}/registered",
    }
    return client, person, registration, signed_out, signed_in


def _transferred(client, path: str) -> int:
    """Bytes sent for the page and for every stylesheet it links, asked for as a browser does."""
    page = client.get(path, headers=FIRST_VISIT)
    assert page.status_code == 200, path
    assert page.headers.get("Content-Encoding") == "br", f"{path} is not compressed"
    assert "Accept-Encoding" in page.headers.get("Vary", "")
    html = brotli.decompress(page.data).decode()
    stylesheets = STYLESHEET.findall(html)
    assert stylesheets, f"{path} links no stylesheet"
    sent = len(page.data)
    for url in stylesheets:
        css = client.get(url, headers=FIRST_VISIT)
        assert css.status_code == 200 and css.headers.get("Content-Encoding") == "br", url
        sent += len(css.data)
    return sent


SIGNED_OUT = [
    "catalogue",
    "programme",
    "registration form",
    "sign-in",
    "certificate verification",
]
SIGNED_IN = [
    "programme (registered)",
    "module",
    "my programmes",
    "my attendance",
    "profile",
    "registration answer",
]


@pytest.mark.parametrize("name", SIGNED_OUT)
def test_a_signed_out_page_and_its_stylesheet_weigh_at_most_30_kb_compressed(
    participant_pages, name
):
    client, _person, _registration, signed_out, _signed_in = participant_pages
    size = _transferred(client, signed_out[name])
    print(f"{name}: {size} bytes transferred")  # shown with -s
    assert size <= BUDGET, f"{name}: {size} bytes transferred"


@pytest.mark.parametrize("name", SIGNED_IN)
def test_a_participant_page_and_its_stylesheet_weigh_at_most_30_kb_compressed(
    participant_pages, name
):
    client, person, registration, _signed_out, signed_in = participant_pages
    f.sign_in(client, person)
    with client.session_transaction() as session:  # what registering leaves for the answer page
        session["last_registration"] = {
            "id": registration.id,
            "already": False,
            "email": person.email,
        }
    size = _transferred(client, signed_in[name])
    print(f"{name}: {size} bytes transferred")  # shown with -s
    assert size <= BUDGET, f"{name}: {size} bytes transferred"


def test_a_browser_that_only_reads_gzip_gets_gzip(client):
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "<h1>Sign in</h1>" in gzip.decompress(page.data).decode()
    assert "Content-Encoding" not in client.get("/login").headers  # nothing asked, none sent


def test_static_files_under_their_hashed_url_are_kept_a_year(client):
    html = client.get("/login").get_data(as_text=True)
    linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert any(u.startswith("/static/style.css?v=") for u in linked)
    assert any(u.startswith("/static/favicon.svg?v=") for u in linked)
    for url in linked:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == f"public, {YEAR}, immutable", url


def test_a_static_file_asked_without_its_current_hash_is_revalidated(client):
    for url in ("/static/style.css", "/static/style.css?v=000000000000"):
        cache_control = client.get(url).headers.get("Cache-Control", "")
        assert YEAR not in cache_control and "immutable" not in cache_control


def test_changing_a_static_file_changes_its_url(app, tmp_path):
    app.static_folder = str(tmp_path)
    asset = tmp_path / "site.css"
    asset.write_text("body { color: black; }")
    with app.test_request_context():
        before = url_for("static", filename="site.css")
        asset.write_text("body { color: navy; }")
        os.utime(asset, ns=(1, 1))  # even if the clock would give the same modification time
        after = url_for("static", filename="site.css")
        again = url_for("static", filename="site.css")
        missing = url_for("static", filename="nowhere.css")
    assert before != after == again
    assert before.startswith("/static/site.css?v=") and after.startswith("/static/site.css?v=")
    assert missing == "/static/nowhere.css"
    client = app.test_client()
    assert "immutable" in client.get(after).headers["Cache-Control"]
    assert "immutable" not in client.get(before).headers.get("Cache-Control", "")
