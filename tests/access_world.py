"""A world with a row for every URL argument of the app's routes and a user of every role:
the programme's participant and organiser, another programme's, an administrator. Built in an
app context (the access matrix's and the every-page browser test's)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from learnhub.accounts.models import ProgrammeTeamMember
from learnhub.extensions import db
from learnhub.learning.models import Certificate, DiscussionPost
from learnhub.notifications.delivery import drain
from learnhub.notifications.models import Announcement, DevMailboxMessage
from learnhub.registration import services as registration
from learnhub.registration.links import cancel_token
from learnhub.types import utcnow
from tests import factories as f


def build_world(tmp_path: Path) -> tuple[dict, dict, str]:
    """Users of every role and a value for every URL argument of the app's routes."""
    app = current_app
    upload = tmp_path / "uploads"
    upload.mkdir(exist_ok=True)
    (upload / "guide.pdf").write_bytes(b"%PDF-1.4 guide")
    (upload / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n cover")
    app.config["UPLOAD_FOLDER"] = str(upload)
    programme = f.make_programme(capacity=10, cover_image="cover.png")
    speaker = f.make_speaker(programme.sessions[0], "Li Wei", "Mayor")
    speaker.photo = "cover.png"
    f.save(speaker)
    module = f.make_module(programme, 1)
    material = f.make_material(
        programme, file_name="guide.pdf", url=None, visibility="registered", kind="guidebook"
    )
    question = f.make_question(programme, "Your role")
    elsewhere = f.make_programme()
    participant = f.make_user(email="participant@example.org")
    with app.test_request_context():
        result = registration.register(
            registration.RegistrationInput(
                programme_id=programme.id,
                participant=registration.ParticipantDetails(
                    participant.full_name, participant.email, None, None, None, "UTC"
                ),
                consent=True,
                answers={question.id: "Planner"},
            )
        )
    drain()
    mine = db.session.get(type(programme.sessions[0]), programme.sessions[0].id)
    other_participant = f.make_user()
    f.make_registration(elsewhere, other_participant)
    users = {
        "participant": participant,
        "other_participant": other_participant,
        "other_organiser": f.make_organiser(elsewhere),
        "organiser": f.make_organiser(programme),
        "admin": f.make_user(role="admin"),
    }
    from learnhub.registration.models import Registration

    reg = db.session.get(Registration, result.registration_id)
    with app.test_request_context():
        token = cancel_token(reg)
    values = {
        "slug": programme.slug,
        "session_id": mine.id,
        "position": 1,
        "module_id": module.id,
        "person_id": speaker.id,
        "organisation_id": f.make_organisation().id,
        "topic_id": f.make_topic("Matrix topic").id,
        "material_id": material.id,
        "registration_id": reg.id,
        "question_id": question.id,
        "direction": "down",
        "message_id": db.session.scalar(select(DevMailboxMessage.id)),
        "index": 0,
        "member_id": db.session.scalar(
            select(ProgrammeTeamMember.id).where(
                ProgrammeTeamMember.user_id == users["organiser"].id
            )
        ),
        "filename": "style.css",
        "token": "made-up-token",
        "category": "reminders",
        "import_id": 999999,
        "post_id": f.save(
            DiscussionPost(module_id=module.id, author_id=participant.id, body="Hello")
        ).id,
        "certificate_id": f.save(
            Certificate(
                code="ABCD-EFGH-JKMN",
                registration_id=result.registration_id,
                programme_id=programme.id,
                holder_name=participant.full_name,
                programme_title=programme.title,
                source="organiser",
                issue_reason="test",
                revoked_at=utcnow(),
                revoke_reason="test",
            )
        ).id,
        "code": "made-up-code",
        "announcement_id": f.save(
            Announcement(
                programme_id=programme.id, subject="News", body="Body", audience="confirmed"
            )
        ).id,
    }
    return users, values, token
