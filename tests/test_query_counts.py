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
    assert len(statements) <= 6, statements
