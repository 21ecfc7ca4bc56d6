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


@pytest.mark.postgres
def test_migrations_match_the_models_on_postgres():
    services.require_postgres()
    name = f"learnhub_migrations_{os.getpid()}"
    url = services.create_postgres_database(name)
    try:
        assert _schema_differences(url) == []
    finally:
        services.drop_postgres_database(name)
