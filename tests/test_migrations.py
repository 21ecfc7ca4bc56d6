"""`flask db upgrade` on an empty database gives exactly the schema the models describe."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from learnhub import create_app
from learnhub.extensions import db
from tests import services


def _schema_differences(url: str) -> list:
    app = create_app({"LEARNHUB_ENV": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
        downgrade(revision="base")
        with db.engine.connect() as connection:
            left = set(inspect(connection).get_table_names()) - {"alembic_version"}
        db.engine.dispose()
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    assert left == set(), "downgrade to base must remove every table"
    return differences


def test_migrations_match_the_models_on_sqlite(tmp_path):
    assert _schema_differences(f"sqlite:///{tmp_path / 'empty.sqlite'}") == []


@pytest.fixture
def empty_postgres_database():
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    services.require_postgres()
    name = f"learnhub_migrations_{os.getpid()}"
    url = services.create_postgres_database(name)
    try:
        yield url
    finally:
        services.drop_postgres_database(name)


@pytest.mark.postgres
def test_migrations_match_the_models_on_postgres(empty_postgres_database):
    assert _schema_differences(empty_postgres_database) == []


def _upgrade_keeps_rows_and_counts_seats(url: str) -> None:
    """Upgrading a database that holds registrations keeps every row (SQLite's batch mode
    rebuilds `programme`, whose old table's drop used to cascade to its registrations) and
    fills the seat counters from what is there."""
    from sqlalchemy import text

    app = create_app({"LEARNHUB_ENV": "test", "SQLALCHEMY_DATABASE_URI": url})
    at = "2026-01-01 00:00:00"
    with app.app_context():
        upgrade(revision="a6d0e1f2a306")
        connection = db.session.connection()
        programme_id = connection.execute(
            text(
                "INSERT INTO programme (slug, kind, title, summary, description, format,"
                " language, timezone, status, capacity, completion_percent, approval_required,"
                " waitlist_enabled, created_at, version, content_version) VALUES ('p',"
                " 'programme', 'P', 's', '', 'online', 'English', 'UTC', 'published', 2, 75,"
                " false, true, :at, 1, 1) RETURNING id"
            ),
            {"at": at},
        ).scalar_one()
        states = [("confirmed", None), ("confirmed", None), ("waitlisted", 4), ("cancelled", None)]
        for n, (status, position) in enumerate(states):
            user_id = connection.execute(
                text(
                    "INSERT INTO user_account (email, full_name, timezone, role, created_at)"
                    " VALUES (:email, 'U', 'UTC', 'participant', :at) RETURNING id"
                ),
                {"email": f"u{n}@example.org", "at": at},
            ).scalar_one()
            connection.execute(
                text(
                    "INSERT INTO registration (programme_id, user_id, status, waitlist_position,"
                    " version, created_at, status_changed_at, consent_at)"
                    " VALUES (:programme, :user, :status, :position, 1, :at, :at, :at)"
                ),
                {
                    "programme": programme_id,
                    "user": user_id,
                    "status": status,
                    "position": position,
                    "at": at,
                },
            )
        db.session.commit()
        upgrade()
        assert db.session.execute(text("SELECT count(*) FROM registration")).scalar_one() == 4
        assert db.session.execute(
            text("SELECT confirmed_count, waitlisted_count, waitlist_tail FROM programme")
        ).one() == (2, 1, 4)
        db.session.rollback()
        downgrade(revision="base")
        db.engine.dispose()


def test_upgrade_keeps_rows_and_counts_seats_on_sqlite(tmp_path):
    _upgrade_keeps_rows_and_counts_seats(f"sqlite:///{tmp_path / 'old.sqlite'}")


@pytest.mark.postgres
def test_upgrade_keeps_rows_and_counts_seats_on_postgres(empty_postgres_database):
    _upgrade_keeps_rows_and_counts_seats(empty_postgres_database)


def test_after_an_upgrade_sqlite_connections_check_foreign_keys_again(tmp_path):
    """The migrations ran with foreign keys off; the connection they used goes back to the
    pool with them on (the app's connect hook does not run again for a pooled connection)."""
    app = create_app(
        {"LEARNHUB_ENV": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fk.sqlite'}"}
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert connection.exec_driver_sql("PRAGMA legacy_alter_table").scalar_one() == 0
        db.engine.dispose()


def test_a_batch_rebuild_of_programme_keeps_its_rows_and_seat_triggers_on_sqlite(tmp_path):
    """A later migration may rebuild `programme` (SQLite's batch mode): its registrations
    stay, the rename is not refused by the triggers that name `programme`, and the counters
    still follow new registrations."""
    from alembic.operations import Operations
    from sqlalchemy import text

    from learnhub.catalogue.models import Programme
    from learnhub.database import sqlite_migration_settings
    from tests import factories as f

    app = create_app(
        {"LEARNHUB_ENV": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.sqlite'}"}
    )
    with app.app_context():
        upgrade()
        programme_id = f.make_programme(capacity=5).id
        f.make_registration(db.session.get(Programme, programme_id))
        db.session.commit()
        db.session.remove()
        with db.engine.connect() as connection, sqlite_migration_settings(connection):
            operations = Operations(MigrationContext.configure(connection))
            with operations.batch_alter_table("programme", recreate="always") as batch:
                batch.alter_column("summary", existing_type=db.Text(), nullable=True)
        f.make_registration(db.session.get(Programme, programme_id))
        db.session.commit()
        counted = db.session.execute(
            text("SELECT confirmed_count FROM programme WHERE id = :id"), {"id": programme_id}
        ).scalar_one()
        assert counted == 2
        assert db.session.execute(text("SELECT count(*) FROM registration")).scalar_one() == 2
        db.session.remove()
        db.engine.dispose()
