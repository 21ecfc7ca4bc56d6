"""Emails in the recipient's language and zone, the session's own zone beside it (issue 4).

Every kind of email is written for a recipient who reads Spanish, Japanese or Arabic: subject,
plain text and HTML come out translated, with the date and time written the locale's way in
both zones. Missing translations fall back to English, and the catalogs are checked whole."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask_babel import get_locale, gettext
from sqlalchemy import select

from learnhub import i18n, timefmt
from learnhub.accounts import services as accounts
from learnhub.extensions import db
from learnhub.learning import services as learning
from learnhub.learning.models import DigestSubscription, DiscussionPost
from learnhub.notifications import announcements
from learnhub.notifications.models import OutboxMessage
from learnhub.notifications.reminders import plan_due_reminders
from learnhub.notifications.services import (
    REGISTRATION_SUBJECTS,
    queue_recording_follow_up,
    queue_registration_email,
    queue_session_change,
    render_sign_in_link,
)
from learnhub.organiser import services as organiser_services
from tests import factories as f

PROJECT = Path(__file__).resolve().parents[2]
TITLE = "Resilient City"
# Mon 1 Nov 2027, 09:00-10:30 in Madrid (CET).
STARTS = datetime(2027, 11, 1, 8, 0, tzinfo=UTC)
ENDS = STARTS + timedelta(minutes=90)

# Per language: the recipient's zone, the greeting and a localised word of the session's date.
READERS = {
    "Español": ("America/Mexico_City", "Hola, ", "nov 2027"),
    "日本語": ("Asia/Tokyo", " 様", "2027年11月1日"),
    "العربية": ("Asia/Riyadh", "مرحبًا ", "نوفمبر"),
}
# The subject each kind of email starts with, and a sentence of its text, per language.
EXPECTED = {
    "confirmed": {
        "Español": ("Inscripción confirmada: ", "Estás inscrito/a en Resilient City."),
        "日本語": ("登録完了：", "Resilient City への登録が完了しました。"),
        "العربية": ("تم تسجيلك: ", "أنت مسجَّل في Resilient City."),
    },
    "approved": {
        "Español": ("Tu plaza está confirmada: ", "La organización ha aprobado tu inscripción."),
        "日本語": ("参加が確定しました：", "主催者があなたの登録を承認しました。"),
        "العربية": ("تم تأكيد مقعدك: ", "وافق المنظمون على تسجيلك."),
    },
    "promoted": {
        "Español": ("Tienes una plaza: ", "se ha liberado una plaza y es tuya"),
        "日本語": ("席が確保されました：", "席に空きが出たため、あなたの席が確保されました。"),
        "العربية": ("حصلت على مقعد: ", "خبر سار: توفّر مقعد وأصبح لك."),
    },
    "pending": {
        "Español": ("Inscripción recibida, pendiente de aprobación: ", "Hemos recibido tu"),
        "日本語": ("登録を受け付けました（承認待ち）：", "登録はすべて主催者が承認します。"),
        "العربية": ("تم استلام التسجيل، بانتظار الموافقة: ", "يوافق المنظمون على كل تسجيل"),
    },
    "waitlisted": {
        "Español": (
            "Estás en la lista de espera: ",
            "tienes el número 3.",
        ),
        "日本語": ("キャンセル待ちに登録されました：", "あなたは 3 番目です。"),
        "العربية": ("أنت على قائمة الانتظار: ", "أنت على قائمة الانتظار: ترتيبك 3."),
    },
    "rejected": {
        "Español": ("Tu inscripción no ha sido aceptada: ", "no ha podido aceptar tu inscripción"),
        "日本語": ("登録は承認されませんでした：", "あなたの登録をお受けできませんでした。"),
        "العربية": ("لم يُقبل تسجيلك: ", "لم يتمكن منظمو Resilient City من قبول تسجيلك."),
    },
    "cancelled": {
        "Español": ("Tu inscripción se ha cancelado: ", "Tu inscripción en Resilient City se ha"),
        "日本語": ("登録を取り消しました：", "Resilient City への登録を取り消しました。"),
        "العربية": ("أُلغي تسجيلك: ", "أُلغي تسجيلك في Resilient City."),
    },
    "waitlist_left": {
        "Español": ("Has salido de la lista de espera: ", "Has salido de la lista de espera de"),
        "日本語": ("キャンセル待ちをやめました：", "のキャンセル待ちをやめました。"),
        "العربية": ("غادرتَ قائمة الانتظار: ", "غادرتَ قائمة انتظار Resilient City."),
    },
    "reminder": {
        "Español": ("Recordatorio: Resilient City empieza dentro de 1 hora", "«Opening» empieza"),
        "日本語": (
            "リマインダー：Resilient City は1 時間後",
            "「Opening」は1 時間後に",
        ),
        "العربية": ("تذكير: يبدأ Resilient City خلال ساعة واحدة", "تبدأ «Opening» خلال ساعة"),
    },
    "speaker_reminder": {
        "Español": ("Guion: intervienes dentro de 1 hora: ", "Intervienes en «Opening»"),
        "日本語": ("進行表：1 時間後に登壇します：", "「Opening」（Resilient City）でご登壇"),
        "العربية": ("جدول سير الجلسة: تتحدث خلال ساعة واحدة: ", "تتحدث في «Opening»"),
    },
    "session_changed": {
        "Español": ("Nuevo horario: Opening (", "«Opening» (Resilient City) tiene un nuevo"),
        "日本語": ("日時変更：Opening（", "「Opening」（Resilient City）の日時が変更されました"),
        "العربية": ("موعد جديد: Opening (", "تغيّر موعد «Opening» (Resilient City) إلى:"),
    },
    "session_cancelled": {
        "Español": ("Cancelada: Opening (", "se ha cancelado."),
        "日本語": ("中止：Opening（", "は中止になりました。"),
        "العربية": ("أُلغيت: Opening (", "أُلغيت «Opening» (Resilient City)"),
    },
    "recording_available": {
        "Español": ("Grabación disponible: Opening", "No pudiste asistir a «Opening»"),
        "日本語": ("録画を公開しました：Opening", "「Opening」にはご参加いただけませんでした"),
        "العربية": ("التسجيل متاح: Opening", "فاتتك «Opening»، لكن التسجيل جاهز"),
    },
    "announcement": {
        "Español": ("Slides for Friday", "Elige qué correos recibes:"),
        "日本語": ("Slides for Friday", "受け取るメールを選ぶ："),
        "العربية": ("Slides for Friday", "اختر الرسائل التي تصلك:"),
    },
    "magic_link": {
        "Español": ("Tu enlace para iniciar sesión en LearnHub", "durante 15 minutos:"),
        "日本語": ("LearnHub のサインインリンク", "15 分の間、1 回だけ使えます"),
        "العربية": ("رابط تسجيل الدخول إلى LearnHub", "لمدة 15 دقيقة"),
    },
    "email_change": {
        "Español": ("Confirma tu nueva dirección de correo de LearnHub", "en un plazo de 24 horas"),
        "日本語": ("LearnHub の新しいメールアドレスを確認してください", "24 時間以内に"),
        "العربية": ("أكِّد عنوان بريدك الإلكتروني الجديد في LearnHub", "خلال 24 ساعة"),
    },
    "organiser_invitation": {
        "Español": ("Te invitamos a organizar programas en LearnHub", "durante 72 horas:"),
        "日本語": ("LearnHub でプログラムを主催するよう招待されました", "主催者に設定しました"),
        "العربية": ("أنت مدعو لتنظيم البرامج على LearnHub", "جعلك Ana Admin منظِّمًا"),
    },
    "certificate_issued": {
        "Español": (
            "Tu certificado: Resilient City",
            "Enhorabuena: has completado Resilient City.",
        ),
        "日本語": (
            "修了証：Resilient City",
            "おめでとうございます。Resilient City を修了しました。",
        ),
        "العربية": ("شهادتك: Resilient City", "تهانينا: أكملتَ Resilient City."),
    },
    "discussion_digest": {
        "Español": (
            "Novedades en los debates: ",
            "Nuevas publicaciones en los debates de",
        ),
        "日本語": ("ディスカッションの新着：", "「Climate」への Kim Min-su さんの投稿："),
        "العربية": ("جديد في النقاشات: ", "Kim Min-su في «Climate»:"),
    },
}
# Kinds whose email shows the session's time: in the reader's zone and in the session's own.
TIMED = {"confirmed", "approved", "promoted", "reminder", "speaker_reminder", "session_changed"}


def reader(language: str, **fields):
    user = f.make_user(timezone=READERS[language][0], **fields)
    user.preferred_language = language
    db.session.commit()
    return user


@pytest.fixture
def programme(app):
    programme = f.make_programme(sessions=0, timezone="Europe/Madrid", title=TITLE)
    f.make_session(programme, STARTS, minutes=90, title="Opening")
    return programme


def only(kind: str, **where) -> OutboxMessage:
    """The one row of `kind`, written as the worker writes it when it delivers the row."""
    query = select(OutboxMessage).where(OutboxMessage.kind == kind)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    (row,) = db.session.scalars(query)
    return f.written(row)


def queued_registration_email(registration, event: str, **options) -> OutboxMessage:
    """A registration email's row, written as the worker writes it when it delivers the row."""
    message_id = queue_registration_email(registration, event, **options)
    return f.written(db.session.get(OutboxMessage, message_id))


