"""/healthz names the database and broker state; 503 when one is down."""

from __future__ import annotations

import pytest

from tests import services


def test_healthy_with_the_sqlalchemy_broker(app_factory, tmp_path):
    app = app_factory(CELERY_BROKER_URL=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
    assert response.json["broker"] == "ok"


def test_unavailable_when_the_broker_is_down(app_factory):
    app = app_factory(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "ok"
    assert response.json["broker"].startswith("down")


def test_unavailable_when_the_database_is_down(app_factory, tmp_path):
    app = app_factory(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
        CELERY_BROKER_URL=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"].startswith("down")


@pytest.mark.redis
def test_healthy_with_redis(app_factory):
    url = services.require_redis()
    app = app_factory(CELERY_BROKER_URL=url)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["broker"] == "ok"
