"""Every route in the URL map, every method, every role: the answer is the expected one.

A route added without an entry in EXPECTED fails `test_every_route_has_an_entry`, so access
is decided on purpose, never by accident (ARCHITECTURE.md rule 8).

Roles, in the order of each tuple: anonymous, the participant (registered in the programme),
another participant (registered elsewhere), an organiser of another programme, the
programme's organiser, an administrator. URLs point at the programme, its session, module,
registered-only material, question and the participant's registration. Reads run first, then
writes (some change data: cancelling, saving settings), then removals, then signing out.
"""

from __future__ import annotations

import pytest

from tests.access_world import build_world

ROLES = ("anonymous", "participant", "other_participant", "other_organiser", "organiser", "admin")
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}

ALL_200 = 200
SIGNED_IN = (302, 200, 200, 200, 200, 200)
SIGNED_IN_FORM_ERROR = (302, 422, 422, 422, 422, 422)
ORGANISER_ONLY = (302, 403, 403, 200, 200, 200)
TEAM_READ = (302, 403, 403, 404, 200, 200)
TEAM_WRITE = (302, 403, 403, 404, 302, 302)
TEAM_FORM_ERROR = (302, 403, 403, 404, 422, 422)
ORGANISER_FORM_ERROR = (302, 403, 403, 422, 422, 422)
OWNER_ONLY = (302, 200, 404, 404, 404, 404)
OWNER_WRITE = (302, 302, 404, 404, 404, 404)

