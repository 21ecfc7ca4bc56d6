"""Issue 15: the privacy notice and its links, the error summary of a refused form, and the
compact time-zone field (typed, checked against zoneinfo; no list of every zone in the page)."""

from __future__ import annotations

import re

import pytest

from learnhub.extensions import db
from learnhub.registration.models import Registration
from tests import factories as f


def test_the_privacy_notice_says_who_why_how_long_rights_and_how_to_leave(app, client):
    app.config["OPERATOR_NAME"] = "Metropolis Learning Office"
    app.config["DATA_RETENTION_DAYS"] = 400
    response = client.get("/privacy")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Metropolis Learning Office" in html
    assert "400 days after its last session ends" in html
    for heading in ("Who holds your data", "What we collect and why", "How long we keep it"):
        assert heading in html
    assert "Your rights" in html
    assert 'href="/me/data.json"' in html and 'href="/me/delete"' in html


def test_the_consent_label_and_the_footer_link_to_the_notice(client):
    programme = f.make_programme(capacity=5)
    register = client.get(f"/programmes/{programme.slug}/register").get_data(as_text=True)
    label = re.search(r'<label for="consent">(.*?)</label>', register, re.S)
    assert label and '<a href="/privacy">privacy notice</a>' in label.group(1)
    for url in ("/", f"/programmes/{programme.slug}", "/privacy"):
        footer = client.get(url).get_data(as_text=True).split('<footer class="site-footer">')[1]
        assert '<a href="/privacy">Privacy notice</a>' in footer


def test_a_refused_form_has_an_error_summary_first_linking_each_field(client):
    programme = f.make_programme(capacity=5)
    sent = f.registration_form(full_name="", timezone="Mars/Olympus_Mons", consent="")
    response = client.post(f"/programmes/{programme.slug}/register", data=sent)
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert re.search(r"<title>Error: Register · [^<]*</title>", html)
    main = html.split('<main id="main" tabindex="-1">')[1]
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', main, re.S)
    assert summary and main.index("error-summary") < main.index("<h1>")
    assert 'role="alert"' in summary.group(0) and 'tabindex="-1"' in summary.group(0)
    links = re.findall(r'<a href="#([\w-]+)">([^<]*)</a>', summary.group(1))
    assert [target for target, _ in links] == ["full_name", "timezone", "consent"]
    assert "Choose a time zone from the list." in links[1][1]
    assert 'src="/static/error-summary.js?v=' in main
    for target, _ in links:
        assert f'id="{target}"' in main  # each link leads to its field


def test_a_page_without_errors_has_no_summary_nor_error_title(client):
    programme = f.make_programme(capacity=5)
    html = client.get(f"/programmes/{programme.slug}/register").get_data(as_text=True)
    assert "<title>Error:" not in html and "data-error-summary" not in html
    assert "error-summary.js" not in html


def test_the_zone_is_typed_and_written_as_the_list_writes_it(client):
    programme = f.make_programme(capacity=5)
    response = client.post(
        f"/programmes/{programme.slug}/register",
        data=f.registration_form(timezone="  america/sao paulo "),
    )
    assert response.status_code == 302
    registration = db.session.scalars(db.select(Registration)).one()
    assert registration.user.timezone == "America/Sao_Paulo"


def test_pages_no_longer_carry_a_list_of_every_zone(client):
    programme = f.make_programme(capacity=5)
    for url in (f"/programmes/{programme.slug}", f"/programmes/{programme.slug}/register", "/"):
        html = client.get(url).get_data(as_text=True)
        assert html.count("<option") < 20, url
        assert "Asia/Jakarta" not in html or url == "/"  # only as an example, never a list
    listing = client.get("/timezones")
    assert "<code>Asia/Jakarta</code>" in listing.get_data(as_text=True)
    assert listing.headers["Cache-Control"] == "public, max-age=86400"


def test_an_unknown_zone_is_refused_by_the_viewer_zone_form_and_the_profile(client):
    response = client.get("/timezone?timezone=Nowhere/Atlantis&next=/")
    assert response.status_code == 302 and "Set-Cookie" not in response.headers
    chosen = client.get("/timezone?timezone=asia/jakarta&next=/")
    assert "tz=Asia/Jakarta" in chosen.headers["Set-Cookie"]

    f.sign_in(client, f.make_user())
    bad = client.post(
        "/me/profile",
        data={"full_name": "Ana", "timezone": "Nowhere/Atlantis", "preferred_language": "en"},
    )
    assert bad.status_code == 422
    assert "Choose a time zone from the list." in bad.get_data(as_text=True)


def test_a_visitor_whose_zone_is_unknown_is_told_times_are_in_utc(client):
    programme = f.make_programme(capacity=5)
    html = client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
    assert "Times in UTC" in html and "data-zone-unknown" in html
    client.set_cookie("tz", "America/Sao_Paulo")
    html = client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
    assert "Times in UTC" not in html and "(America/Sao_Paulo)" in html


def test_the_catalogue_filters_apply_on_change_and_keep_their_button_without_js(client):
    html = client.get("/").get_data(as_text=True)
    assert "data-submit-on-change" in html and 'src="/static/filters.js?v=' in html
    assert '<button type="submit">Filter</button>' in html
    script = client.get("/static/filters.js")
    assert script.status_code == 200 and b"form.submit()" in script.data


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("America/Sao_Paulo", "America/Sao_Paulo"),
        ("america/sao paulo", "America/Sao_Paulo"),
        ("São Paulo", "America/Sao_Paulo"),
        ("  seoul ", "Asia/Seoul"),
        ("kuala_lumpur", "Asia/Kuala_Lumpur"),
        ("Chengdu", "Chengdu"),  # no zone of that city: kept, for the validator to refuse
    ],
)
def test_a_zone_may_be_typed_as_its_city_alone(typed, zone):
    from learnhub.accounts.forms import canonical_zone

    assert canonical_zone(typed) == zone
