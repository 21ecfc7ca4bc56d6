"""/healthz: is the database answering, is the broker reachable, where rate limits are counted,
is the file store answering, when did beat last run."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select, text

from .extensions import db, limiter
from .notifications.models import WorkerHeartbeat
from .storage import S3Storage, storage
from .types import utcnow

bp = Blueprint("health", __name__)


def database_state() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as error:  # any failure means "down", with the reason
        db.session.rollback()
        return f"down: {type(error).__name__}"


def broker_state() -> str:
    celery = current_app.extensions["celery"]
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=3)
        return "ok"
    except Exception as error:
        return f"down: {type(error).__name__}"


def rate_limit_state() -> str:
    """Where rate limits are counted: Redis, or this process's memory while Redis is out of
    reach (Flask-Limiter's fallback; limits still hold, per process)."""
    if not current_app.config.get("RATELIMIT_ENABLED"):
        return "off"
    if current_app.config.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory"):
        return "memory"
    try:
        reachable = limiter.storage.check()
    except Exception:
        reachable = False
    return "redis" if reachable else "memory (Redis is unreachable)"


def storage_state() -> str:
    """The file store: "local" (this machine's folder), or the object store's bucket answering
    (a HEAD request; uploads and downloads fail while it does not, the rest works on)."""
    try:
        store = storage()
        if isinstance(store, S3Storage):
            store.client.head_bucket(Bucket=store.bucket)
            return "s3: ok"
    except Exception as error:
        return f"s3: down: {type(error).__name__}"
    return "local"


def beat_age_seconds() -> float | None:
    try:
        beat_at = db.session.scalar(
            select(WorkerHeartbeat.beat_at).where(WorkerHeartbeat.name == "beat")
        )
    except Exception:
        db.session.rollback()
        return None
    return round((utcnow() - beat_at).total_seconds(), 1) if beat_at else None


@bp.get("/healthz")
def healthz():
    database = database_state()
    broker = broker_state()
    healthy = database == "ok" and broker == "ok"
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": database,
        "broker": broker,
        "rate_limits": rate_limit_state(),
        "storage": storage_state(),
        "beat_last_run_seconds_ago": beat_age_seconds() if database == "ok" else None,
    }
    return jsonify(body), 200 if healthy else 503