def write(kind: str, language: str, programme, app) -> OutboxMessage:
    """Have the application write one email of `kind` to a reader of `language`."""
    session = programme.sessions[0]
    if kind in REGISTRATION_SUBJECTS:
        status = {"waitlisted": "waitlisted", "pending": "pending"}.get(kind, "confirmed")
        registration = f.make_registration(programme, reader(language), status=status)
        with app.test_request_context():
            message = queued_registration_email(
                registration, kind, waitlist_place=3 if kind == "waitlisted" else None
            )
            db.session.commit()
        return message
    if kind == "reminder":
        f.make_registration(programme, reader(language), confirmed_at=STARTS - timedelta(days=9))
        plan_due_reminders(STARTS - timedelta(minutes=60))
        db.session.commit()
        return only("reminder")
    if kind == "speaker_reminder":
        account = reader(language)
        speaker = f.make_speaker(session, "Lola Ortiz", "Director")
        speaker.email = account.email.upper()  # the account is found whatever the case
        speaker.timezone = account.timezone
        db.session.commit()
        plan_due_reminders(STARTS - timedelta(minutes=60))
        db.session.commit()
        return only("speaker_reminder")
    if kind in ("session_changed", "session_cancelled"):
        registration = f.make_registration(programme, reader(language))
        if kind == "session_cancelled":
            session.status = "cancelled"
        with app.test_request_context():
            queue_session_change(session, [registration])
            db.session.commit()
        return only(kind)
    if kind == "recording_available":
        registration = f.make_registration(programme, reader(language))
        recording = f.make_material(
            programme, kind="recording", url="https://video.example.org/opening"
        )
        with app.test_request_context():
            queue_recording_follow_up(session, recording, [registration], attended=set())
            db.session.commit()
        return only(kind)
    if kind == "announcement":
        f.make_registration(programme, reader(language))
        organiser = f.make_organiser(programme)
        draft = announcements.create_draft(
            announcements.AnnouncementInput(
                programme_id=programme.id,
                author_id=organiser.id,
                subject="Slides for Friday",
                body="The slides are *online*.",
                audience="confirmed",
                session_id=None,
            )
        )
        announcements.queue_for_sending(draft.id, programme.id)
        announcements.write_emails(draft.id)
        return only(kind)
    if kind == "magic_link":
        user = reader(language)
        with app.test_request_context():
            accounts.request_sign_in_link(user.email, None)
        return only(kind)
    if kind == "email_change":
        user = reader(language)
        with app.test_request_context():
            accounts.request_email_change(user.id, "new-address@example.org")
        return only(kind)
    if kind == "organiser_invitation":
        user = reader(language)
        admin = f.make_user(role="admin", full_name="Ana Admin")
        with app.test_request_context():
            organiser_services.invite_organiser(user.email, user.full_name, admin)
        return only(kind)
    if kind == "certificate_issued":
        registration = f.make_registration(programme, reader(language))
        with app.test_request_context():
            learning.issue_by_hand(programme.id, registration.id, "Attended in person")
        return only(kind)
    if kind == "discussion_digest":
        user = reader(language)
        f.make_registration(programme, user)
        module = f.make_module(programme, 1, "Climate")
        author = f.make_user(full_name="Kim Min-su")
        f.save(
            DigestSubscription(user_id=user.id, programme_id=programme.id),
            DiscussionPost(module_id=module.id, author_id=author.id, body="Flood maps"),
        )
        with app.test_request_context():
            assert learning.send_digests() == 1
        return only(kind)
    raise AssertionError(kind)


