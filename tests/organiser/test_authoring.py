"""Organisers author programmes in the browser: details, sessions, modules, materials, people,
new editions; every change lands in the audit log; edits never silently overwrite."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from learnhub.accounts.models import ProgrammeTeamMember, User
from learnhub.catalogue.authoring import people
from learnhub.catalogue.authoring.shared import AuthoringError
from learnhub.catalogue.models import (
    AuditEntry,
    Material,
    Module,
    Organisation,
    Person,
    Programme,
    Session,
)
from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.types import utcnow
from tests import factories as f

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ATTACK = (
    "Hello <script>alert('x')</script> <img src=x onerror=\"alert(1)\"> "
    '<scr<script>ipt>alert(2)</script> <a href="javascript:alert(3)" onclick="alert(4)">a</a> '
    "[link](javascript:alert(5)) <svg onload=alert(6)></svg> **bold**"
)


def assert_neutralised(html: str) -> None:
    lowered = html.lower()
    for bad in ("<script", "onerror", "onclick", "onload", "javascript:", "<svg"):
        assert bad not in lowered, bad


def _programme_form(**overrides) -> dict:
    data = {
        "kind": "webinar",
        "title": "Creating a Net Zero Community",
        "summary": "How cities reach net zero.",
        "description": "About *net zero*.",
        "format": "online",
        "language": "English",
        "timezone": "Asia/Shanghai",
        "waitlist_enabled": "y",
    }
    data.update(overrides)
    return data


def _audit(programme_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.programme_id == programme_id)
            .order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def organiser(client):
    user = f.make_organiser(timezone="Asia/Shanghai")
    f.sign_in(client, user)
    return user


def _create(client, **overrides) -> Programme:
    response = client.post("/organiser/programmes/new", data=_programme_form(**overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(select(Programme).order_by(Programme.id.desc()))


def _post_session(client, programme, **overrides):
    data = {
        "title": "Session",
        "day": (utcnow() + timedelta(days=10)).date().isoformat(),
        "start": "19:00",
        "end": "20:30",
        "timezone": programme.timezone,
    }
    data.update(overrides)
    return client.post(f"/organiser/programmes/{programme.slug}/sessions/new", data=data)


def _add_session(client, programme, **overrides) -> None:
    response = _post_session(client, programme, **overrides)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_create_publish_archive_with_audit_and_drafts_hidden(client, organiser):
    programme = _create(client)
    assert programme.status == "draft"
    assert programme.timezone == "Asia/Shanghai"
    member = db.session.scalar(select(ProgrammeTeamMember))
    assert member.user_id == organiser.id and member.manage_programme
    # A draft is not public: 404 on its page and its registration form; the preview works.
    assert client.get(f"/programmes/{programme.slug}").status_code == 404
    assert client.get(f"/programmes/{programme.slug}/register").status_code == 404
    preview = client.get(f"/organiser/programmes/{programme.slug}/preview")
    assert preview.status_code == 200 and "Preview of a draft" in preview.get_data(as_text=True)
    client.post(f"/organiser/programmes/{programme.slug}/modules", data={"title": "Climate"})
    assert client.get(f"/programmes/{programme.slug}/modules/1").status_code == 200
    f.sign_in(client, f.make_organiser())
    assert client.get(f"/programmes/{programme.slug}/modules/1").status_code == 404
    client.post("/logout")
    assert client.get(f"/programmes/{programme.slug}/modules/1").status_code == 404
    f.sign_in(client, organiser)
    # Publishing needs a session.
    client.post(f"/organiser/programmes/{programme.slug}/publish")
    db.session.refresh(programme)
    assert programme.status == "draft"
    _add_session(client, programme)
    client.post(f"/organiser/programmes/{programme.slug}/publish")
    db.session.refresh(programme)
    assert programme.status == "published"
    assert client.get(f"/programmes/{programme.slug}").status_code == 200
    client.post(f"/organiser/programmes/{programme.slug}/archive")
    db.session.refresh(programme)
    assert programme.status == "archived"
    assert _audit(programme.id) == [
        "created",
        "added module",
        "added session",
        "published",
        "archived",
    ]
    log = client.get(f"/organiser/programmes/{programme.slug}/audit").get_data(as_text=True)
    assert "published" in log and organiser.full_name in log


def test_session_times_are_entered_in_the_programme_zone_and_validated(client, organiser):
    programme = _create(client)
    day = (utcnow() + timedelta(days=10)).date()
    _add_session(client, programme, day=day.isoformat(), start="19:00", end="20:30")
    session = db.session.scalar(select(Session))
    # 19:00 in Shanghai (UTC+8, no DST) is 11:00 UTC.
    assert session.starts_at == datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)
    assert session.timezone == "Asia/Shanghai"
    url = f"/organiser/programmes/{programme.slug}/sessions/new"
    ends_first = client.post(
        url,
        data={
            "title": "Backwards",
            "day": day.isoformat(),
            "start": "10:00",
            "end": "09:00",
            "timezone": "Asia/Shanghai",
        },
    )
    page = ends_first.get_data(as_text=True)
    assert ends_first.status_code == 422
    assert "The end must be after the start." in page
    assert 'value="Backwards"' in page  # what was typed is kept
    bad_zone = client.post(
        url,
        data={
            "title": "Nowhere",
            "day": day.isoformat(),
            "start": "10:00",
            "end": "11:00",
            "timezone": "Mars/Olympus",
        },
    )
    assert bad_zone.status_code == 422
    assert "Choose a time zone from the list." in bad_zone.get_data(as_text=True)
    gap = client.post(
        url,
        data={
            "title": "Gap",
            "day": "2027-03-14",
            "start": "02:30",
            "end": "03:30",
            "timezone": "America/New_York",
        },
    )
    assert gap.status_code == 422
    beside_start = gap.get_data(as_text=True).split('id="start-error"', 1)[1][:200]
    assert "02:30 does not exist on that day in America/New_York" in beside_start
    assert db.session.scalar(select(db.func.count()).select_from(Session)) == 1


def test_a_session_past_midnight_takes_its_end_date_and_survives_an_edit(client, organiser):
    """An evening session ending after midnight in its zone: the end date is asked for, shown
    again on edit, and a save without touching the times keeps them."""
    programme = _create(client)
    day = (utcnow() + timedelta(days=10)).date()
    next_day = day + timedelta(days=1)
    _add_session(
        client,
        programme,
        day=day.isoformat(),
        start="22:30",
        end="00:30",
        end_day=next_day.isoformat(),
    )
    session = db.session.scalar(select(Session))
    assert session.ends_at - session.starts_at == timedelta(hours=2)
    url = f"/organiser/programmes/{programme.slug}/sessions/{session.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert f'value="{next_day.isoformat()}"' in form
    saved = client.post(
        url,
        data={
            "title": "Late session",
            "day": day.isoformat(),
            "start": "22:30",
            "end": "00:30",
            "end_day": next_day.isoformat(),
            "timezone": programme.timezone,
            "version": str(session.version),
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.refresh(session)
    assert session.title == "Late session"
    assert session.ends_at - session.starts_at == timedelta(hours=2)
    without_end_day = _post_session(
        client, programme, day=day.isoformat(), start="22:30", end="00:30"
    )
    assert without_end_day.status_code == 422
    assert "A session past midnight needs its end date." in without_end_day.get_data(as_text=True)
    too_long = _post_session(
        client, programme, day=day.isoformat(), end_day=(day + timedelta(days=8)).isoformat()
    )
    assert too_long.status_code == 422
    assert "at most 7 days" in too_long.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Session)) == 1


def test_every_markdown_field_is_neutralised_on_save_and_render(client, organiser):
    programme = _create(client, description=ATTACK)
    _add_session(client, programme, description=ATTACK)
    client.post(
        f"/organiser/programmes/{programme.slug}/modules",
        data={"title": "Climate", "summary": "S", "body": ATTACK},
    )
    db.session.expire_all()
    module = db.session.scalar(select(Module))
    session = db.session.scalar(select(Session))
    programme = db.session.get(Programme, programme.id)
    for stored in (programme.description, session.description, module.body):
        assert "<script" not in stored.lower() and "onerror" not in stored
        assert "**bold**" in stored  # Markdown itself is kept
    client.post(f"/organiser/programmes/{programme.slug}/publish")
    # Render also cleans, even text written before save-time cleaning existed.
    db.session.execute(db.update(Module).values(body=ATTACK).where(Module.id == module.id))
    db.session.commit()
    for url in (f"/programmes/{programme.slug}", f"/programmes/{programme.slug}/modules/1"):
        html = client.get(url).get_data(as_text=True)
        assert "<strong>bold</strong>" in html
        assert_neutralised(html.split("<main", 1)[1].split("</main>", 1)[0])


def _upload(client, programme, content: bytes, name: str, **fields):
    data = {
        "title": "Guidebook",
        "kind": "guidebook",
        "language": "English",
        "visibility": "registered",
        "file": (io.BytesIO(content), name),
    }
    data.update(fields)
    return client.post(
        f"/organiser/programmes/{programme.slug}/materials",
        data=data,
        content_type="multipart/form-data",
    )


def test_a_pdf_is_checked_by_content_stored_safely_and_served_as_attachment(app, client, organiser):
    programme = _create(client)
    fake = _upload(client, programme, b"MZ\x90\x00 not a pdf", "guide.pdf")
    assert fake.status_code == 422
    assert "not a PDF" in fake.get_data(as_text=True)
    traversal = _upload(client, programme, PDF, "../../etc/guide.pdf")
    assert traversal.status_code == 422
    assert "must not contain folders" in traversal.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Material)) == 0
    assert _upload(client, programme, PDF, "Guidebook.pdf").status_code == 302
    material = db.session.scalar(select(Material))
    assert material.file_name.endswith(".pdf") and "Guidebook" not in material.file_name
    assert material.content_type == "application/pdf" and material.size_bytes == len(PDF)
    stored = app.config["UPLOAD_FOLDER"] + "/" + material.file_name
    assert Path(stored).read_bytes() == PDF
    assert client.get(f"/materials/{material.id}/download").data == PDF  # the team previews
    f.sign_in(client, f.make_organiser())
    assert client.get(f"/materials/{material.id}/download").status_code == 404  # a draft
    f.sign_in(client, organiser)
    _add_session(client, programme)
    client.post(f"/organiser/programmes/{programme.slug}/publish")
    download = client.get(f"/materials/{material.id}/download")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    # A stored name that would leave the folder is never served.
    material.file_name = "../secret.pdf"
    db.session.commit()
    assert client.get(f"/materials/{material.id}/download").status_code == 404
    assert client.get("/materials/..%2F..%2Fsecret/download").status_code == 404


def test_uploads_over_25_mb_get_a_clear_message(client, organiser):
    programme = _create(client)
    just_over = _upload(client, programme, b"%PDF-1.4" + b"0" * (25 * 1024 * 1024), "big.pdf")
    assert just_over.status_code == 422
    assert "larger than 25 MB" in just_over.get_data(as_text=True)
    huge = _upload(client, programme, b"%PDF-1.4" + b"0" * (26 * 1024 * 1024), "huge.pdf")
    assert huge.status_code == 413
    assert "up to 25 MB" in huge.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Material)) == 0


def test_link_material_and_module_reordering_without_javascript(client, organiser):
    programme = _create(client)
    base = f"/organiser/programmes/{programme.slug}"
    for title in ("Climate", "Economy", "Society"):
        client.post(f"{base}/modules", data={"title": title})
    climate = db.session.scalar(select(Module).where(Module.title == "Climate"))
    client.post(f"{base}/modules/{climate.id}/move/down")
    db.session.expire_all()
    order = db.session.scalars(select(Module.title).order_by(Module.position)).all()
    assert order == ["Economy", "Climate", "Society"]
    economy = db.session.scalar(select(Module).where(Module.title == "Economy"))
    client.post(f"{base}/modules/{economy.id}/delete", data={"confirmed": "yes"})
    db.session.expire_all()
    remaining = db.session.execute(select(Module.position, Module.title).order_by(Module.position))
    assert remaining.all() == [(1, "Climate"), (2, "Society")]
    neither = client.post(
        f"{base}/materials",
        data={"title": "R", "kind": "reading", "language": "English", "visibility": "public"},
    )
    assert neither.status_code == 422 and "one of the two" in neither.get_data(as_text=True)
    link = client.post(
        f"{base}/materials",
        data={
            "title": "Recording",
            "kind": "recording",
            "language": "English",
            "visibility": "public",
            "url": "https://video.example.org/1",
            "module": str(climate.id),
        },
    )
    assert link.status_code == 302
    assert db.session.scalar(select(Material.module_id)) == climate.id
    assert "moved module" in _audit(programme.id)


def test_a_second_editor_is_told_instead_of_overwriting(client, organiser):
    programme = _create(client)
    url = f"/organiser/programmes/{programme.slug}/edit"
    first = client.post(url, data=_programme_form(title="First editor", version="1"))
    assert first.status_code == 302
    second = client.post(url, data=_programme_form(title="Second editor", version="1"))
    assert second.status_code == 422
    assert "Someone else saved this programme" in second.get_data(as_text=True)
    assert 'value="Second editor"' in second.get_data(as_text=True)
    db.session.refresh(programme)
    assert programme.title == "First editor" and programme.version == 2
    assert _audit(programme.id) == ["created", "edited details"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "edited details"))
    assert entry.detail == "title: “Creating a Net Zero Community” → “First editor”"


def test_speakers_and_organisations_are_searched_before_they_are_created(client, organiser):
    f.make_organisation("C40 Cities Climate Leadership Group", short_name="C40")
    near = client.post("/organiser/organisations", data={"name": "C40 Cities"})
    assert near.status_code == 422
    assert "C40 Cities Climate Leadership Group" in near.get_data(as_text=True)
    same = client.post(
        "/organiser/organisations",
        data={"name": "c40 cities climate leadership group", "confirmed_new": "y"},
    )
    assert same.status_code == 422
    assert db.session.scalar(select(db.func.count()).select_from(Organisation)) == 1
    assert client.post("/organiser/people", data={"full_name": "Ada Colau"}).status_code == 302
    twin = client.post("/organiser/people", data={"full_name": "Ada Colau Ballano"})
    assert twin.status_code == 422 and "Already here: Ada Colau" in twin.get_data(as_text=True)
    found = client.get("/organiser/people?q=colau").get_data(as_text=True)
    assert "Ada Colau" in found
    assert db.session.scalar(select(db.func.count()).select_from(Person)) == 1


def test_new_edition_shifts_sessions_keeps_modules_and_drops_registrations(app, client, organiser):
    programme = _create(client, kind="programme", title="Resilient City", edition="2nd edition")
    _add_session(client, programme, title="Opening")
    base = f"/organiser/programmes/{programme.slug}"
    client.post(f"{base}/modules", data={"title": "Climate"})
    assert _upload(client, programme, PDF, "guide.pdf").status_code == 302
    client.post(f"{base}/publish")
    f.make_registration(programme)
    original = db.session.scalar(select(Session).where(Session.programme_id == programme.id))
    response = client.post(
        f"{base}/new-edition",
        data={"title": "Resilient City", "edition": "3rd edition", "weeks": "52"},
    )
    assert response.status_code == 302
    copy = db.session.scalar(select(Programme).where(Programme.edition == "3rd edition"))
    assert copy.status == "draft" and copy.previous_edition_id == programme.id
    assert copy.sessions[0].starts_at == original.starts_at + timedelta(weeks=52)
    assert [m.title for m in copy.modules] == ["Climate"]
    twin = copy.materials[0]
    assert twin.file_name != programme.materials[0].file_name
    assert (Path(app.config["UPLOAD_FOLDER"]) / twin.file_name).read_bytes() == PDF
    from learnhub.registration.models import Registration

    assert not db.session.scalars(
        select(Registration).where(Registration.programme_id == copy.id)
    ).all()
    assert "duplicated as new edition" in _audit(programme.id)
    assert _audit(copy.id) == ["created as new edition"]


def test_join_link_only_for_confirmed_registrants_from_30_minutes_before(client):
    programme = f.make_programme(first_session_in=timedelta(minutes=20))
    session = programme.sessions[0]
    confirmed = f.make_registration(programme).user
    waiting = f.make_registration(programme, status="waitlisted").user
    for user, shown in ((confirmed, True), (waiting, False)):
        f.sign_in(client, user)
        page = client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
        assert (session.join_url in page) is shown
    later = f.make_programme(first_session_in=timedelta(minutes=45))
    f.sign_in(client, f.make_registration(later).user)
    assert later.sessions[0].join_url not in client.get(f"/programmes/{later.slug}").get_data(
        as_text=True
    )


def test_an_administrator_invites_an_organiser_who_sets_a_password(client):
    admin = f.make_user(role="admin")
    f.sign_in(client, admin)
    response = client.post(
        "/admin/organisers/", data={"full_name": "Li Wei", "email": "Li.Wei@Chengdu.gov.cn"}
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "li.wei@chengdu.gov.cn"))
    assert user.role == "organiser" and user.password_hash is None
    message = f.written(
        db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "organiser_invitation"))
    )
    assert message.to_address == "li.wei@chengdu.gov.cn"
    link = next(w for w in message.text_body.split() if "/login/link/" in w)
    again = client.post("/admin/organisers/", data={"full_name": "Li", "email": user.email})
    assert again.status_code == 422 and "already an organiser" in again.get_data(as_text=True)
    client.post("/logout")
    path = link.split("://", 1)[1].split("/", 1)[1]
    signed_in = client.post("/" + path)
    assert signed_in.status_code == 302 and "/me/profile" in signed_in.headers["Location"]
    set_password = client.post(
        "/me/password", data={"new_password": "a-long-password", "confirm": "a-long-password"}
    )
    assert set_password.status_code in (200, 302)
    db.session.refresh(user)
    assert user.password_hash is not None


def test_the_first_administrator_is_made_from_the_command_line(app, runner):
    result = runner.invoke(
        args=["accounts", "create-admin", "--email", "Admin@City.gov", "--name", "Site Admin"],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "admin@city.gov"))
    assert user.role == "admin" and user.password_hash
    short = runner.invoke(
        args=["accounts", "create-admin", "--email", "x@city.gov", "--name", "X"],
        input="short\nshort\n",
    )
    assert short.exit_code != 0 and "at least 10" in short.output


def test_create_admin_refuses_an_address_or_name_too_long_with_a_message(app, runner):
    """The account's columns hold 320 and 200 characters: longer ones were refused by
    PostgreSQL with a DataError traceback (SQLite kept them)."""
    for email, name, message in [
        ("a" * 320 + "@city.gov", "Site Admin", "at most 320 characters"),
        ("admin@city.gov", "N" * 201, "at most 200 characters"),
    ]:
        result = runner.invoke(
            args=["accounts", "create-admin", "--email", email, "--name", name],
            input="a-long-password\na-long-password\n",
        )
        assert result.exit_code == 1 and message in result.output, result.output
    assert db.session.scalar(select(User)) is None


def test_team_changes_are_in_the_audit_log(client, organiser):
    programme = _create(client)
    f.make_organiser(email="helper@example.org")
    client.post(
        f"/organiser/programmes/{programme.slug}/team",
        data={"email": "helper@example.org", "manage_attendance": "y"},
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "set team rights"))
    assert entry.detail == "helper@example.org: not in the team → attendance"
    assert entry.user_id == organiser.id


def test_a_session_moved_elsewhere_is_not_overwritten_by_an_older_edit_form(client, organiser):
    programme = _create(client)
    _add_session(client, programme)
    session = db.session.scalar(select(Session))
    seen = session.version
    client.post(f"/organiser/programmes/{programme.slug}/publish")
    from learnhub.catalogue.services import reschedule_session

    reschedule_session(
        programme.id,
        session.id,
        session.starts_at + timedelta(days=1),
        session.ends_at + timedelta(days=1),
    )
    day = (utcnow() + timedelta(days=12)).date().isoformat()
    stale = client.post(
        f"/organiser/programmes/{programme.slug}/sessions/{session.id}/edit",
        data={
            "title": "Old form",
            "day": day,
            "start": "10:00",
            "end": "11:00",
            "timezone": programme.timezone,
            "version": str(seen),
        },
    )
    assert stale.status_code == 422
    assert "Someone else saved this session" in stale.get_data(as_text=True)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_cover_image_and_speaker_photo_are_checked_images(client, organiser):
    fake = client.post(
        "/organiser/programmes/new",
        data={**_programme_form(), "cover": (io.BytesIO(b"<svg onload=alert(1)>"), "c.png")},
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422
    assert "Upload a PNG, JPEG or WebP image." in fake.get_data(as_text=True)
    response = client.post(
        "/organiser/programmes/new",
        data={**_programme_form(), "cover": (io.BytesIO(PNG), "cover.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    programme = db.session.scalar(select(Programme))
    assert programme.cover_image.endswith(".png")
    assert client.get(f"/programmes/{programme.slug}/cover").data == PNG  # the team
    client.post("/logout")
    assert client.get(f"/programmes/{programme.slug}/cover").status_code == 404  # a draft
    f.sign_in(client, organiser)
    added = client.post(
        "/organiser/people",
        data={"full_name": "Li Wei", "photo": (io.BytesIO(PNG), "li.png")},
        content_type="multipart/form-data",
    )
    assert added.status_code == 302
    person = db.session.scalar(select(Person))
    photo = client.get(f"/people/{person.id}/photo")
    assert photo.data == PNG and photo.headers["Content-Type"] == "image/png"


def test_a_shared_speaker_is_corrected_once_for_every_programme(client, organiser):
    programme = f.make_programme()
    person = f.make_speaker(programme.sessions[0], "Li Wei", "Deputy Mayor")
    response = client.post(
        f"/organiser/people/{person.id}/edit",
        data={"full_name": "Li Wei", "position": "Mayor of Chengdu", "honorific": "Mr."},
    )
    assert response.status_code == 302
    page = client.get(f"/programmes/{programme.slug}").get_data(as_text=True)
    assert "Mr. Li Wei</strong>, Mayor of Chengdu" in page
    empty = client.post(f"/organiser/people/{person.id}/edit", data={"full_name": ""})
    assert empty.status_code == 422


def test_a_speakers_email_language_is_chosen_in_the_person_form(client, organiser):
    form = client.get("/organiser/people").get_data(as_text=True)
    assert 'name="preferred_language"' in form and ">日本語</option>" in form
    added = client.post(
        "/organiser/people",
        data={
            "full_name": "Hanako Sato",
            "email": "hanako@city.example",
            "preferred_language": "日本語",
        },
    )
    assert added.status_code == 302
    person = db.session.scalar(select(Person))
    assert person.preferred_language == "日本語"
    edit = client.get(f"/organiser/people/{person.id}/edit").get_data(as_text=True)
    assert '<option selected value="日本語">' in edit or 'value="日本語" selected' in edit
    unknown = client.post(
        f"/organiser/people/{person.id}/edit",
        data={"full_name": "Hanako Sato", "preferred_language": "Klingon"},
    )
    assert unknown.status_code == 422
    assert "Choose a language from the list." in unknown.get_data(as_text=True)
    db.session.refresh(person)
    assert person.preferred_language == "日本語"
    cleared = client.post(
        f"/organiser/people/{person.id}/edit",
        data={"full_name": "Hanako Sato", "preferred_language": ""},
    )
    assert cleared.status_code == 302
    db.session.refresh(person)
    assert person.preferred_language is None


def test_the_person_service_refuses_a_language_it_does_not_offer(app):
    person = f.make_speaker(f.make_programme().sessions[0], "Li Wei", "Deputy Mayor")
    with pytest.raises(AuthoringError) as refused:
        people.update_person(
            person.id, people.PersonInput(full_name="Li Wei", preferred_language="Klingon")
        )
    assert refused.value.field == "preferred_language"


def test_a_speakers_time_zone_is_kept_and_changed_in_the_person_form(client, organiser):
    programme = f.make_programme()
    person = f.make_speaker(programme.sessions[0], "Kim Min-su", "Director")
    person.timezone = "Asia/Seoul"
    f.save(person)
    edit = client.get(f"/organiser/people/{person.id}/edit").get_data(as_text=True)
    assert 'name="timezone"' in edit
    kept = client.post(
        f"/organiser/people/{person.id}/edit",
        data={"full_name": "Kim Min-su", "timezone": "Asia/Seoul"},
    )
    assert kept.status_code == 302
    db.session.refresh(person)
    assert person.timezone == "Asia/Seoul"
    wrong = client.post(
        f"/organiser/people/{person.id}/edit",
        data={"full_name": "Kim Min-su", "timezone": "Mars/Olympus"},
    )
    assert wrong.status_code == 422
    assert "Choose a time zone from the list." in wrong.get_data(as_text=True)
    db.session.refresh(person)
    assert person.timezone == "Asia/Seoul"
    moved = client.post(
        f"/organiser/people/{person.id}/edit",
        data={"full_name": "Kim Min-su", "timezone": "Europe/Madrid"},
    )
    assert moved.status_code == 302
    db.session.refresh(person)
    assert person.timezone == "Europe/Madrid"


@pytest.mark.parametrize("odd", ["²", "99999999999999999999"])
def test_a_chosen_id_that_is_no_row_id_is_a_form_error_not_a_500(client, organiser, odd):
    """Selects of topics, organisations, modules and people take row ids: "²" passes
    str.isdigit() but not int(), and SQLite cannot bind a number past the largest row id (both
    answered 500). Either is now the field's error, and nothing is saved."""
    for field in ("topic", "hosts", "alliances"):
        response = client.post("/organiser/programmes/new", data=_programme_form(**{field: odd}))
        assert response.status_code == 422, field
        assert "invalid choice" in response.text.lower()
    assert db.session.scalar(select(Programme.id)) is None
    programme = _create(client)
    for field in ("module", "speakers", "moderators"):
        assert _post_session(client, programme, **{field: odd}).status_code == 422, field
    materials = f"/organiser/programmes/{programme.slug}/materials"
    response = client.post(
        materials,
        data={
            "title": "Guide",
            "kind": "reading",
            "url": "https://x.org/g",
            "language": "English",
            "visibility": "public",
            "module": odd,
        },
    )
    assert response.status_code == 422
    person = {"full_name": "Li Wei", "organisation": odd, "confirmed_new": "y"}
    assert client.post("/organiser/people", data=person).status_code == 422
    assert db.session.scalar(select(Session.id)) is None
    assert db.session.scalar(select(Material.id)) is None
    assert db.session.scalar(select(Person.id)) is None


