"""Structured logs: one JSON object a line (LOG_FORMAT=json, production's default), each with
the request id of the request it belongs to.

A request takes its id from a valid `X-Request-ID` header (a proxy's) or makes one, answers
with it in `X-Request-ID`, and logs one `request` line when it ends. Every Celery task it
sends carries the id in the message's headers (`before_task_publish`); the worker sets it
around the task (`task_prerun`), so the lines of a delivery name the request that caused it.
Tasks started by beat get an id of their own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, g, request

_request_id: ContextVar[str | None] = ContextVar("learnhub_request_id", default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
HEADER = "X-Request-ID"
#: The Celery message header that carries the request id into tasks.
TASK_HEADER = "learnhub_request_id"
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

log = logging.getLogger("learnhub.request")


def current_request_id() -> str | None:
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """Log (and send tasks) under `request_id` inside the block (nothing when it is empty)."""
    token = _request_id.set(request_id) if request_id else None
    try:
        yield
    finally:
        if token is not None:
            _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, and
    any `extra=` fields the call gave."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(log_format: str, level: str = "INFO") -> None:
    """Root logging to stderr in the chosen format (idempotent: one LearnHub handler)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_learnhub", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._learnhub = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root.addHandler(handler)
    root.setLevel(level.upper())


def init_app(app: Flask) -> None:
    if app.config.get("LOG_FORMAT") == "json" and not app.testing:
        configure("json", app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _start_request() -> None:
        sent = request.headers.get(HEADER, "")
        g.request_id = sent if _VALID_ID.match(sent) else new_request_id()
        g.request_started = time.perf_counter()
        g.request_id_token = _request_id.set(g.request_id)

    @app.after_request
    def _end_request(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[HEADER] = request_id
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(1000 * (time.perf_counter() - g.request_started), 1),
                },
            )
        return response

    @app.teardown_request
    def _forget(_error=None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            _request_id.reset(token)


# --- Celery -------------------------------------------------------------------------------------


def _publish(headers=None, **_kwargs) -> None:
    request_id = _request_id.get()
    if headers is not None and request_id and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


def _task_started(task=None, **_kwargs) -> None:
    if task is None:
        return
    sent = getattr(task.request, TASK_HEADER, None) or (task.request.headers or {}).get(TASK_HEADER)
    task.request.learnhub_token = _request_id.set(sent or new_request_id())


def _task_ended(task=None, **_kwargs) -> None:
    token = getattr(task.request, "learnhub_token", None) if task is not None else None
    if token is not None:
        _request_id.reset(token)
        task.request.learnhub_token = None


def connect_celery(app: Flask) -> None:
    """Carry request ids through Celery; in JSON mode the worker logs JSON lines too."""
    from celery import signals

    signals.before_task_publish.connect(_publish, weak=False, dispatch_uid="learnhub-rid-pub")
    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="learnhub-rid-start")
    signals.task_postrun.connect(_task_ended, weak=False, dispatch_uid="learnhub-rid-end")
    if app.config.get("LOG_FORMAT") == "json" and not app.testing:
        level = app.config.get("LOG_LEVEL", "INFO")

        def setup(**_kwargs) -> None:
            configure("json", level)

        signals.setup_logging.connect(setup, weak=False, dispatch_uid="learnhub-logging")
