"""The change log (issue 14): every organiser action on the programme, its registrations,
attendance, emails and certificates is one entry with who, what and old → new in words
(names, not ids); the log filters by kind and exports CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub.catalogue.models import AuditEntry
from learnhub.extensions import db
from learnhub.types import utcnow
from tests import factories as f
from tests.attendance.test_imports import SAMPLES, meeting, upload  # noqa: F401  (fixture)


@pytest.fixture
def team(client):
    programme = f.make_programme(title="Resilient City", sessions=2, timezone="Asia/Seoul")
    organiser = f.make_organiser(programme, full_name="Mina Park")
    f.sign_in(client, organiser)
    return programme, organiser, f"/organiser/programmes/{programme.slug}"


def _entries(programme) -> list[tuple[str, str, str | None]]:
    db.session.rollback()
    return [
        (e.action, e.detail, e.user.full_name if e.user else None)
        for e in db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.programme_id == programme.id)
            .order_by(AuditEntry.id)
        )
    ]


def _last(programme, action: str) -> str:
    found = [detail for done, detail, who in _entries(programme) if done == action]
    assert found, f"no “{action}” entry in {_entries(programme)}"
    assert all(who == "Mina Park" for done, _, who in _entries(programme) if done == action)
    return found[-1]


def test_a_session_edit_names_the_module_and_gives_old_and_new(client, team):
    programme, _, base = team
    module = f.make_module(programme, 1, "Climate resilience")
    session = programme.sessions[0]
    day = (utcnow() + timedelta(days=20)).date()
    response = client.post(
        f"{base}/sessions/{session.id}/edit",
        data={
            "title": "Opening",
            "day": day.isoformat(),
            "start": "10:00",
            "end": "11:30",
            "timezone": "Asia/Seoul",
            "module": str(module.id),
        },
    )
    assert response.status_code == 302, response.text
    detail = _last(programme, "edited session")
    assert "title: “Session 1” → “Opening”" in detail
    assert "module: none → “Climate resilience”" in detail
    assert "module id" not in detail
    assert f"{day.strftime('%-d %b %Y')}, 10:00 KST" in detail  # the new start, in words


def test_registration_settings_questions_and_decisions_are_logged(client, team):
    programme, _, base = team
    client.post(
        f"{base}/registration-settings",
        data={"capacity": "50", "approval_required": "y", "waitlist_enabled": "y"},
    )
    assert _last(programme, "changed registration settings").startswith("seats: none → 50;")
    assert "approval required: no → yes" in _last(programme, "changed registration settings")
    client.post(f"{base}/questions", data={"label": "Your city?", "kind": "short_text"})
    client.post(f"{base}/questions", data={"label": "Your role?", "kind": "short_text"})
    assert _last(programme, "added question") == "“Your role?” (short_text)"
    second = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "added question")
    ).all()
    assert len(second) == 2
    from learnhub.registration.models import RegistrationQuestion

    city = db.session.scalar(
        select(RegistrationQuestion).where(RegistrationQuestion.label == "Your city?")
    )
    client.post(f"{base}/questions/{city.id}/move/down")
    assert _last(programme, "moved question") == "“Your city?”: place 1 → 2"
    client.post(f"{base}/questions/{city.id}/delete", data={"confirmed": "yes"})
    assert "“Your city?” and its answers" == _last(programme, "removed question")
    ana = f.make_registration(programme, f.make_user(full_name="Ana Souza"), status="pending")
    budi = f.make_registration(programme, f.make_user(full_name="Budi Santoso"), status="pending")
    cho = f.make_registration(programme, f.make_user(full_name="Cho Min"), status="pending")
    client.post(f"{base}/registrants/decide", data={"action": "approve", "ids": [str(ana.id)]})
    client.post(f"{base}/registrants/decide", data={"action": "reject", "ids": [str(budi.id)]})
    client.post(f"{base}/registrants/{cho.id}/move", data={"status": "confirmed"})
    assert _last(programme, "approved registration") == "Ana Souza: awaiting approval → confirmed"
    assert _last(programme, "rejected registration") == "Budi Santoso: pending → rejected"
    assert _last(programme, "moved registration") == "Cho Min: pending → confirmed"


def test_marks_and_the_completion_rule_are_logged(client, team):
    programme, _, base = team
    session = programme.sessions[0]
    ana = f.early_registration(programme, f.make_user(full_name="Ana Souza"))
    client.post(
        f"{base}/sessions/{session.id}/attendance",
        data={f"r{ana.id}": "present", "action": "save"},
    )
    assert _last(programme, "marked attendance") == "Session 1: Ana Souza: not marked → present"
    client.post(
        f"{base}/sessions/{session.id}/attendance",
        data={"action": "bulk", "bulk_status": "late", "selected": [str(ana.id)]},
    )
    assert _last(programme, "marked attendance") == "Session 1: Ana Souza: present → late"
    client.post(f"{base}/attendance", data={"completion_percent": "80"})
    assert _last(programme, "changed completion rule") == "sessions attended: 75% → 80%"


def test_applying_a_meeting_report_is_logged(client, meeting):  # noqa: F811
    programme, session, organiser, _ = meeting
    f.sign_in(client, organiser)
    sample = "generic_attendance.csv"
    response = upload(client, programme, session, (SAMPLES / sample).read_bytes(), name=sample)
    client.post(response.headers["Location"], data={"action": "apply"})
    (entry,) = [e for e in _entries(programme) if e[0] == "applied meeting report"]
    assert entry[1] == "Session 3: “generic_attendance.csv” (generic), 6 marks changed"
    assert entry[2] == organiser.full_name


def test_emails_and_session_changes_are_logged(client, team):
    programme, _, base = team
    f.early_registration(programme, f.make_user(full_name="Ana Souza"))
    session = programme.sessions[1]
    client.post(f"{base}/reminders", data={"offsets": ["1440"], f"session-{session.id}": "on"})
    assert "reminders:" in _last(programme, "changed reminders")
    assert "Session 1: reminders on → off" in _last(programme, "changed reminders")
    created = client.post(
        f"{base}/announcements",
        data={"audience": "confirmed", "session_id": "0", "subject": "Slides", "body": "Hi"},
    )
    client.post(f"{created.headers['Location']}/send")
    assert _last(programme, "sent announcement") == "“Slides” to 1 people (confirmed)"
    client.post(
        f"{base}/sessions/{session.id}/cancel", data={"confirmed": "yes", "note": "Speaker ill"}
    )
    detail = _last(programme, "cancelled session")
    assert detail.startswith("Session 2 (") and "scheduled → cancelled" in detail
    assert "“Speaker ill”" in detail


def test_certificates_are_logged(client, team, app):
    programme, _, base = team
    ana = f.early_registration(programme, f.make_user(full_name="Ana Souza"))
    client.post(
        f"{base}/certificates/issue",
        data={"registration_id": str(ana.id), "reason": "Attended in Seoul"},
    )
    detail = _last(programme, "issued certificate by hand")
    assert detail.startswith("Ana Souza: none → ") and "“Attended in Seoul”" in detail
    from learnhub.learning.models import Certificate

    certificate = db.session.scalar(select(Certificate))
    client.post(
        f"{base}/certificates/{certificate.id}/revoke",
        data={"reason": "Issued in error", "confirmed": "yes"},
    )
    assert _last(programme, "revoked certificate") == (
        f"Ana Souza: {certificate.code} valid → revoked; reason “Issued in error”"
    )


def test_the_log_filters_by_kind_and_exports_csv(client, team):
    programme, _, base = team
    client.post(f"{base}/registration-settings", data={"capacity": "50"})
    client.post(f"{base}/attendance", data={"completion_percent": "80"})
    every = client.get(f"{base}/audit").text
    assert "changed registration settings" in every and "changed completion rule" in every
    attendance_only = client.get(f"{base}/audit?kind=attendance").text
    assert "changed completion rule" in attendance_only
    assert "changed registration settings" not in attendance_only
    assert client.get(f"{base}/audit?kind=nonsense").status_code == 200
    exported = client.get(f"{base}/audit.csv?kind=registrations")
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["When", "Who", "Kind", "What", "Details"]
    assert [row[3] for row in rows[1:]] == ["changed registration settings"]
    assert rows[1][1] == "Mina Park" and rows[1][4].startswith("seats: none → 50;")
    assert "Europe/Madrid" in rows[1][0]  # the reader's zone, written


def test_a_long_text_is_named_not_copied(client, team):
    programme, _, base = team
    module = f.make_module(programme, 1, "Climate")
    response = client.post(
        f"{base}/modules/{module.id}/edit", data={"title": "Climate", "body": "New body " * 50}
    )
    assert response.status_code == 302, response.text
    assert _last(programme, "edited module") == "Climate: body changed"


def test_every_action_recorded_has_a_kind():
    """An action written anywhere in the code is in one kind of the filter (none falls
    outside it by a typo)."""
    import re
    from pathlib import Path

    from learnhub.catalogue.audit import KIND_OF_ACTION

    source = Path(__file__).parents[2] / "platform" / "learnhub"
    call = re.compile(r"\b(?:record|log_change)\(\s*[\w.]+,\s*[\w.]+,\s*\"([^\"]+)\"", re.S)
    written = {action for path in source.rglob("*.py") for action in call.findall(path.read_text())}
    assert len(written) > 30
    assert written - set(KIND_OF_ACTION) == set()


def test_opening_and_closing_check_in_are_logged(client, team):
    programme, _, base = team
    session = programme.sessions[0]
    client.post(f"{base}/sessions/{session.id}/check-in", data={"grace_minutes": "10"})
    assert _last(programme, "opened check-in") == "Session 1: closed → open, 10 minutes' grace"
    client.post(f"{base}/sessions/{session.id}/check-in/close")
    assert _last(programme, "closed check-in") == "Session 1: open → closed"