EXPECTED: dict[str, dict[str, int | tuple[int, ...]]] = {
    # accounts
    "accounts.login": {"GET": ALL_200},
    "accounts.request_link": {"POST": 422},  # empty form: says what is missing
    "accounts.password_login": {"POST": 422},
    "accounts.sign_in_with_link": {"GET": 410, "POST": 410},  # made-up token
    "accounts.logout": {"POST": (302, 302, 302, 302, 302, 302)},
    "accounts.profile": {"GET": SIGNED_IN, "POST": SIGNED_IN_FORM_ERROR},
    "accounts.change_password": {"POST": SIGNED_IN_FORM_ERROR},
    "accounts.request_email_change": {"POST": SIGNED_IN_FORM_ERROR},
    "accounts.confirm_email_change": {"GET": 410, "POST": 410},  # made-up token
    "accounts.export_data": {"GET": SIGNED_IN},
    "accounts.delete_account": {"GET": SIGNED_IN, "POST": SIGNED_IN_FORM_ERROR},
    # catalogue (public)
    "catalogue.index": {"GET": ALL_200},
    "catalogue.programme": {"GET": ALL_200},
    "catalogue.module": {"GET": ALL_200},
    "catalogue.download_material": {"GET": (302, 200, 403, 403, 200, 200)},
    "catalogue.programme_cover": {"GET": ALL_200},
    "catalogue.person_photo": {"GET": ALL_200},
    "catalogue.set_viewer_timezone": {"GET": 302},
    "catalogue.privacy": {"GET": ALL_200},
    "catalogue.timezones": {"GET": ALL_200},
    "static": {"GET": ALL_200},
    "health.healthz": {"GET": ALL_200},
    "metrics.metrics": {"GET": ALL_200},  # no METRICS_TOKEN here; with one, 404 without it
    # development mailbox: not registered in production (tests/test_factory.py)
    "dev_mailbox.index": {"GET": ALL_200},
    "dev_mailbox.show": {"GET": ALL_200},
    "dev_mailbox.html": {"GET": ALL_200},
    "dev_mailbox.attachment": {"GET": ALL_200},
    # registration
    "registration.register": {"GET": ALL_200, "POST": 422},
    "registration.registered": {"GET": 404},  # only the browser that registered
    "registration.calendar": {"GET": ALL_200},
    "registration.my_programmes": {"GET": SIGNED_IN},
    "registration.cancel": {"POST": OWNER_WRITE},
    "registration.leave_waiting_list": {"POST": OWNER_WRITE},
    "registration.edit_answers": {"GET": OWNER_ONLY, "POST": (302, 422, 404, 404, 404, 404)},
    # the signed link is the authority: it works for whoever holds it, signed in or not
    "registration.cancel_with_link": {"GET": ALL_200, "POST": ALL_200},
    # organiser workspace
    "organiser.home": {"GET": ORGANISER_ONLY},
    "organiser.programme": {"GET": TEAM_READ},
    "organiser.registrants": {"GET": TEAM_READ},
    "organiser.registrants_csv": {"GET": TEAM_READ},
    "organiser.decide": {"POST": TEAM_WRITE},
    "organiser.move_registration": {"POST": TEAM_WRITE},
    "organiser.registration_settings": {"GET": TEAM_READ, "POST": TEAM_WRITE},
    "organiser.questions": {"GET": TEAM_READ, "POST": (302, 403, 403, 404, 422, 422)},
    "organiser.delete_question": {"POST": TEAM_READ},  # the confirmation page first
    "organiser.move_question": {"POST": TEAM_WRITE},
    "organiser.team": {"GET": TEAM_READ, "POST": (302, 403, 403, 404, 422, 422)},
    "organiser.remove_team_member": {"POST": TEAM_WRITE},
    # authoring: a programme of one's own is created by any organiser; the rest needs
    # manage_programme on this programme (another programme's organiser: 404)
    "organiser.new_programme": {"GET": ORGANISER_ONLY, "POST": ORGANISER_FORM_ERROR},
    "organiser.edit_programme": {"GET": TEAM_READ, "POST": TEAM_FORM_ERROR},
    "organiser.preview_programme": {"GET": TEAM_READ},
    "organiser.publish_programme": {"POST": TEAM_WRITE},
    "organiser.archive_programme": {"POST": TEAM_WRITE},
    "organiser.new_edition": {"GET": TEAM_READ, "POST": TEAM_FORM_ERROR},
    "organiser.audit_log": {"GET": TEAM_READ},
    "organiser.audit_csv": {"GET": TEAM_READ},
    "organiser.new_session": {"GET": TEAM_READ, "POST": TEAM_FORM_ERROR},
    "organiser.edit_session": {"GET": TEAM_READ, "POST": TEAM_FORM_ERROR},
    # the world's programme is published: removing is refused with a flash (use cancel)
    "organiser.delete_session": {"POST": TEAM_WRITE},  # published: refused, no page
    "organiser.modules": {"GET": TEAM_READ, "POST": TEAM_FORM_ERROR},
    "organiser.edit_module": {"GET": TEAM_READ, "POST": TEAM_FORM_ERROR},
    "organiser.move_module": {"POST": TEAM_WRITE},
    "organiser.delete_module": {"POST": TEAM_READ},  # the confirmation page first
    "organiser.materials": {"GET": TEAM_READ, "POST": TEAM_FORM_ERROR},
    "organiser.edit_material": {"GET": TEAM_READ, "POST": TEAM_FORM_ERROR},
    "organiser.delete_material": {"POST": TEAM_READ},  # the confirmation page first
    "organiser.people": {"GET": ORGANISER_ONLY, "POST": ORGANISER_FORM_ERROR},
    "organiser.edit_person": {"GET": ORGANISER_ONLY, "POST": ORGANISER_FORM_ERROR},
    "organiser.organisations": {"GET": ORGANISER_ONLY, "POST": ORGANISER_FORM_ERROR},
    "organiser.edit_organisation": {"GET": ORGANISER_ONLY, "POST": ORGANISER_FORM_ERROR},
    "organiser_admin.organisers": {
        "GET": (302, 403, 403, 403, 403, 200),
        "POST": (302, 403, 403, 403, 403, 422),
    },
    "topic_admin.topics": {
        "GET": (302, 403, 403, 403, 403, 200),
        "POST": (302, 403, 403, 403, 403, 422),
    },
    "topic_admin.edit_topic": {
        "GET": (302, 403, 403, 403, 403, 200),
        "POST": (302, 403, 403, 403, 403, 302),  # an empty form keeps the name as it is
    },
    "topic_admin.remove_topic": {"POST": (302, 403, 403, 403, 403, 302)},
    # attendance (organisers need manage_attendance)
    "attendance.attendance_sheet": {"GET": TEAM_READ, "POST": TEAM_WRITE},
    "attendance.attendance_summary": {"GET": TEAM_READ, "POST": TEAM_READ},
    "attendance.check_in": {"GET": TEAM_READ, "POST": TEAM_WRITE},
    "attendance.close_check_in": {"POST": TEAM_WRITE},
    "attendance.export_csv": {"GET": TEAM_READ},
    "attendance.export_xlsx": {"GET": TEAM_READ},
    "attendance.import_report": {"GET": TEAM_READ, "POST": (302, 403, 403, 404, 422, 422)},
    # a made-up import: back to the upload page
    "attendance.import_preview": {"GET": TEAM_WRITE, "POST": TEAM_WRITE},
    "attendance_participant.my_attendance": {"GET": SIGNED_IN},
    "attendance_participant.self_check_in": {"GET": SIGNED_IN, "POST": SIGNED_IN_FORM_ERROR},
    # email: preferences and calendars (a made-up token is refused)
    "notifications.calendar_feed": {"GET": 404},
    "notifications.my_calendar": {"GET": SIGNED_IN},
    "notifications.create_calendar_feed": {"POST": SIGNED_IN},
    "notifications.revoke_calendar_feed": {"POST": (302, 302, 302, 302, 302, 302)},
    "notifications.my_preferences": {"GET": SIGNED_IN, "POST": (302, 302, 302, 302, 302, 302)},
    "notifications.preferences": {"GET": 404, "POST": 404},
    "notifications.unsubscribe": {"GET": 404, "POST": 404},
    # email: organisers (manage_programme; deliveries need manage_registrations)
    "notifications_organiser.announcements": {
        "GET": TEAM_READ,
        "POST": (302, 403, 403, 404, 422, 422),
    },
    "notifications_organiser.announcement": {"GET": TEAM_READ},
    "notifications_organiser.send_announcement": {"POST": TEAM_WRITE},
    "notifications_organiser.deliveries": {"GET": TEAM_READ},
    "notifications_organiser.reminders": {"GET": TEAM_READ, "POST": TEAM_WRITE},
    "notifications_organiser.schedule": {"GET": TEAM_READ, "POST": TEAM_READ},
    "notifications_organiser.cancel_session": {"POST": TEAM_READ},  # the confirmation page first
    "notifications_organiser.recording": {"GET": TEAM_READ, "POST": TEAM_READ},
    # learning path: participants (a made-up verification code is refused; the world's
    # participant has no certificate yet; the world's material is a registered-only file)
    "learning.open_material": {"GET": (302, 302, 403, 403, 302, 302)},
    "learning.complete_module": {"POST": (302, 302, 403, 403, 403, 403)},
    "learning.write_post": {"POST": (302, 302, 403, 403, 302, 302)},  # empty: flash, back
    "learning.digest": {"POST": (302, 302, 302, 302, 302, 302)},  # empty: flash, back
    "learning.my_certificate": {"GET": (302, 404, 404, 404, 404, 404)},
    "learning.verify": {"GET": 404},
    "learning.check_certificate": {"GET": ALL_200},
    # learning path: organisers (manage_programme; certificates need manage_attendance)
    "learning_organiser.settings": {"GET": TEAM_READ, "POST": TEAM_WRITE},
    "learning_organiser.moderate": {"POST": TEAM_WRITE},
    "learning_organiser.lock": {"POST": TEAM_WRITE},
    "learning_organiser.certificates": {"GET": TEAM_READ},
    "learning_organiser.issue_certificate": {"POST": (302, 403, 403, 404, 422, 422)},
    "learning_organiser.revoke_certificate": {"POST": (302, 403, 403, 404, 422, 422)},
    # administrators
    "outbox_admin.outbox": {"GET": (302, 403, 403, 403, 403, 200)},
    "outbox_admin.retry": {"POST": (302, 403, 403, 403, 403, 302)},
}


