"""Handing committed outbox rows to the worker (ARCHITECTURE.md rule 3).

The functions that write outbox rows name them with `after_commit(ids)`; `init_app` (called by
create_app) registers the one thing a commit triggers: those ids go to the process's hand-over
thread, which gathers the ids of concurrent commits and gives them to the broker together
(`dispatch`). No answer waits for the broker, and a broker that is down fails nothing: the rows
stay queued and the minute sweep delivers them, as it does the ids of a process that died
before handing them over.

Why a thread rather than a broker message per commit: on the embedded SQLite broker each
message cost the web process about 5 ms of CPU (py-spy under bench/registration.py), a tenth of
a registration's; gathered, a busy process sends a message or two a second however many rows
it wrote.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sqlite3
import threading
import time

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .. import logs
from ..extensions import db

log = logging.getLogger(__name__)
_KEY = "learnhub_new_outbox_ids"

#: Up to this many new rows get a delivery task each; more (a busy second of registrations,
#: reminders, announcements) are drained in batches by drain tasks, so a hand-over costs one
#: or two broker messages however many rows it carries.
SINGLE_TASK_LIMIT = 1
#: From this many rows on, two drain tasks share the work side by side (their claims never
#: overlap); fewer are drained by one.
SIDE_BY_SIDE_FROM = 100
#: How long the hand-over thread gathers ids before handing them over together.
LINGER_SECONDS = 0.1
#: Under load, a process hands over at most once in this long; a lone commit after a quiet
#: spell still goes after LINGER_SECONDS.
MIN_SECONDS_BETWEEN_HAND_OVERS = 1.0
#: An idle hand-over thread ends after this; the next committed id starts a new one.
IDLE_SECONDS = 5.0
#: Tries at declaring the embedded broker's queue (each on a new channel).
DECLARE_ATTEMPTS = 4


def init_app(app: Flask) -> None:
    """Hand the outbox rows a transaction wrote to the worker once it commits."""
    for name, listener in (("after_commit", _hand_over), ("after_rollback", _forget)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def after_commit(ids: list[int]) -> None:
    """Hand these new outbox rows to the worker when the current transaction commits."""
    if ids:
        db.session().info.setdefault(_KEY, []).extend(ids)


def _hand_over(session: Session) -> None:
    ids = session.info.pop(_KEY, None)
    if ids and has_app_context():
        hand_over(ids)


def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)


def hand_over(ids: list[int]) -> None:
    """Give committed ids to the process's hand-over thread."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    if app.config["OUTBOX_DISPATCH"] != "celery":
        return
    handover = app.extensions.get("outbox_hand_over")
    if handover is None:
        handover = app.extensions.setdefault("outbox_hand_over", HandOver(app))
    handover.add(ids, logs.current_request_id())