@pytest.mark.parametrize("language", list(READERS))
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_every_email_is_written_in_the_recipients_language(app, programme, kind, language):
    message = write(kind, language, programme, app)
    zone, greeting, date_word = READERS[language]
    subject_start, sentence = EXPECTED[kind][language]

    assert message.subject.startswith(subject_start), message.subject
    assert sentence in message.text_body, message.text_body
    assert greeting in message.text_body and greeting in message.html_body
    for part in (message.text_body, message.html_body):
        assert "Hello" not in part and "Programme page" not in part
    code = i18n.LANGUAGE_LOCALES[language]
    lang = code.replace("_", "-")
    rtl = ' dir="rtl"' if language == "العربية" else ""
    assert f'<html lang="{lang}"{rtl}>' in message.html_body
    if kind == "announcement":  # the organiser's own words stay as written
        assert "The slides are *online*." in message.text_body
        assert "The slides are <em>online</em>." in message.html_body
    if kind in TIMED or kind == "session_cancelled":
        session = programme.sessions[0]
        in_reader_zone = timefmt.format_range(session.starts_at, session.ends_at, zone, locale=code)
        in_own_zone = timefmt.format_range(
            session.starts_at, session.ends_at, "Europe/Madrid", locale=code
        )
        for part in (message.text_body, message.html_body):
            assert in_reader_zone in part and in_own_zone in part, part
        assert date_word in in_reader_zone and f"({zone})" in in_reader_zone
        assert "CET (Europe/Madrid)" in in_own_zone


