"""Fixtures: `app`, `client`, `runner`, `db_session`, plus the test database.

The suite runs on SQLite by default. With TEST_DATABASE=postgres (CI) it runs on a fresh
PostgreSQL database created for this run. Either way the schema comes from the migrations.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import services
from tests.services import private_redis  # noqa: F401  (a fixture for every test)

_INSTANCE = Path(tempfile.mkdtemp(prefix="learnhub-test-instance-"))
os.environ["LEARNHUB_INSTANCE_PATH"] = str(_INSTANCE)
os.environ.setdefault("LEARNHUB_ENV", "test")
for name in (
    "DATABASE_URL",
    "REDIS_URL",
    "SMTP_URL",
    "SMTP_HOST",
    "CELERY_BROKER_URL",
    "STORAGE_BACKEND",
    "METRICS_TOKEN",
    "PROMETHEUS_MULTIPROC_DIR",  # set, it would switch prometheus_client to multi-process mode
):
    os.environ.pop(name, None)


def _backend() -> str:
    return os.environ.get("TEST_DATABASE", "sqlite")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The database every app fixture uses, migrated once for the whole run."""
    if _backend() == "postgres":
        services.require_postgres()
        name = f"learnhub_test_{os.getpid()}"
        url = services.create_postgres_database(name)
    else:
        name = None
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'learnhub.sqlite'}"
    from flask_migrate import upgrade

    from learnhub import create_app

    try:
        app = create_app({"LEARNHUB_ENV": "test", "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            from learnhub.extensions import db

            db.engine.dispose()
        yield url
    finally:
        if name:
            services.drop_postgres_database(name)


def _empty_all_tables(db) -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{t}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f'DELETE FROM "{table}"'))
    db.session.commit()


@pytest.fixture
def app_factory(database_url, tmp_path):
    """Builds apps on the test database; every table is emptied after the test."""
    from learnhub import create_app
    from learnhub.extensions import db

    built = []

    def build(**overrides):
        config = {
            "LEARNHUB_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            **overrides,
        }
        app = create_app(config)
        built.append(app)
        return app

    yield build
    on_test_database = [a for a in built if a.config["SQLALCHEMY_DATABASE_URI"] == database_url]
    if on_test_database:
        with on_test_database[0].app_context():
            db.session.remove()
            _empty_all_tables(db)
    for app in built:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


class _FreshStateClient(FlaskClient):
    """Each request runs in an app context of its own (its own `g` and database session), as
    in production; the test's session ends its transaction around it to see what it wrote."""

    def open(self, *args, **kwargs):
        from learnhub.extensions import db

        db.session.rollback()
        try:
            with self.application.app_context():
                return super().open(*args, **kwargs)
        finally:
            db.session.rollback()


@pytest.fixture
def client(app):
    app.test_client_class = _FreshStateClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db_session(app):
    from learnhub.extensions import db

    return db.session
