"""Pages run a bounded number of SQL statements, whatever the size of the programme."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from learnhub.catalogue.models import ProgrammeOrganisation
from learnhub.extensions import db
from tests import factories as f


@contextmanager
def counted_statements(app):
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def big_programme(sessions: int):
    programme = f.make_programme(sessions=sessions, capacity=500)
    host = f.make_organisation()
    programme.organisation_links.append(
        ProgrammeOrganisation(organisation=host, role="host", position=0)
    )
    db.session.commit()
    for n in range(3):
        f.make_module(programme, n + 1)
    for n in range(sessions):
        f.make_speaker(programme.sessions[n], f"Speaker {n}", "Mayor", f.make_organisation())
    for n in range(sessions * 2):
        f.make_material(programme, title=f"Reading {n}")
    for _ in range(sessions * 3):
        f.make_registration(programme)
    return programme


@pytest.mark.parametrize("size", [2, 8])
def test_programme_page_query_count_does_not_grow(app, client, size):
    url = f"/programmes/{big_programme(size).slug}"
    with counted_statements(app) as statements:
        assert client.get(url).status_code == 200
    assert len(statements) <= 8, statements


@pytest.mark.parametrize("size", [2, 8])
def test_catalogue_query_count_does_not_grow(app, client, size):
    for _ in range(size):
        big_programme(2)
    with counted_statements(app) as statements:
        assert client.get("/").status_code == 200
    assert len(statements) <= 8, statements


@pytest.mark.parametrize("size", [2, 8])
def test_my_programmes_query_count_does_not_grow(app, client, size):
    user = f.make_user()
    for _ in range(size):
        f.make_registration(f.make_programme(sessions=3), user)
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    with counted_statements(app) as statements:
        assert client.get("/me/programmes").status_code == 200
    # 4 of them are the progress bars: modules, marks, completions, certificates
    assert len(statements) <= 8, statements


def learning_programme(size: int):
    """big_programme plus, per module, materials, posts and replies, and a participant who
    attended, opened and completed things."""
    from datetime import timedelta

    from learnhub.learning.models import DiscussionPost, MaterialView, ModuleCompletion
    from learnhub.types import utcnow

    programme = big_programme(size)
    participant = f.make_user()
    registration = f.make_registration(
        programme, participant, confirmed_at=utcnow() - timedelta(days=60)
    )
    for session in programme.sessions:
        session.starts_at -= timedelta(days=30)
        session.ends_at -= timedelta(days=30)
        f.save(session)
        f.make_attendance(session, registration)
    for module in programme.modules:
        for n in range(size):
            material = f.make_material(programme, title=f"M{module.id}-{n}", module_id=module.id)
            f.save(MaterialView(registration_id=registration.id, material_id=material.id))
            post = f.save(DiscussionPost(module_id=module.id, author_id=participant.id, body="Hi"))
            f.save(
                DiscussionPost(
                    module_id=module.id, author_id=participant.id, body="Re", parent_id=post.id
                )
            )
        f.save(
            ModuleCompletion(registration_id=registration.id, module_id=module.id, source="manual")
        )
    return programme, participant


@pytest.mark.parametrize("size", [2, 8])
def test_programme_page_for_a_participant_query_count_does_not_grow(app, client, size):
    programme, participant = learning_programme(size)
    with client.session_transaction() as session:
        session["_user_id"] = str(participant.id)
    with counted_statements(app) as statements:
        response = client.get(f"/programmes/{programme.slug}")
    assert response.status_code == 200
    assert b"<progress" in response.data
    assert len(statements) <= 13, statements


@pytest.mark.parametrize("size", [2, 8])
def test_module_page_query_count_does_not_grow(app, client, size):
    programme, participant = learning_programme(size)
    with client.session_transaction() as session:
        session["_user_id"] = str(participant.id)
    with counted_statements(app) as statements:
        response = client.get(f"/programmes/{programme.slug}/modules/2")
    assert response.status_code == 200
    assert response.data.count(b'<li id="post-') == 2 * size
    assert len(statements) <= 16, statements


@pytest.mark.parametrize("size", [2, 8])
def test_my_programmes_with_progress_query_count_does_not_grow(app, client, size):
    user = f.make_user()
    for _ in range(size):
        programme = f.make_programme(sessions=3)
        for n in range(3):
            f.make_module(programme, n + 1)
        f.make_registration(programme, user)
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    with counted_statements(app) as statements:
        response = client.get("/me/programmes")
    assert response.status_code == 200
    assert response.data.count(b"<progress") == size
    assert len(statements) <= 10, statements


@pytest.mark.parametrize("capacity", [5, 1])
def test_registering_a_new_address_writes_under_the_lock_without_reading_first(
    app, client, capacity
):
    """A form that is accepted: the account, the locked programme (its seat counters with
    it, on both databases), the registration, its sign-in link when a seat is given, its
    outbox row, and nothing read before the write transaction starts."""
    programme = f.make_programme(capacity=capacity)
    f.make_registration(programme)
    url = f"/programmes/{programme.slug}/register"
    with app.app_context():
        engine = db.engine
    executed: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        executed.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post(url, data=f.registration_form())
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 302
    writes = ["INSERT", "SELECT"]
    writes += ["INSERT", "INSERT", "INSERT"] if capacity > 1 else ["INSERT", "INSERT"]
    statements = [s for s in executed if s not in ("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")]
    assert statements == writes, executed
    if engine.dialect.name == "sqlite":
        assert executed[0] == "BEGIN" and executed.count("BEGIN") == 1, executed
