"""Which real services the tests can reach, and the rule for when they cannot.

Tests that need PostgreSQL, Redis, a worker process, an SMTP server or a browser are skipped
with a reason when the service is missing, unless LEARNHUB_REQUIRE_SERVICES=1 (CI), which turns
every such skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from functools import cache
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get(
    "LEARNHUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("LEARNHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("LEARNHUB_CHROMIUM", "/usr/bin/chromium")


def services_required() -> bool:
    return os.environ.get("LEARNHUB_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"LEARNHUB_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _port_open(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


@cache
def postgres_available() -> bool:
    if not _port_open(POSTGRES_URL, 5432):
        return False
    try:
        import psycopg

        with psycopg.connect(_libpq_url(POSTGRES_URL), connect_timeout=3):
            return True
    except Exception:
        return False


@cache
def redis_available() -> bool:
    if not _port_open(REDIS_URL, 6379):
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except Exception:
        return False


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def require_postgres() -> str:
    if not postgres_available():
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    return POSTGRES_URL


def require_redis() -> str:
    if not redis_available():
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def create_postgres_database(name: str) -> str:
    """A fresh, empty database on the test server; returns its SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that the test stops and starts."""

    def __init__(self, tmp_path) -> None:
        self.binary = shutil.which("redis-server")
        self.port = _free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answering():
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return True
            except OSError:
                return False

        deadline = time.monotonic() + 10
        while not answering():
            if time.monotonic() > deadline:
                raise AssertionError("the private redis-server did not answer within 10 s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of the test's own, to stop and start (the machine's stays untouched)."""
    server = PrivateRedis(tmp_path)
    if server.binary is None:
        skip_or_fail("redis-server is not installed")
    server.start()
    yield server
    server.stop()
