"""Certificates: the completion rule, the PDF, verification, issuing and revoking by hand."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from learnhub.attendance import services as attendance
from learnhub.catalogue.models import ProgrammeOrganisation
from learnhub.extensions import db
from learnhub.learning import services
from learnhub.learning.models import Certificate
from learnhub.learning.pdf import DEFAULT_FONTS, certificate_pdf
from learnhub.notifications.models import OutboxMessage
from tests import factories as f
from tests import services as test_services


def _attend(course, *sessions):
    for session in sessions:
        attendance.record_attendance(
            session.id, {course.registration.id: "present"}, course.organiser
        )


def _certificates() -> list[Certificate]:
    db.session.rollback()
    return list(db.session.scalars(select(Certificate).order_by(Certificate.id)))


def _issue_by_hand(client, course, reason: str = "Attended in person"):
    """The organiser issues the participant's certificate from the certificates page."""
    f.sign_in(client, course.organiser)
    return client.post(
        f"/organiser/programmes/{course.programme.slug}/certificates/issue",
        data={"registration_id": str(course.registration.id), "reason": reason},
    )


def _complete_modules(client, course):
    f.sign_in(client, course.participant)
    client.post(f"/programmes/{course.programme.slug}/modules/1/complete")
    client.get(f"/programmes/{course.programme.slug}/materials/{course.reading_a.id}/open")
    client.get(f"/programmes/{course.programme.slug}/materials/{course.reading_b.id}/open")


def test_the_rule_needs_attendance_and_the_required_modules(app, client, course):
    sessions = course.programme.sessions
    with app.test_request_context():
        _attend(course, sessions[0])  # 1 of 2 = 50%: attendance met, modules not yet
    assert _certificates() == []
    _complete_modules(client, course)
    (certificate,) = _certificates()
    assert certificate.source == "rule"
    assert certificate.holder_name == "João São Paulo"
    assert certificate.hosts == "United Cities and Local Governments Asia-Pacific"
    assert certificate.minutes == 90  # the one session attended, not the programme's 180
    (email,) = map(
        f.written,
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "certificate_issued")
        ).all(),
    )
    assert email.to_address == "joao@example.org"
    assert f"/certificates/{certificate.code}" in email.text_body
    db.session.commit()  # the email kept as the worker keeps it once written
    # attending again changes nothing: one certificate, one email
    with app.test_request_context():
        _attend(course, sessions[1])
    assert len(_certificates()) == 1


def test_modules_not_needed_for_the_certificate_are_not_waited_for(app, client, course):
    course.items.required_for_certificate = False
    course.manual.required_for_certificate = False
    f.save(course.items, course.manual)
    with app.test_request_context():
        _attend(course, course.programme.sessions[0])
    assert len(_certificates()) == 1


def test_attendance_below_the_rule_earns_nothing(app, client, course):
    course.programme.completion_percent = 100
    f.save(course.programme)
    _complete_modules(client, course)
    with app.test_request_context():
        _attend(course, course.programme.sessions[0])
    assert _certificates() == []


def test_excused_and_cancelled_sessions_do_not_count_against_the_rule(app, client, course):
    """Three sessions at 100%: the third is cancelled, the second excused, so attending the
    first is all the rule asks; someone marked present by the same bulk action but absent
    from another session earns nothing."""
    first, second = course.programme.sessions
    f.make_session(course.programme, starts_at=second.starts_at, status="cancelled")
    other = f.early_registration(course.programme, f.make_user(full_name="Other Person"))
    f.make_attendance(second, course.registration, "excused")
    f.make_attendance(second, other, "absent")
    course.items.required_for_certificate = False
    course.manual.required_for_certificate = False
    course.programme.completion_percent = 100
    f.save(course.items, course.manual, course.programme)
    with app.test_request_context():
        attendance.mark_in_bulk(
            first.id, [course.registration.id, other.id], "present", course.organiser
        )
    (certificate,) = _certificates()
    assert certificate.registration_id == course.registration.id
    assert certificate.minutes == 90  # the session attended; the cancelled one never counts


