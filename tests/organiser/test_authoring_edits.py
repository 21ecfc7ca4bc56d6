"""What organisers can correct after writing it: materials, shared organisations, a draft's
sessions, speakers' contributions; the draft preview's closed register box; files never left
behind by a change that did not commit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from learnhub.catalogue.authoring import materials
from learnhub.catalogue.models import (
    AuditEntry,
    Material,
    Organisation,
    Person,
    Session,
    SessionSpeaker,
)
from learnhub.extensions import db
from learnhub.timefmt import zone
from tests import factories as f
from tests.organiser.test_authoring import (
    PDF,
    PNG,
    _add_session,
    _audit,
    _create,
    _post_session,
    _programme_form,
    _upload,
)


@pytest.fixture
def organiser(client):
    user = f.make_organiser(timezone="Asia/Shanghai")
    f.sign_in(client, user)
    return user


def _stored_files(app) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _seen(page: str) -> str:
    return page.split('name="seen"', 1)[1].split('value="', 1)[1].split('"', 1)[0]


def _material_form(seen: str, **fields) -> dict:
    data = {
        "title": "Guidebook",
        "kind": "guidebook",
        "language": "English",
        "visibility": "registered",
        "seen": seen,
    }
    data.update(fields)
    return data


# --- 1. materials -------------------------------------------------------------------------------


def test_a_material_is_edited_its_file_replaced_then_swapped_for_a_link(app, client, organiser):
    programme = _create(client)
    assert _upload(client, programme, PDF, "guide.pdf").status_code == 302
    material = db.session.scalar(select(Material))
    first_file = material.file_name
    url = f"/organiser/programmes/{programme.slug}/materials/{material.id}/edit"
    page = client.get(url)
    assert page.status_code == 200 and 'value="Guidebook"' in page.get_data(as_text=True)
    seen = _seen(page.get_data(as_text=True))
    # Details change and the file stays when neither a file nor a link is given.
    now = {"title": "Guidebook 2026", "language": "Spanish", "kind": "reading"}
    kept = client.post(url, data=_material_form(seen, **now))
    assert kept.status_code == 302, kept.get_data(as_text=True)
    db.session.refresh(material)
    assert (material.title, material.language, material.kind) == (
        "Guidebook 2026",
        "Spanish",
        "reading",
    )
    assert material.file_name == first_file
    # An editor who opened the page before that save is told, not allowed to overwrite.
    stale = client.post(url, data=_material_form(seen, title="Old copy"))
    assert stale.status_code == 422
    assert "Someone else saved this material" in stale.get_data(as_text=True)
    db.session.refresh(material)
    assert material.title == "Guidebook 2026"
    # A new file replaces the stored one, which leaves the disk.
    seen = _seen(client.get(url).get_data(as_text=True))
    new_pdf = PDF + b"% second edition\n"
    replaced = client.post(
        url,
        data={
            **_material_form(seen, **now),
            "file": (io.BytesIO(new_pdf), "g.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert replaced.status_code == 302, replaced.get_data(as_text=True)
    db.session.refresh(material)
    assert material.file_name != first_file and material.size_bytes == len(new_pdf)
    assert _stored_files(app) == {material.file_name}
    # Both a file and a link: refused. A link alone replaces the file.
    seen = _seen(client.get(url).get_data(as_text=True))
    both = client.post(
        url,
        data={
            **_material_form(seen, **now, url="https://example.org/guide"),
            "file": (io.BytesIO(PDF), "g.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert both.status_code == 422 and "one of the two" in both.get_data(as_text=True)
    to_link = client.post(url, data=_material_form(seen, **now, url="https://example.org/guide"))
    assert to_link.status_code == 302
    db.session.refresh(material)
    assert material.url == "https://example.org/guide" and material.file_name is None
    assert material.size_bytes is None and _stored_files(app) == set()
    details = db.session.scalars(
        select(AuditEntry.detail)
        .where(AuditEntry.action == "edited material")
        .order_by(AuditEntry.id)
    ).all()
    assert details == [
        "Guidebook 2026: title: “Guidebook” → “Guidebook 2026”, kind: “guidebook” → “reading”,"
        " language: “English” → “Spanish”",
        "Guidebook 2026: file",
        "Guidebook 2026: link, file replaced by a link",
    ]
    # A link material with its link emptied and no file: refused.
    seen = _seen(client.get(url).get_data(as_text=True))
    empty = client.post(url, data=_material_form(seen, **now, url=""))
    assert empty.status_code == 422 and "one of the two" in empty.get_data(as_text=True)


def test_a_material_of_another_programme_is_not_edited_through_this_one(client, organiser):
    programme = _create(client)
    other = f.make_material(f.make_programme())
    url = f"/organiser/programmes/{programme.slug}/materials/{other.id}/edit"
    assert client.get(url).status_code == 404
    assert client.post(url, data=_material_form("x", title="Mine now")).status_code == 404


# --- 2. organisations ---------------------------------------------------------------------------


def test_an_organisation_is_corrected_once_and_logged_where_it_shows(client, organiser):
    c40 = f.make_organisation("C40 Cities", short_name="C40")
    f.make_organisation("UCLG ASPAC")
    hosted = f.make_programme(hosts=[c40])
    spoken = f.make_programme()
    f.make_speaker(spoken.sessions[0], "Li Wei", "Mayor", organisation=c40)
    unrelated = f.make_programme()
    url = f"/organiser/organisations/{c40.id}/edit"
    seen = _seen(client.get(url).get_data(as_text=True))
    taken = client.post(url, data={"name": "uclg  aspac", "seen": seen})
    assert taken.status_code == 422
    assert "“uclg aspac” is already here" in taken.get_data(as_text=True)
    saved = client.post(
        url,
        data={
            "name": "C40 Cities Climate Leadership Group",
            "short_name": "C40",
            "website": "https://www.c40.org",
            "seen": seen,
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, c40.id).website == "https://www.c40.org"
    detail = (
        "C40 Cities: name: “C40 Cities” → “C40 Cities Climate Leadership Group”, website: none"
        " → “https://www.c40.org” (now “C40 Cities Climate Leadership Group”)"
    )
    for programme in (hosted, spoken):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.programme_id == programme.id))
        assert (entry.action, entry.detail, entry.user_id) == (
            "edited organisation",
            detail,
            organiser.id,
        )
    assert _audit(unrelated.id) == []
    page = client.get(f"/programmes/{hosted.slug}").get_data(as_text=True)
    assert "Hosted by C40 Cities Climate Leadership Group" in page
    # A form opened before that save is refused; its own name in another case is fine.
    stale = client.post(url, data={"name": "C40", "seen": seen})
    assert stale.status_code == 422
    assert "Someone else saved this organisation" in stale.get_data(as_text=True)
    seen = _seen(client.get(url).get_data(as_text=True))
    recased = client.post(url, data={"name": "C40 CITIES Climate Leadership Group", "seen": seen})
    assert recased.status_code == 302
    assert client.get("/organiser/organisations/999999/edit").status_code == 404


# --- 3. removing a draft's session --------------------------------------------------------------


def test_a_drafts_session_is_removed_a_published_ones_is_cancelled_instead(client, organiser):
    programme = _create(client)
    _add_session(client, programme, title="Opening")
    _add_session(client, programme, title="Closing")
    opening = db.session.scalar(select(Session).where(Session.title == "Opening"))
    base = f"/organiser/programmes/{programme.slug}"
    assert f"{base}/sessions/{opening.id}/delete" in client.get(f"{base}/edit").get_data(
        as_text=True
    )
    asked = client.post(f"{base}/sessions/{opening.id}/delete")
    assert asked.status_code == 200 and "Remove the session “Opening”?" in asked.text
    removed = client.post(f"{base}/sessions/{opening.id}/delete", data={"confirmed": "yes"})
    assert removed.status_code == 302
    assert db.session.scalars(select(Session.title)).all() == ["Closing"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "removed session"))
    assert entry.detail == "Opening" and entry.user_id == organiser.id
    client.post(f"{base}/publish")
    closing = db.session.scalar(select(Session))
    page = client.get(f"{base}/edit").get_data(as_text=True)
    assert f"{base}/sessions/{closing.id}/delete" not in page
    assert "cancel them with “Move or cancel”, which tells their registrants" in page
    refused = client.post(f"{base}/sessions/{closing.id}/delete", follow_redirects=True)
    assert "cancel the session instead" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Session.status)) == "scheduled"
    assert _audit(programme.id).count("removed session") == 1  # the draft's session only


# --- 4. the draft preview ----------------------------------------------------------------------


def test_the_draft_preview_shows_registration_closed_not_a_broken_link(client, organiser):
    programme = _create(client)
    _add_session(client, programme)
    preview = client.get(f"/organiser/programmes/{programme.slug}/preview").get_data(as_text=True)
    box = preview.split('class="register-box"', 1)[1].split("</aside>", 1)[0]
    assert "Registration opens when the programme is published." in box
    assert '<button type="button" disabled' in box
    assert f"/programmes/{programme.slug}/register" not in box
    client.post(f"/organiser/programmes/{programme.slug}/publish")
    public = client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
    assert f"/programmes/{programme.slug}/register" in public
    assert "Registration opens when the programme is published." not in public


# --- 5. files of a change that did not commit --------------------------------------------------


def test_a_cover_stored_before_a_refused_change_is_removed(app, client, organiser):
    gone = client.post(
        "/organiser/programmes/new",
        data={**_programme_form(hosts="999999"), "cover": (io.BytesIO(PNG), "cover.png")},
        content_type="multipart/form-data",
    )
    assert gone.status_code == 422
    assert "no longer exists" in gone.get_data(as_text=True)
    assert _stored_files(app) == set()


def test_a_file_stored_before_a_failed_database_write_is_removed(
    app, client, organiser, monkeypatch
):
    programme = _create(client)

    def failing_record(*args, **kwargs):
        raise OperationalError("INSERT INTO audit_entry", {}, Exception("disk I/O error"))

    monkeypatch.setattr(materials, "record", failing_record)
    with pytest.raises(OperationalError):
        _upload(client, programme, PDF, "guide.pdf")
    assert _stored_files(app) == set()
    assert db.session.scalar(select(db.func.count()).select_from(Material)) == 0
    monkeypatch.undo()
    # The same upload, when the write succeeds, keeps its file.
    assert _upload(client, programme, PDF, "guide.pdf").status_code == 302
    assert _stored_files(app) == {db.session.scalar(select(Material.file_name))}


# --- 6. what each speaker presents -------------------------------------------------------------


def test_each_speakers_contribution_is_set_from_the_session_form(client, organiser):
    programme = _create(client)
    li = f.save(Person(full_name="Li Wei", position="Mayor"))
    ana = f.save(Person(full_name="Ana Lopez"))
    _add_session(
        client, programme, title="Opening", speakers=[str(li.id)], moderators=[str(ana.id)]
    )
    session = db.session.scalar(select(Session))
    url = f"/organiser/programmes/{programme.slug}/sessions/{session.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert f'name="contribution-{li.id}"' in form and f'name="contribution-{ana.id}"' in form
    day = session.starts_at.astimezone(zone(session.timezone))
    data = {
        "title": "Opening",
        "day": day.date().isoformat(),
        "start": day.strftime("%H:%M"),
        "end": session.ends_at.astimezone(zone(session.timezone)).strftime("%H:%M"),
        "timezone": session.timezone,
        "speakers": [str(li.id)],
        "moderators": [str(ana.id)],
        "version": str(session.version),
        f"contribution-{li.id}": "  Chengdu's  net zero plan ",
        f"contribution-{ana.id}": "",
    }
    too_long = client.post(url, data={**data, f"contribution-{ana.id}": "x" * 501})
    assert too_long.status_code == 422 and "500 characters" in too_long.get_data(as_text=True)
    assert 'value="  Chengdu' in too_long.get_data(as_text=True)  # what was typed is kept
    assert client.post(url, data=data).status_code == 302
    links = {
        link.person_id: link.contribution for link in db.session.scalars(select(SessionSpeaker))
    }
    assert links == {li.id: "Chengdu's net zero plan", ana.id: None}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "edited session"))
    assert entry.detail == "Opening: contributions"
    # Reordering the line-up keeps each person's contribution.
    session = db.session.scalar(select(Session))
    swapped = {**data, "version": str(session.version), "speakers": [str(ana.id), str(li.id)]}
    del swapped[f"contribution-{li.id}"], swapped[f"contribution-{ana.id}"]
    swapped["moderators"] = []
    assert client.post(url, data=swapped).status_code == 302
    db.session.expire_all()
    links = {
        link.person_id: link.contribution for link in db.session.scalars(select(SessionSpeaker))
    }
    assert links == {li.id: "Chengdu's net zero plan", ana.id: None}
    client.post(f"/organiser/programmes/{programme.slug}/publish")
    page = client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
    assert "Chengdu&#39;s net zero plan" in page or "Chengdu's net zero plan" in page


def test_a_nul_character_in_a_contribution_is_dropped_not_a_500(client, organiser):
    """PostgreSQL refuses NUL in text (DataError, a 500): the form fields drop it with
    `strip`, but contributions were read from the request as they came."""
    programme = _create(client)
    li = f.save(Person(full_name="Li Wei", position="Mayor"))
    response = _post_session(
        client, programme, speakers=[str(li.id)], **{f"contribution-{li.id}": "Net\x00 zero"}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(SessionSpeaker.contribution)) == "Net zero"