@pytest.mark.parametrize(
    "locale, expected",
    [
        ("en", "Mon 1 Nov 2027, 09:00–10:30 CET (Europe/Madrid)"),
        ("es", "lun, 1 nov 2027, 9:00–10:30 CET (Europe/Madrid)"),
        ("fr", "lun. 1 nov. 2027, 09:00\u2009–\u200910:30 CET (Europe/Madrid)"),
        ("ja", "2027年11月1日(月) 9時00分～10時30分 CET (Europe/Madrid)"),
        ("ko", "2027년 11월 1일 (월) 오전 9:00~10:30 CET (Europe/Madrid)"),
        ("ar", "الاثنين، 1 نوفمبر 2027، 9:00–10:30 ص CET (Europe/Madrid)"),
        ("ru", "пн, 1 нояб. 2027\u202fг., 09:00—10:30 CET (Europe/Madrid)"),
    ],
)
def test_a_session_time_is_written_the_locales_way_with_its_zone(locale, expected):
    assert timefmt.format_range(STARTS, ENDS, "Europe/Madrid", locale=locale) == expected


def test_a_range_over_two_days_names_both_days():
    ends = STARTS + timedelta(days=1)
    assert timefmt.format_range(STARTS, ends, "Asia/Tokyo", locale="es") == (
        "lun, 1 nov 2027, 17:00\u2009–\u2009mar, 2 nov 2027, 17:00 JST (Asia/Tokyo)"
    )
    assert timefmt.format_moment(STARTS, "Asia/Tokyo", locale="ja") == (
        "2027年11月1日(月) 17:00 JST (Asia/Tokyo)"
    )