class HandOver:
    """The process's hand-over thread for one app (started on first use, after a fork too)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.wakeup = threading.Event()
        self.pending: list[int] = []
        #: The requests whose commits wrote the pending ids (logs.py: their tasks carry them).
        self.request_ids: list[str] = []
        self.thread: threading.Thread | None = None
        self.pid: int | None = None
        self.last_hand_over = float("-inf")
        atexit.register(self.flush)

    def add(self, ids: list[int], request_id: str | None = None) -> None:
        with self.lock:
            self.pending.extend(ids)
            if request_id and request_id not in self.request_ids:
                self.request_ids.append(request_id)
            if self.thread is None or self.pid != os.getpid():
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self._run, name="outbox-hand-over")
                self.thread.daemon = True
                self.thread.start()
        self.wakeup.set()

    def _run(self) -> None:
        while True:
            if not self.wakeup.wait(IDLE_SECONDS):
                with self.lock:
                    if not self.pending:
                        self.thread = None
                        return
            next_allowed = self.last_hand_over + MIN_SECONDS_BETWEEN_HAND_OVERS
            time.sleep(max(LINGER_SECONDS, next_allowed - time.monotonic()))
            started = time.monotonic()
            if self.flush():
                self.last_hand_over = started

    def flush(self) -> bool:
        """Hand over every waiting id now (also at exit); False when there was none."""
        with self.lock:
            self.wakeup.clear()
            ids, self.pending = self.pending, []
            request_ids, self.request_ids = self.request_ids, []
        if ids:
            with self.app.app_context(), logs.bound_request_id(",".join(request_ids[:8])):
                dispatch(ids)
        return bool(ids)


def dispatch(ids: list[int]) -> None:
    """Hand outbox rows to the worker now; failures are logged, the sweep catches up."""
    if not ids or current_app.config["OUTBOX_DISPATCH"] != "celery":
        return
    celery = current_app.extensions["celery"]
    try:
        _declare_queue_once(celery)
        with celery.producer_or_acquire() as producer:
            if len(ids) <= SINGLE_TASK_LIMIT:
                for outbox_id in ids:
                    celery.send_task(
                        "notifications.deliver", args=[outbox_id], producer=producer, retry=False
                    )
            else:
                for _ in range(2 if len(ids) >= SIDE_BY_SIDE_FROM else 1):
                    celery.send_task("notifications.drain", producer=producer, retry=False)
    except Exception as error:  # the broker being down must never fail the request
        log.warning("outbox: could not hand %d message(s) to the broker: %s", len(ids), error)


def hand_over_announcement(announcement_id: int) -> None:
    """Ask the worker to write a sent announcement's emails now (called after the commit that
    queued it; the sweep writes any a broker that is down did not take)."""
    if current_app.config["OUTBOX_DISPATCH"] != "celery":
        return
    celery = current_app.extensions["celery"]
    try:
        _declare_queue_once(celery)
        celery.send_task("notifications.write_announcement", args=[announcement_id], retry=False)
    except Exception as error:  # the broker being down must never fail the request
        log.warning("announcement %s not handed to the broker: %s", announcement_id, error)


#: (process id, broker URL) pairs whose queue this process has declared.
_DECLARED: set[tuple[int, str]] = set()


def _declare_queue_once(celery) -> None:
    """Declare the task queue before the process's first hand-over, tolerating a declaration
    by another process at the same moment.

    kombu's SQL transport (the embedded SQLite broker) creates its tables and queue row on
    first use in each process, guarded by a lock of that process only: two web processes
    handing over their first rows together made one fail (`UNIQUE constraint failed:
    kombu_queue.name`, or `table kombu_message already exists`). A failed declaration is made
    again on a new channel, which finds what the other process wrote. Redis needs none.

    The embedded broker's file is also put in WAL mode, and this process's connections to it
    commit without waiting for the disk (as the app's own database does): in the default
    rollback-journal mode each message cost about 1.4 ms of CPU in its commit alone."""
    url = celery.conf.broker_url or ""
    key = (os.getpid(), url)
    if key in _DECLARED:
        return
    if url.startswith("sqla+"):
        for attempt in range(DECLARE_ATTEMPTS):
            try:
                with celery.connection_for_write() as connection:
                    channel = connection.default_channel
                    channel.queue_declare(celery.conf.task_default_queue)
                    if url.startswith("sqla+sqlite"):
                        _use_wal(channel.session.get_bind())
                break
            except Exception:  # another process was declaring at the same moment
                if attempt == DECLARE_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
    _DECLARED.add(key)


_WAL_ENGINES: set[Engine] = set()


def _use_wal(engine: Engine) -> None:
    def pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # Another connection holding the file keeps its journal mode until a later connect.
        with contextlib.suppress(sqlite3.OperationalError):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if engine not in _WAL_ENGINES:
        _WAL_ENGINES.add(engine)
        event.listen(engine, "connect", pragmas)
        engine.dispose()  # connections opened before reconnect with the pragmas
