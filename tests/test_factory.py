"""The application factory, settings per mode, and the repository layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from learnhub import create_app
from learnhub.config import ConfigError, load_config
from tests import factories as f

ROOT = Path(__file__).resolve().parents[1]


def test_test_config_is_used(app):
    assert app.testing
    assert app.config["OUTBOX_DISPATCH"] == "none"


def test_platform_folder_does_not_shadow_the_standard_library():
    assert not (ROOT / "platform" / "__init__.py").exists()
    out = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.__file__, platform.system())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "site-packages" not in out and str(ROOT / "platform") not in out.split()[0]
    assert out.split()[1] == "Linux"


def test_development_generates_and_keeps_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_config(tmp_path, "development")
    second = load_config(tmp_path, "development")
    assert len(first.SECRET_KEY) >= 32
    assert first.SECRET_KEY == second.SECRET_KEY
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_development_defaults_to_sqlite_and_the_sqlalchemy_broker(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(tmp_path, "development")
    assert config.SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path / 'learnhub.sqlite'}"
    assert config.CELERY_BROKER_URL == f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    assert config.MAIL_BACKEND == "devmailbox"


def test_redis_url_becomes_the_broker(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/learnhub")
    config = load_config(tmp_path, "development")
    assert config.CELERY_BROKER_URL == "redis://127.0.0.1:6379/3"
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db/learnhub"


def test_production_refuses_to_start_and_names_every_problem(tmp_path, monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SMTP_URL", "SMTP_HOST", "BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path, "production")
    message = str(raised.value)
    for setting in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SMTP_URL", "BASE_URL"):
        assert setting in message


def test_production_refuses_unsafe_values(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.sqlite")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SMTP_URL", "smtp://mail.example.org:25")
    monkeypatch.setenv("BASE_URL", "http://learnhub.example.org")
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path, "production")
    message = str(raised.value)
    assert "SECRET_KEY is too short" in message
    assert "must point to PostgreSQL" in message
    assert "https" in message


def test_production_starts_with_safe_settings_and_has_no_dev_mailbox(tmp_path, monkeypatch):
    f.set_production_environment(monkeypatch)
    app = create_app(load_config(tmp_path, "production"))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert "dev_mailbox" not in app.blueprints
    assert app.test_client().get("/dev/mailbox/").status_code == 404


def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="LEARNHUB_ENV"):
        load_config(tmp_path, "staging")


def test_the_wsgi_entry_point_freezes_what_start_up_made(tmp_path):
    """gunicorn's workers import wsgi.py: the start-up objects are out of the collector's
    reach there, so a full collection does not pause a request to scan them."""
    script = "import gc, wsgi; print(gc.get_freeze_count())"
    env = {
        "PATH": "/usr/bin:/bin",
        "LEARNHUB_ENV": "development",
        "LEARNHUB_INSTANCE_PATH": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[-1]) > 50_000