def test_a_topic_removed_while_the_form_was_open_is_a_form_error_not_a_500(client, organiser):
    """The topic select takes any id: one no topic has (an administrator removed it, or a
    crafted post) failed the foreign key on insert (IntegrityError, a 500)."""
    topic = f.make_topic("Resilience")
    gone = topic.id + 1000
    response = client.post("/organiser/programmes/new", data=_programme_form(topic=str(gone)))
    assert response.status_code == 422
    assert "That topic no longer exists" in response.text
    assert db.session.scalar(select(Programme.id)) is None
    programme = _create(client, topic=str(topic.id))
    response = client.post(
        f"/organiser/programmes/{programme.slug}/edit", data=_programme_form(topic=str(gone))
    )
    assert response.status_code == 422
    assert "That topic no longer exists" in response.text
    db.session.refresh(programme)
    assert programme.topic_id == topic.id


def test_a_session_ending_in_year_9999_is_a_form_error_not_a_500(client, organiser):
    """Only the start date was held to 2000-2100: an end on 9999-12-31 at 23:00 in a zone
    behind UTC overflowed on its way to UTC (OverflowError), a 500."""
    programme = _create(client, timezone="America/Los_Angeles")
    response = _post_session(client, programme, end="23:00", end_day="9999-12-31")
    assert response.status_code == 422
    assert "Enter a date between the years 2000 and 2100." in response.text
    assert db.session.scalar(select(Session.id)) is None


def test_a_file_name_longer_than_can_be_kept_is_refused_with_a_message(client, organiser):
    """The name is kept to download the file under, in a column of 300 characters:
    PostgreSQL refused a longer one (StringDataRightTruncation), a 500."""
    programme = _create(client)
    response = _upload(client, programme, PDF, "g" * 297 + ".pdf")
    assert response.status_code == 422
    assert "The file name is longer than 300 characters." in response.text
    assert db.session.scalar(select(Material.id)) is None
    assert _upload(client, programme, PDF, "g" * 296 + ".pdf").status_code == 302
