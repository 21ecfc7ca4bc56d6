"""A real Celery worker process (with embedded beat) delivering to a real SMTP server (aiosmtpd).

Fixtures:

- `smtp_server`: an aiosmtpd server on 127.0.0.1 that records every message it receives
  (tests using it carry `@pytest.mark.smtp`).
- `broker`: Redis db 15 (flushed) when Redis is reachable, otherwise (with a warning) the SQLite
  kombu transport in a temporary file; with LEARNHUB_REQUIRE_SERVICES=1 a missing Redis fails.
  LEARNHUB_TEST_BROKER=sqlite forces the SQLite transport.
- `app` (overrides the root fixture): the test's own app, sharing the worker's broker so that new
  outbox rows are handed over after commit. Parametrize `outbox_dispatch` to change how.
- `worker_process`: a factory that starts `celery -A worker.celery_app worker --beat` on the
  test database, the SMTP server and the broker (tests using it carry `@pytest.mark.worker`).

When a test fails, its report gains the worker's log tail, what the SMTP server received and the
outbox rows. Helpers for the tests: `wait_until`, `outbox_rows`, `describe_outbox`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import select

from learnhub.devrun import worker_command
from learnhub.types import utcnow
from tests import services

ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"
#: Seconds between beat's reminder scans and outbox sweeps in the worker under test.
BEAT_INTERVAL_SECONDS = 2
#: Seconds the worker gets to stop after SIGTERM before the whole group is killed.
STOP_GRACE_SECONDS = 10
#: Longest single sleep in any polling loop.
POLL_SECONDS = 0.2

#: Settings the worker must not inherit from the test runner's environment.
_APP_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SMTP_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "MAIL_BACKEND",
    "MAIL_FROM",
    "OUTBOX_DISPATCH",
    "SECRET_KEY",
    "BASE_URL",
    "UPLOAD_FOLDER",
    "BEAT_INTERVAL_SECONDS",
    "STORAGE_BACKEND",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_PREFIX",
    "S3_DOWNLOADS",
    "LOG_FORMAT",
    "METRICS_TOKEN",
    "WORKER_METRICS_PORT",
    "PROMETHEUS_MULTIPROC_DIR",
)

_WORKERS = pytest.StashKey[list]()
_SMTP = pytest.StashKey[object]()


def _require_marker(request: pytest.FixtureRequest, marker: str, fixture: str) -> None:
    if request.node.get_closest_marker(marker) is None:
        pytest.fail(
            f"{request.node.nodeid} uses `{fixture}` and must carry @pytest.mark.{marker}",
            pytrace=False,
        )


def wait_until(
    condition: Callable[[], object], timeout: float, describe: str | Callable[[], str]
) -> object:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = describe() if callable(describe) else describe
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {detail}", pytrace=False)
        time.sleep(POLL_SECONDS)


def outbox_rows(**filters) -> list:
    """Outbox rows as committed now: a new transaction sees what the worker wrote. (On SQLite it
    also keeps the test's session from holding a stale read that it could not turn into a write.)
    """
    from learnhub.extensions import db
    from learnhub.notifications.models import OutboxMessage

    db.session.rollback()
    return list(
        db.session.scalars(select(OutboxMessage).filter_by(**filters).order_by(OutboxMessage.id))
    )


def describe_outbox() -> str:
    rows = [
        f"#{r.id} {r.kind} to={r.to_address} status={r.status} attempts={r.attempts} "
        f"next_attempt_at={r.next_attempt_at:%H:%M:%S} last_error={r.last_error!r}"
        for r in outbox_rows()
    ]
    return "\n".join(rows) or "(the outbox is empty)"


# --- SMTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the SMTP server received it."""

    mail_from: str
    recipients: tuple[str, ...]
    message: EmailMessage
    received_at: datetime

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def kind(self) -> str | None:
        value = self.message["X-LearnHub-Kind"]
        return str(value) if value is not None else None


class RecordingHandler:
    """aiosmtpd handler: keeps every message; readers wait on a condition, never on sleeps."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._messages: list[ReceivedMessage] = []
        #: Until this monotonic instant every message is refused with `refuse_reply`.
        self.refuse_until = 0.0
        self.refuse_reply = "421 4.3.2 Service not available, try again later"
        self.refused = 0
        #: Recipients answered with a permanent 550.
        self.unknown_recipients: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.unknown_recipients:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if time.monotonic() < self.refuse_until:
            with self._changed:
                self.refused += 1
            return self.refuse_reply
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        received = ReceivedMessage(
            mail_from=envelope.mail_from,
            recipients=tuple(envelope.rcpt_tos),
            message=parsed,
            received_at=utcnow(),
        )
        with self._changed:
            self._messages.append(received)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._changed:
            return list(self._messages)

    def wait_for(
        self,
        count: int = 1,
        *,
        where: Callable[[ReceivedMessage], bool] = lambda _m: True,
        timeout: float = 30,
    ) -> list[ReceivedMessage]:
        """The matching messages once there are at least `count`; fails at the deadline."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matching = [m for m in self._messages if where(m)]
                if len(matching) >= count:
                    return matching
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(min(left, POLL_SECONDS))
        pytest.fail(
            f"timed out after {timeout:.0f} s: {len(matching)} of {count} expected message(s) "
            f"arrived\n{self.summary()}",
            pytrace=False,
        )

    def expect_no_more(
        self,
        count: int,
        *,
        within: float,
        where: Callable[[ReceivedMessage], bool] = lambda _m: True,
    ) -> list[ReceivedMessage]:
        """Watch for `within` seconds; fail as soon as more than `count` messages match."""
        deadline = time.monotonic() + within
        with self._changed:
            while True:
                matching = [m for m in self._messages if where(m)]
                if len(matching) > count:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    return matching
                self._changed.wait(min(left, POLL_SECONDS))
        pytest.fail(
            f"expected no more than {count} message(s), {len(matching)} arrived\n{self.summary()}",
            pytrace=False,
        )

    def summary(self) -> str:
        lines = [
            f"{m.received_at:%H:%M:%S.%f} to={','.join(m.recipients)} kind={m.kind} "
            f"subject={m.subject!r}"
            for m in self.messages
        ]
        return "\n".join(lines) or "(no message received)"


@dataclass
class SMTPServer:
    host: str
    port: int
    handler: RecordingHandler

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self.handler.messages

    def wait_for(self, count: int = 1, **kwargs) -> list[ReceivedMessage]:
        return self.handler.wait_for(count, **kwargs)

    def expect_no_more(self, count: int, **kwargs) -> list[ReceivedMessage]:
        return self.handler.expect_no_more(count, **kwargs)

    def summary(self) -> str:
        return self.handler.summary()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(request) -> Iterator[SMTPServer]:
    _require_marker(request, "smtp", "smtp_server")
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        services.skip_or_fail("aiosmtpd is not installed")
    handler = RecordingHandler()
    for attempt in range(3):
        port = _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        try:
            controller.start()
            break
        except Exception:
            if attempt == 2:
                raise
    server = SMTPServer("127.0.0.1", port, handler)
    request.node.stash[_SMTP] = server
    yield server
    controller.stop()


# --- Broker and the test's app ------------------------------------------------------------------


@dataclass(frozen=True)
class Broker:
    kind: str  # "redis" or "sqlite"
    url: str

    def pending(self) -> int:
        """Messages waiting in the default queue (nothing consumed them yet)."""
        if self.kind == "redis":
            import redis

            with redis.Redis.from_url(self.url) as client:
                return int(client.llen("celery"))
        import sqlite3

        path = self.url.removeprefix("sqla+sqlite:///")
        if not Path(path).exists():
            return 0
        with sqlite3.connect(path) as connection:
            exists = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kombu_message'"
            ).fetchone()
            if not exists:
                return 0
            return connection.execute(
                "SELECT count(*) FROM kombu_message WHERE visible = 1"
            ).fetchone()[0]