def test_a_speakers_own_language_comes_before_their_accounts_then_english(app, programme):
    session = programme.sessions[0]
    account = reader("Español")
    own = f.make_speaker(session, "Hanako Sato", "Mayor")
    by_account = f.make_speaker(session, "Lola Ortiz", "Director")
    nobody = f.make_speaker(session, "Ana Silva", "Planner")
    own.email, own.preferred_language = account.email, "日本語"  # the account reads Spanish
    by_account.email = account.email
    nobody.email = "ana@city.example"  # no account, no language: English
    db.session.commit()
    plan_due_reminders(STARTS - timedelta(minutes=60))
    db.session.commit()
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "speaker_reminder")
    ).all()
    by_name = {row.text_body.split("\n", 1)[0]: row for row in map(f.written, rows)}
    assert by_name["Hanako Sato 様"].subject.startswith("進行表：")
    assert by_name["Hola, Lola Ortiz:"].subject.startswith("Guion: ")
    assert by_name["Hello Ana Silva,"].subject.startswith("Run-sheet: you speak in 1 hour")
    assert len(rows) == 3


def test_english_readers_keep_the_english_email(app, programme):
    write("confirmed", "Español", programme, app)  # the email before was someone else's
    english = f.make_user(timezone="Europe/Madrid")
    registration = f.make_registration(programme, english)
    with app.test_request_context():
        message = queued_registration_email(registration, "confirmed")
        db.session.commit()
    assert message.subject == f"You are registered: {TITLE}"
    assert "Mon 1 Nov 2027, 09:00–10:30 CET (Europe/Madrid)" in message.text_body
    assert '<html lang="en">' in message.html_body


def test_the_confirmation_promises_the_programmes_own_reminder_times(app, programme):
    """The reminder times in the confirmation are the programme's policy, in the reader's
    words; with reminders off for a session it says they come for some sessions only."""
    from learnhub.notifications.policy import set_reminder_policy

    set_reminder_policy(programme.id, [3 * 24 * 60, 60], {})
    english = f.make_registration(programme, f.make_user(timezone="Europe/Madrid"))
    spanish = f.make_registration(programme, reader("Español"))
    with app.test_request_context():
        in_english = queued_registration_email(english, "confirmed")
        in_spanish = queued_registration_email(spanish, "confirmed")
        db.session.commit()
    assert "We will remind you 3 days and 1 hour before each session" in in_english.text_body
    assert "3 days and 1 hour before each session" in in_english.html_body
    assert "recordatorio 3 días y 1 hora antes de cada sesión" in in_spanish.text_body

    extra = f.make_session(programme, STARTS + timedelta(days=7), minutes=60, title="Extra")
    set_reminder_policy(programme.id, [3 * 24 * 60, 60], {extra.id: False})
    later = f.make_registration(programme, f.make_user(timezone="Europe/Madrid"))
    with app.test_request_context():
        some = queued_registration_email(later, "confirmed")
        db.session.commit()
    assert "1 hour before the sessions the organisers send reminders for" in some.text_body


def test_an_unknown_language_reads_english_and_never_fails(app, programme):
    user = f.make_user(timezone="Europe/Madrid")
    user.preferred_language = "Klingon"
    db.session.commit()
    registration = f.make_registration(programme, user)
    with app.test_request_context():
        message = queued_registration_email(registration, "confirmed")
        db.session.commit()
    assert message.subject == f"You are registered: {TITLE}"
    assert message.text_body.startswith("Hello ")
    # An address without an account (a sign-in link's decoy) reads English too.
    decoy = accounts.User(email="nobody@example.org", full_name="", timezone="UTC")
    with app.test_request_context():
        text, html = render_sign_in_link(decoy, "http://x/link", 15)
    assert "for 15 minutes" in text and '<html lang="en">' in html