def expected_code(endpoint: str, method: str, role: str) -> int:
    spec = EXPECTED[endpoint][method]
    return spec if isinstance(spec, int) else spec[ROLES.index(role)]


def route_methods(app) -> list[tuple[str, str, object]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & METHODS):
            found.append((rule.endpoint, method, rule))
    return found


def test_every_route_has_an_entry(app):
    in_map = {(endpoint, method) for endpoint, method, _ in route_methods(app)}
    in_table = {(e, m) for e, methods in EXPECTED.items() for m in methods}
    assert in_map - in_table == set(), "routes without an access entry"
    assert in_table - in_map == set(), "entries for routes that no longer exist"


@pytest.fixture
def world(app, tmp_path):
    return build_world(tmp_path)


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, client, world, role):
    users, values, cancel_link_token = world
    user_ids = {name: user.id for name, user in users.items()}
    if role != "anonymous":
        with client.session_transaction() as session:
            session["_user_id"] = str(user_ids[role])
            session["_fresh"] = True
    adapter = app.url_map.bind("localhost")
    order = sorted(
        route_methods(app),
        key=lambda item: (
            item[0] == "accounts.logout",
            item[1] != "GET",
            ".delete_" in item[0],  # removals last: the other writes still find their row
            item[0],
        ),
    )
    mismatches = []
    for endpoint, method, rule in order:
        args = {name: values[name] for name in rule.arguments}
        if endpoint == "registration.cancel_with_link":
            args["token"] = cancel_link_token
        url = adapter.build(endpoint, args)
        response = client.open(url, method=method)
        expected = expected_code(endpoint, method, role)
        if response.status_code != expected:
            mismatches.append(f"{method} {url}: {response.status_code}, expected {expected}")
        elif expected == 302 and role == "anonymous" and endpoint not in PUBLIC_REDIRECTS:
            assert "/login" in response.headers["Location"], f"{method} {url}"
    assert mismatches == []