def _flush_redis(url: str) -> None:
    import redis

    with redis.Redis.from_url(url) as client:
        client.flushdb()


@pytest.fixture
def broker(tmp_path) -> Iterator[Broker]:
    forced_sqlite = os.environ.get("LEARNHUB_TEST_BROKER") == "sqlite"
    if not forced_sqlite and (services.redis_available() or services.services_required()):
        url = services.require_redis()
        _flush_redis(url)
        yield Broker("redis", url)
        _flush_redis(url)
        return
    warnings.warn(
        "Redis is not reachable (or LEARNHUB_TEST_BROKER=sqlite): the worker tests use the "
        "SQLite kombu transport as their broker",
        stacklevel=1,
    )
    yield Broker("sqlite", f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")


@pytest.fixture
def outbox_dispatch() -> str:
    """How the test's app hands new outbox rows over; parametrize with "none" to hand nothing."""
    return "celery"


@pytest.fixture
def app(app_factory, broker, outbox_dispatch):
    app = app_factory(OUTBOX_DISPATCH=outbox_dispatch, CELERY_BROKER_URL=broker.url)
    celery = app.extensions["celery"]
    # create_app applies overrides before celery_init_app reads CELERY_BROKER_URL; if that order
    # ever changes, the test's app would hand rows to a broker the worker never reads.
    assert celery.conf.broker_url == broker.url, (
        f"the Celery app ignored the CELERY_BROKER_URL override: {celery.conf.broker_url}"
    )
    with app.app_context():
        yield app
    celery.close()


# --- The worker ---------------------------------------------------------------------------------


class WorkerProcess:
    def __init__(self, popen: subprocess.Popen, log_path: Path, log_file) -> None:
        self.popen = popen
        self.log_path = log_path
        self._log_file = log_file

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.log().splitlines()[-lines:]) or "(empty log)"

    def exited(self) -> bool:
        """Whether the worker has exited, without reaping it: while its process is not reaped
        its id, which is also the process group's id, cannot be given to anyone else."""
        if self.popen.returncode is not None:
            return True
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        return os.waitid(os.P_PID, self.popen.pid, flags) is not None

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            if self.exited():
                pytest.fail(f"the worker exited before it was ready:\n{self.tail()}", pytrace=False)
            return " ready." in self.log()

        wait_until(ready, timeout, lambda: f"the worker to be ready:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL to the whole process group, as a crash or an OOM kill would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        wait_until(self.exited, 10, "the killed worker to exit")

    def stop(self) -> None:
        """SIGTERM to the whole process group (warm shutdown), SIGKILL after the grace period."""
        try:
            if self.popen.returncode is not None:
                return  # already reaped: its group id may belong to someone else by now
            if not self.exited():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGTERM)
                deadline = time.monotonic() + STOP_GRACE_SECONDS
                while not self.exited() and time.monotonic() < deadline:
                    time.sleep(0.1)
            # Whatever is left of the group (embedded beat, a stuck child) goes now.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)
        finally:
            self._log_file.close()