def test_the_pdf_names_the_participant_and_the_programme(app, client, course):
    with app.test_request_context():
        _attend(course, course.programme.sessions[0])
    _complete_modules(client, course)
    response = client.get(f"/programmes/{course.programme.slug}/certificate.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "João São Paulo" in text
    assert "On-line training program on Resilient City (2nd edition)" in text
    assert _certificates()[0].code in text
    assert "1.5 hours of live sessions attended" in text
    # someone else cannot download it
    f.sign_in(client, f.make_user())
    assert client.get(f"/programmes/{course.programme.slug}/certificate.pdf").status_code == 404


def test_names_outside_the_font_degrade_to_question_marks_not_errors():
    certificate = Certificate(
        code="ABCD-EFGH-JKMN",
        holder_name="김민수 (Łódź)",
        programme_title="Resilient City",
        hosts="",
        minutes=90,
        issued_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    with_font = PdfReader(io.BytesIO(certificate_pdf(certificate, "https://x/c"))).pages[0]
    assert "Resilient City" in with_font.extract_text()
    without = PdfReader(io.BytesIO(certificate_pdf(certificate, "https://x/c", fonts=()))).pages[0]
    assert "??? (?ód?)" in without.extract_text()
    assert "the verification page shows the name in full" in without.extract_text()


def test_chinese_japanese_and_korean_names_are_printed_with_a_cjk_font():
    """Participants from Chengdu, Seoul or Osaka get their own name on the certificate when the
    machine has a CJK font (.ci/run installs fonts-wqy-microhei; README says so for servers)."""
    cjk = [p for p in DEFAULT_FONTS if Path(p).is_file() and p.endswith((".ttc", "Gothic.ttf"))]
    if not cjk:
        test_services.skip_or_fail("no CJK font is installed (apt-get install fonts-wqy-microhei)")
    certificate = Certificate(
        code="ABCD-EFGH-JKMN",
        holder_name="김민수 王小明 さくら (São Paulo)",
        programme_title="韧性城市 Resilient City",
        hosts="",
        minutes=90,
        issued_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    text = PdfReader(io.BytesIO(certificate_pdf(certificate, "https://x/c"))).pages[0]
    printed = text.extract_text()
    assert "김민수 王小明 さくら (São Paulo)" in printed
    assert "韧性城市 Resilient City" in printed
    assert "?" not in printed.replace("https://x/c", "")


def test_verification_confirms_a_code_and_rejects_a_made_up_one(app, client, course):
    with app.test_request_context():
        certificate = services.issue_by_hand(
            course.programme.id, course.registration.id, "Attended in person"
        )
    page = client.get(f"/certificates/{certificate.code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Valid." in html and "João São Paulo" in html
    assert (
        client.get(f"/certificates/{certificate.code.lower().replace('-', '')}").status_code == 200
    )
    made_up = client.get("/certificates/ZZZZ-ZZZZ-ZZZZ")
    assert made_up.status_code == 404
    assert "No certificate has the code" in made_up.get_data(as_text=True)


def test_a_code_typed_into_the_check_page_opens_its_check(app, client, course):
    with app.test_request_context():
        certificate = services.issue_by_hand(
            course.programme.id, course.registration.id, "Attended in person"
        )
    form = client.get("/certificates")
    assert form.status_code == 200
    assert 'name="code"' in form.get_data(as_text=True)
    typed = client.get("/certificates", query_string={"code": f"  {certificate.code}  "})
    assert typed.status_code == 302
    assert typed.headers["Location"].endswith(f"/certificates/{certificate.code}")
    empty = client.get("/certificates", query_string={"code": ""})
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    assert "Type the code printed on the certificate" in html
    assert "<title>Error:" in html
    # The check page offers the field again, filled with the code it checked.
    checked = client.get("/certificates/ZZZZ-ZZZZ-ZZZZ").get_data(as_text=True)
    assert 'value="ZZZZ-ZZZZ-ZZZZ"' in checked


def test_a_revoked_certificate_shows_as_revoked(app, client, course):
    with app.test_request_context():
        certificate = services.issue_by_hand(
            course.programme.id, course.registration.id, "Attended in person"
        )
    f.sign_in(client, course.organiser)
    base = f"/organiser/programmes/{course.programme.slug}/certificates"
    no_reason = client.post(f"{base}/{certificate.id}/revoke", data={"reason": ""})
    assert no_reason.status_code == 422
    assert (
        client.post(
            f"{base}/{certificate.id}/revoke",
            data={"reason": "Attendance was recorded in error", "confirmed": "yes"},
        ).status_code
        == 302
    )
    html = client.get(f"/certificates/{certificate.code}").get_data(as_text=True)
    assert "Revoked." in html and "Attendance was recorded in error" not in html  # private
    assert "Valid." not in html
    f.sign_in(client, course.participant)
    assert client.get(f"/programmes/{course.programme.slug}/certificate.pdf").status_code == 404
    # the rule never re-issues a revoked certificate...
    _complete_modules(client, course)
    with app.test_request_context():
        _attend(course, course.programme.sessions[0])
    assert len(_certificates()) == 1
    # ...but an organiser can, by hand: a new code, the old one stays revoked
    f.sign_in(client, course.organiser)
    response = client.post(
        f"{base}/issue",
        data={"registration_id": str(course.registration.id), "reason": "Corrected"},
    )
    assert response.status_code == 302
    old, new = _certificates()
    assert old.revoked_at is not None and new.revoked_at is None and new.code != old.code
    assert new.source == "organiser" and new.issue_reason == "Corrected"
    assert "Revoked." in client.get(f"/certificates/{old.code}").get_data(as_text=True)


def test_organisers_see_who_meets_the_rule(app, client, course):
    f.sign_in(client, course.organiser)
    html = client.get(f"/organiser/programmes/{course.programme.slug}/certificates")
    assert html.status_code == 200
    assert "João São Paulo" in html.get_data(as_text=True)
    assert "Not yet" in html.get_data(as_text=True)
    assert _issue_by_hand(client, course, reason="").status_code == 422
    assert _certificates() == []


def test_organiser_settings_choose_completion_mode_and_required_items(client, course):
    f.sign_in(client, course.organiser)
    url = f"/organiser/programmes/{course.programme.slug}/learning"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        data={
            f"mode-{course.manual.id}": "items",
            f"cert-{course.manual.id}": "y",
            f"mode-{course.items.id}": "manual",
            f"req-{course.guidebook.id}": "y",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    db.session.refresh(course.manual)
    db.session.refresh(course.items)
    db.session.refresh(course.guidebook)
    db.session.refresh(course.reading_a)
    assert (course.manual.completion_mode, course.manual.required_for_certificate) == (
        "items",
        True,
    )
    assert (course.items.completion_mode, course.items.required_for_certificate) == (
        "manual",
        False,
    )
    assert course.guidebook.required and not course.reading_a.required
    bad = client.post(url, data={f"mode-{course.manual.id}": "whenever"})
    assert bad.status_code == 422


def test_a_300_character_title_still_fits_the_certificate_emails_subject(client, course):
    """The subject "Your certificate: <title>" was longer than the outbox's 300-character subject:
    PostgreSQL refused the row, so issuing (or the attendance that earned it) answered 500."""
    course.programme.title = ("Resilient city " * 20)[:300]
    f.save(course.programme)
    assert _issue_by_hand(client, course).status_code == 302
    (certificate,) = _certificates()
    assert certificate.programme_title == course.programme.title
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "certificate_issued")
    )
    assert len(message.subject) <= 300 and message.subject.endswith("…")


def test_hosts_longer_than_a_certificate_holds_are_cut_not_a_500(client, course):
    """A programme may have any number of hosts, each named in up to 300 characters; joined,
    they passed the certificate's 1,000, which PostgreSQL refused (issuing answered 500, as
    would the attendance that earns one)."""
    hosts = [f.make_organisation(f"City network {n} " + "of cities " * 28) for n in range(4)]
    for n, host in enumerate(hosts, start=1):
        course.programme.organisation_links.append(
            ProgrammeOrganisation(organisation=host, role="host", position=n)
        )
    f.save(course.programme)
    assert _issue_by_hand(client, course).status_code == 302
    (certificate,) = _certificates()
    assert certificate.hosts.startswith("United Cities and Local Governments Asia-Pacific, ")
    assert len(certificate.hosts) <= 1000 and certificate.hosts.endswith("…")
    f.sign_in(client, course.participant)
    assert client.get(f"/programmes/{course.programme.slug}/certificate.pdf").status_code == 200