def test_a_missing_or_fuzzy_translation_falls_back_to_english(app_factory, tmp_path):
    translations = tmp_path / "translations"
    shutil.copytree(i18n.TRANSLATIONS_DIR / "es", translations / "es")  # no Japanese at all
    po_path = translations / "es" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as po:
        catalog = read_po(po, locale="es")
    catalog["Hello %(name)s,"].string = ""
    catalog["Programme page: %(url)s"].flags.add("fuzzy")
    with po_path.open("wb") as po:
        write_po(po, catalog)
    with po_path.with_suffix(".mo").open("wb") as mo:
        write_mo(mo, catalog)  # as `make catalogs` compiles it: fuzzy entries left out
    app = app_factory(BABEL_TRANSLATION_DIRECTORIES=str(translations))
    with app.app_context():
        programme = f.make_programme(sessions=0, timezone="Europe/Madrid", title=TITLE)
        f.make_session(programme, STARTS, minutes=90, title="Opening")
        spanish = f.make_registration(programme, reader("Español"))
        japanese = f.make_registration(programme, reader("日本語"))
        with app.test_request_context():
            es = queued_registration_email(spanish, "confirmed")
            ja = queued_registration_email(japanese, "confirmed")
            db.session.commit()
        assert es.subject == f"Inscripción confirmada: {TITLE}"
        assert es.text_body.startswith("Hello ")
        assert "Programme page: http" in es.text_body
        assert "Estás inscrito/a en Resilient City." in es.text_body
        assert ja.subject == f"You are registered: {TITLE}"
        # Dates are Babel's, not the catalog's: still Japanese.
        assert "2027年11月1日(月) 17時00分～18時30分 JST (Asia/Tokyo)" in ja.text_body


def test_the_recipients_locale_does_not_leak_into_the_request(app, programme):
    registration = f.make_registration(programme, reader("Español"))
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert str(get_locale()) == "en"
        message = queued_registration_email(registration, "confirmed")
        assert message.subject.startswith("Inscripción confirmada")
        assert str(get_locale()) == "en"
        assert gettext("Programme page") == "Programme page"


def test_a_participants_pages_stay_english_and_work_in_any_language(client, programme):
    user = reader("العربية")
    f.make_registration(programme, user)
    f.sign_in(client, user)
    for url in ("/me/programmes", "/me/profile", f"/programmes/{programme.slug}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="ar"' not in response.get_data(as_text=True)


# --- the catalogs -------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TAG = re.compile(r"</?\w+")


def catalogs():
    return [code for code in i18n.LANGUAGE_LOCALES.values() if code != i18n.DEFAULT_LOCALE]


def read_catalog(code: str):
    path = i18n.TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return read_po(po, locale=code)


def marked_strings() -> set[str]:
    """Every string the code and the email templates mark for translation, as pybabel
    extracts them with babel.cfg (the Makefile's `translations` target)."""
    method_map = [
        ("platform/learnhub/**.py", "python"),
        ("templates/email/**.html", "jinja2"),
        ("templates/email/**.txt", "jinja2"),
    ]
    keywords = {"_": None, "gettext": None, "lazy_gettext": None, "N_": None}
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(PROJECT), method_map=method_map, keywords=keywords
        )
        if isinstance(message, str)
    }


@pytest.mark.parametrize("code", catalogs())
def test_every_catalog_is_complete_and_keeps_the_placeholders(code):
    catalog = read_catalog(code)
    messages = [m for m in catalog if m.id]
    assert messages
    for message in messages:
        assert not message.fuzzy, f"{code}: fuzzy {message.id!r}"
        assert message.string and message.string.strip(), f"{code}: untranslated {message.id!r}"
        assert sorted(PLACEHOLDER.findall(message.string)) == sorted(
            PLACEHOLDER.findall(message.id)
        ), f"{code}: placeholders differ in {message.id!r}"
        assert sorted(TAG.findall(message.string)) == sorted(TAG.findall(message.id)), (
            f"{code}: HTML tags differ in {message.id!r}"
        )
        assert "%" not in PLACEHOLDER.sub("", message.string), f"{code}: stray % {message.id!r}"
    assert not [error for _message, errors in catalog.check() for error in errors]
    missing = marked_strings() - {m.id for m in messages}
    assert not missing, f"{code}: run `make translations` and translate {sorted(missing)}"


def test_every_profile_language_has_a_catalog():
    for language, code in i18n.LANGUAGE_LOCALES.items():
        assert language in accounts.LANGUAGES
        if code != i18n.DEFAULT_LOCALE:
            assert (i18n.TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po").is_file()


def test_every_catalog_is_compiled_from_its_latest_po_file():
    for code in catalogs():
        po = i18n.TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        assert mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime, (
            f"{code}: run `make catalogs` (make test and make run do)"
        )
    assert i18n.uncompiled_catalogs() == []