#: Anonymous 302s that are not "please sign in".
PUBLIC_REDIRECTS = {"catalogue.set_viewer_timezone"}


def test_another_programmes_organiser_is_refused_on_every_organiser_route_of_this_one(app):
    """The matrix above checks each answer; this checks the table itself: no organiser-facing
    route under a programme lets another programme's organiser in."""
    column = ROLES.index("other_organiser")
    organiser_facing = ("organiser.", "attendance.", "notifications_organiser.")
    checked = 0
    for endpoint, method, rule in route_methods(app):
        if endpoint.startswith(organiser_facing) and "slug" in rule.arguments:
            spec = EXPECTED[endpoint][method]
            assert not isinstance(spec, int), endpoint
            assert spec[column] in (403, 404), f"{method} {endpoint}"
            checked += 1
    assert checked >= 40


@pytest.mark.parametrize("too_large", [False, True])
def test_an_id_in_a_path_beyond_what_a_row_can_have_is_404_never_500(app, client, world, too_large):
    """`/people/99999999999999999999/photo` names no row: SQLite's driver refused to bind a
    number that large (OverflowError, a 500); such a URL now matches no route (404)."""
    from learnhub.database import MAX_ID

    users, values, _ = world
    with client.session_transaction() as session:
        session["_user_id"] = str(users["admin"].id)
    adapter = app.url_map.bind("localhost")
    answers = []
    checked = 0
    for endpoint, method, rule in route_methods(app):
        for name in [n for n in rule.arguments if isinstance(values[n], int)]:
            url = adapter.build(endpoint, {**{n: values[n] for n in rule.arguments}, name: MAX_ID})
            if too_large:
                url = url.replace(str(MAX_ID), str(MAX_ID + 1))
            status = client.open(url, method=method).status_code
            checked += 1
            if status >= 500 or (too_large and status != 404):
                answers.append(f"{method} {url}: {status}")
    assert checked >= 40
    assert answers == []


def test_a_nul_character_in_a_text_segment_or_a_search_is_404_or_ignored_never_500(
    app, client, world
):
    """PostgreSQL refuses NUL in a query's text (DataError): `/programmes/a%00b` and
    `/?topic=%00` answered 500 there. A text segment with NUL now matches no route, and the
    catalogue's topic and the people and organisation searches drop it."""
    users, values, _ = world
    with client.session_transaction() as session:
        session["_user_id"] = str(users["admin"].id)
    adapter = app.url_map.bind("localhost")
    answers = []
    for endpoint, method, rule in route_methods(app):
        texts = [n for n in rule.arguments if isinstance(values[n], str) and n != "direction"]
        for name in texts:
            url = adapter.build(endpoint, {n: values[n] for n in rule.arguments})
            url = url.replace(f"/{values[name]}", f"/{values[name]}%00", 1)
            status = client.open(url, method=method).status_code
            if status != 404:
                answers.append(f"{method} {url}: {status}")
    assert answers == []
    for url in ("/?topic=%00", "/organiser/people?q=a%00", "/organiser/organisations?q=a%00"):
        assert client.get(url).status_code == 200, url
