"""Prometheus metrics (prometheus_client) for the web and the worker.

Counted by each process (and added up over gunicorn's and Celery's worker processes when
PROMETHEUS_MULTIPROC_DIR names an empty folder of the service's own, see docs/DEPLOYMENT.md):

- `learnhub_http_requests_total{method, endpoint, status}` and
  `learnhub_http_request_duration_seconds{method, endpoint}` (endpoint = the route's name, so
  the number of series stays bounded);
- `learnhub_tasks_total{task, outcome}` and `learnhub_task_duration_seconds{task}`.

Read from the database at each scrape (the same figure whichever process answers):

- `learnhub_outbox_backlog` (queued or sending rows) and `learnhub_outbox_oldest_age_seconds`;
- `learnhub_emails_failed` (rows that failed for good, retried by `flask outbox retry-failed`);
- `learnhub_beat_lag_seconds` (seconds since beat's last reminder scan; -1 before the first);
- `learnhub_registrations{status}`.

The web answers at /metrics (with `Authorization: Bearer METRICS_TOKEN` when that is set); the
worker answers on WORKER_METRICS_PORT when it is set.
"""

from __future__ import annotations

import hmac
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from .extensions import db
from .notifications.models import OutboxMessage, WorkerHeartbeat
from .registration.models import REGISTRATION_STATUSES, Registration
from .types import utcnow

#: Metrics counted by this process (a registry of its own: tests build many apps).
LOCAL = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "learnhub_http_requests",
    "HTTP requests answered",
    ["method", "endpoint", "status"],
    registry=LOCAL,
)
REQUEST_SECONDS = Histogram(
    "learnhub_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "endpoint"],
    registry=LOCAL,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TASKS = Counter(
    "learnhub_tasks", "Celery tasks run, by outcome", ["task", "outcome"], registry=LOCAL
)
TASK_SECONDS = Histogram(
    "learnhub_task_duration_seconds",
    "Time a Celery task ran",
    ["task"],
    registry=LOCAL,
    buckets=(0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)

bp = Blueprint("metrics", __name__)


class DatabaseCollector:
    """Figures read from the database when scraped."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        with self.app.app_context():
            try:
                yield from self._figures()
            finally:
                db.session.remove()

    def _figures(self):
        now = utcnow()
        pending = OutboxMessage.status.in_(("queued", "sending"))
        backlog, oldest = db.session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(pending)
        ).one()
        failed = db.session.scalar(select(func.count()).where(OutboxMessage.status == "failed"))
        beat_at = db.session.scalar(
            select(WorkerHeartbeat.beat_at).where(WorkerHeartbeat.name == "beat")
        )
        by_status = dict(
            db.session.execute(
                select(Registration.status, func.count()).group_by(Registration.status)
            ).all()
        )
        yield _gauge("learnhub_outbox_backlog", "Outbox rows waiting to be sent", backlog)
        yield _gauge(
            "learnhub_outbox_oldest_age_seconds",
            "Age of the oldest outbox row waiting to be sent (0 when none waits)",
            (now - oldest).total_seconds() if oldest else 0.0,
        )
        yield _gauge("learnhub_emails_failed", "Outbox rows that failed for good", failed)
        yield _gauge(
            "learnhub_beat_lag_seconds",
            "Seconds since beat last ran its reminder scan (-1: never)",
            (now - beat_at).total_seconds() if beat_at else -1.0,
        )
        registrations = GaugeMetricFamily(
            "learnhub_registrations", "Registrations by status", labels=["status"]
        )
        for status in REGISTRATION_STATUSES:
            registrations.add_metric([status], by_status.get(status, 0))
        yield registrations


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


class _ProcessLocal:
    def collect(self):
        return LOCAL.collect()


def exposition(app: Flask) -> bytes:
    """The text a scrape gets: this service's counters (all its processes) and the figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessLocal())
    registry.register(DatabaseCollector(app))
    return generate_latest(registry)


@bp.get("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            abort(404)
    response = Response(exposition(current_app._get_current_object()), mimetype="text/plain")
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _started() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.endpoint or "unmatched"
            REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
            REQUEST_SECONDS.labels(request.method, endpoint).observe(time.perf_counter() - started)
        return response


# --- the worker ---------------------------------------------------------------------------------


def _task_started(task=None, **_kwargs) -> None:
    if task is not None:
        task.request.learnhub_started = time.perf_counter()


def _task_ended(task=None, state=None, **_kwargs) -> None:
    if task is None:
        return
    started = getattr(task.request, "learnhub_started", None)
    TASKS.labels(task.name, (state or "unknown").lower()).inc()
    if started is not None:
        TASK_SECONDS.labels(task.name).observe(time.perf_counter() - started)


def connect_celery(app: Flask) -> None:
    """Count tasks; serve /metrics from the worker's main process on WORKER_METRICS_PORT."""
    from celery import signals

    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="learnhub-metrics-start")
    signals.task_postrun.connect(_task_ended, weak=False, dispatch_uid="learnhub-metrics-end")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        signals.worker_init.connect(
            _clear_on_start, weak=False, dispatch_uid="learnhub-metrics-clear"
        )
        signals.worker_process_shutdown.connect(
            _mark_dead, weak=False, dispatch_uid="learnhub-metrics-dead"
        )
    port = app.config.get("WORKER_METRICS_PORT")
    if not port:
        return

    def serve(**_kwargs) -> None:
        start_worker_server(app, int(port))

    signals.worker_ready.connect(serve, weak=False, dispatch_uid="learnhub-metrics-serve")


def clear_multiprocess_folder(folder: str | os.PathLike) -> None:
    """Remove the figures files a previous run left (only prometheus_client's *.db files)."""
    from pathlib import Path

    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def _clear_on_start(**_kwargs) -> None:
    clear_multiprocess_folder(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def _mark_dead(**_kwargs) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getpid())


def start_worker_server(app: Flask, port: int) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = exposition(app)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:
            pass

    host = app.config.get("WORKER_METRICS_HOST", "127.0.0.1")
    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