@pytest.fixture
def worker_process(request, app, database_url, smtp_server, broker, tmp_path):
    """Starts workers on demand: `worker = worker_process()` returns once it is ready."""
    _require_marker(request, "worker", "worker_process")
    if not CELERY.exists():
        services.skip_or_fail(f"{CELERY} is not installed")
    started: list[WorkerProcess] = []
    request.node.stash[_WORKERS] = started

    def start(*, ready_timeout: float = 60, **settings: str) -> WorkerProcess:
        number = len(started) + 1
        instance = Path(tempfile.mkdtemp(prefix=f"worker{number}-instance-", dir=tmp_path))
        env = {k: v for k, v in os.environ.items() if k not in _APP_SETTINGS}
        env.update(
            LEARNHUB_ENV="development",
            LEARNHUB_INSTANCE_PATH=str(instance),
            DATABASE_URL=database_url,
            SMTP_URL=smtp_server.url,
            BEAT_INTERVAL_SECONDS=str(BEAT_INTERVAL_SECONDS),
            BASE_URL="http://127.0.0.1:5000",
            PYTHONUNBUFFERED="1",
        )
        env.update(settings)
        if broker.kind == "redis":
            env["REDIS_URL"] = broker.url
        else:
            env["CELERY_BROKER_URL"] = broker.url
        log_path = tmp_path / f"worker{number}.log"
        log_file = open(log_path, "wb")  # noqa: SIM115  (closed by WorkerProcess.stop)
        popen = subprocess.Popen(
            worker_command(CELERY),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = WorkerProcess(popen, log_path, log_file)
        started.append(worker)
        worker.wait_ready(ready_timeout)
        return worker

    yield start
    for worker in reversed(started):
        worker.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for number, worker in enumerate(item.stash.get(_WORKERS, []), start=1):
            report.sections.append((f"worker {number} log tail ({worker.log_path})", worker.tail()))
        server = item.stash.get(_SMTP, None)
        if server is not None:
            report.sections.append(("SMTP server received", server.summary()))
        if item.stash.get(_WORKERS, None) and call.when == "call":
            try:
                outbox = describe_outbox()
            except Exception as error:  # a report must never break on a broken database
                outbox = f"(could not read the outbox: {error})"
            report.sections.append(("outbox rows", outbox))
    return report
