"""The production topology, whole: two web machines, two workers, one beat.

Started here as separate processes that share nothing but PostgreSQL, Redis and the object
store, as separate machines would: two gunicorn web processes (2 workers each) on different
ports, each with its own instance folder, upload folder and metrics folder; two Celery
workers (prefork); one beat. All run with LEARNHUB_ENV=production (so the production checks
apply), on a fresh PostgreSQL database migrated by the release step (`flask db upgrade`), a
redis-server of the test's own, an S3-compatible server (moto's server mode, in this process)
and a local SMTP server (aiosmtpd).

The test registers one person through each web process, uploads a registered-only guidebook
through one and downloads it through the other, lets the one-hour reminders fall due and checks
that every email arrives exactly once, that a request's id reaches the worker's log of the
email it caused, and that /healthz and /metrics of both web processes (and the worker's) answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from tests import services
from tests.reliability.conftest import _APP_SETTINGS, ROOT, wait_until

pytestmark = [pytest.mark.topology, pytest.mark.worker, pytest.mark.smtp]

BIN = ROOT / ".venv" / "bin"
BUCKET = "learnhub-topology"
SECRET_KEY = "topology-secret-key-0123456789-abcdefghijklmnop"
PDF = b"%PDF-1.4\n% LearnHub topology guidebook\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
#: The session starts this long after the one-hour mark: the reminder falls due then.
REMINDER_LEAD = timedelta(seconds=30)
ORGANISER_PASSWORD = "organiser-password-123"
_CLEARED = (*_APP_SETTINGS, "LEARNHUB_ENV", "LEARNHUB_INSTANCE_PATH", "PROMETHEUS_MULTIPROC_DIR")


class Process:
    def __init__(self, name: str, command: list[str], env: dict, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115  (closed in stop)
        self.popen = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:]) or "(empty log)"

    def check_running(self) -> None:
        if self.popen.poll() is not None:
            pytest.fail(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self._log.close()


class Browser:
    """A person's browser: one set of cookies, used against either web process.

    The web processes set Secure cookies (production) and are reached over plain HTTP on
    127.0.0.1 with `X-Forwarded-Proto: https`, as behind a TLS proxy; requests would not send
    Secure cookies over HTTP, so the cookies are kept and sent here."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def _send(self, method: str, base: str, path: str, **kwargs):
        import requests

        headers = {**_proxy_headers(base), **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(
            method, base + path, headers=headers, timeout=20, allow_redirects=False, **kwargs
        )
        for cookie in response.cookies:
            if cookie.value:
                self.cookies[cookie.name] = cookie.value
            else:
                self.cookies.pop(cookie.name, None)
        return response

    def get(self, base: str, path: str):
        return self._send("GET", base, path)

    def post_form(self, base: str, path: str, form_path: str, data: dict, files=None):
        page = self.get(base, form_path)
        assert page.status_code == 200, f"GET {form_path}: {page.status_code}"
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert token, f"no CSRF token on {form_path}"
        referer = {"Referer": f"https://{_host(base)}{form_path}"}
        data = {**data, "csrf_token": token.group(1)}
        return self._send("POST", base, path, data=data, files=files, headers=referer)


def _host(base: str) -> str:
    return base.removeprefix("http://")


def _proxy_headers(base: str) -> dict:
    return {"X-Forwarded-Proto": "https", "X-Forwarded-Host": _host(base)}


@pytest.fixture
def s3_server():
    import boto3
    from moto.server import ThreadedMotoServer

    port = services._free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="topology",
        aws_secret_access_key="topology-secret",
    )
    client.create_bucket(Bucket=BUCKET)
    yield endpoint, client
    server.stop()


@pytest.fixture
def topology_database(database_url):
    """On a PostgreSQL run (CI), the run's database: the release step finds it migrated, and
    its tables are emptied after the test as after any other. Otherwise a fresh PostgreSQL
    database of its own (dropping a database costs a checkpoint: seconds to tens of seconds)."""
    if database_url.startswith("postgresql"):
        yield database_url.replace("postgresql+psycopg://", "postgresql://")
        _empty_tables(database_url)
        return
    services.require_postgres()
    name = f"learnhub_topology_{os.getpid()}"
    url = services.create_postgres_database(name)
    yield url.replace("postgresql+psycopg://", "postgresql://")
    services.drop_postgres_database(name)


def _empty_tables(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'alembic_version'"
            )
        ]
        quoted = ", ".join(f'"{table}"' for table in tables)
        db.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")


def _environment(tmp_path: Path, name: str, shared: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    instance = tmp_path / name
    instance.mkdir()
    env.update(shared)
    env.update(
        LEARNHUB_INSTANCE_PATH=str(instance),
        UPLOAD_FOLDER=str(instance / "uploads"),
        PROMETHEUS_MULTIPROC_DIR=str(instance / "metrics"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _seed(database_url: str):
    """The programme (its session an hour and REMINDER_LEAD away) and its organiser."""
    from learnhub import create_app
    from tests import factories as f

    app = create_app({"LEARNHUB_ENV": "test", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        programme = f.make_programme(
            title="Cities on two machines",
            sessions=1,
            first_session_in=timedelta(hours=1) + REMINDER_LEAD,
        )
        organiser = f.make_organiser(
            programme, email="organiser@topology.example.org", password=ORGANISER_PASSWORD
        )
        seeded = (programme.slug, organiser.email)
        from learnhub.extensions import db

        db.session.remove()
        db.engine.dispose()
    return seeded


def test_production_topology(tmp_path, smtp_server, s3_server, topology_database):
    if not (BIN / "gunicorn").exists():
        services.skip_or_fail("gunicorn is not installed in .venv")
    redis = services.PrivateRedis(tmp_path)
    if redis.binary is None:
        services.skip_or_fail("redis-server is not installed")
    redis.start()
    started: list[Process] = []
    try:
        _run_topology(tmp_path, smtp_server, s3_server, topology_database, redis.url, started)
    except (AssertionError, pytest.fail.Exception) as error:
        logs = "\n".join(f"--- {p.name} ({p.log_path})\n{p.tail(60)}" for p in started)
        pytest.fail(f"{error}\n\nProcess logs:\n{logs}", pytrace=False)
    finally:
        for process in reversed(started):
            process.stop()
        redis.stop()


def _run_topology(tmp_path, smtp_server, s3_server, database_url, redis_url, started):
    endpoint, s3 = s3_server
    shared = {
        "LEARNHUB_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET_KEY,
        "BASE_URL": "https://learnhub.test",
        "SMTP_URL": smtp_server.url,
        "TRUSTED_PROXIES": "1",
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": endpoint,
        "S3_BUCKET": BUCKET,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "topology",
        "S3_SECRET_ACCESS_KEY": "topology-secret",
        "BEAT_INTERVAL_SECONDS": "2",
    }
    release = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=_environment(tmp_path, "release", shared),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert release.returncode == 0, release.stdout + release.stderr
    webs, worker_metrics_port = _start(tmp_path, shared, started)
    slug, organiser_email = _seed(database_url.replace("postgresql://", "postgresql+psycopg://"))
    seeded_at = time.monotonic()
    request_ids = _register_through_each(webs, slug)
    took = time.monotonic() - seeded_at
    assert took < REMINDER_LEAD.total_seconds(), (
        f"registering took {took:.0f} s: the one-hour instant passed first (overloaded?)"
    )
    _upload_through_one_download_through_the_other(webs, slug, organiser_email, s3, tmp_path)
    _each_email_exactly_once(smtp_server, set(request_ids))
    _healthy_with_metrics(webs, worker_metrics_port)
    _request_ids_reach_the_worker(started, request_ids)


def _start(tmp_path: Path, shared: dict, started: list[Process]) -> tuple[list[str], int]:
    """Two gunicorn web processes, two workers, one beat; returns once all are ready."""
    ports = [services._free_port(), services._free_port()]
    webs = [f"http://127.0.0.1:{port}" for port in ports]
    worker_metrics_port = services._free_port()
    for number, port in enumerate(ports, start=1):
        command = [str(BIN / "gunicorn"), "-c", "python:learnhub.gunicorn_conf"]
        command += ["--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"]
        env = _environment(tmp_path, f"web{number}", shared)
        started.append(Process(f"web{number}", command, env, tmp_path / f"web{number}.log"))
    for number in (1, 2):
        command = [str(BIN / "celery"), "-A", "worker.celery_app", "worker", "--loglevel"]
        command += ["INFO", "--concurrency", "2", "--hostname", f"worker{number}@%h"]
        env = _environment(tmp_path, f"worker{number}", shared)
        if number == 1:
            env["WORKER_METRICS_PORT"] = str(worker_metrics_port)
        started.append(Process(f"worker{number}", command, env, tmp_path / f"worker{number}.log"))
    beat_env = _environment(tmp_path, "beat", shared)
    command = [str(BIN / "celery"), "-A", "worker.celery_app", "beat", "--loglevel", "INFO"]
    command += ["--schedule", str(tmp_path / "beat" / "schedule")]
    started.append(Process("beat", command, beat_env, tmp_path / "beat.log"))
    workers = [p for p in started if p.name.startswith("worker")]

    def all_ready() -> bool:
        for process in started:
            process.check_running()
        return all(" ready." in w.log() for w in workers) and all(
            _answers(base + "/healthz") for base in webs
        )

    def describe() -> str:
        return "\n".join(f"--- {p.name}\n{p.tail(15)}" for p in started)

    wait_until(all_ready, 90, lambda: f"every process to be ready:\n{describe()}")
    return webs, worker_metrics_port


def _register_through_each(webs: list[str], slug: str) -> dict[str, str]:
    """One person registers through each web process; their request ids by address."""
    request_ids = {}
    for number, base in enumerate(webs, start=1):
        email = f"person{number}@topology.example.org"
        form = {"full_name": f"Person {number}", "email": email, "timezone": "Europe/Lisbon"}
        page = f"/programmes/{slug}/register"
        response = Browser().post_form(base, page, page, {**form, "consent": "y"})
        assert response.status_code == 302, response.text[:2000]
        assert response.headers["Location"].endswith(f"/programmes/{slug}/registered")
        request_ids[email] = response.headers["X-Request-ID"]
    return request_ids


def _upload_through_one_download_through_the_other(webs, slug, organiser_email, s3, tmp_path):
    """The organiser signs in on web 1 and uploads a registered-only guidebook there, then
    downloads it through web 2 with the same session; a visitor there is sent to sign in."""
    organiser = Browser()
    credentials = {"email": organiser_email, "password": ORGANISER_PASSWORD}
    signed_in = organiser.post_form(webs[0], "/login/password", "/login", credentials)
    assert signed_in.status_code == 302, signed_in.text[:2000]
    materials = f"/organiser/programmes/{slug}/materials"
    fields = {"title": "Guidebook", "kind": "guidebook", "language": "English"}
    uploaded = organiser.post_form(
        webs[0],
        materials,
        materials,
        {**fields, "visibility": "registered", "module": ""},
        files={"file": ("guidebook.pdf", PDF, "application/pdf")},
    )
    assert uploaded.status_code == 302, uploaded.text[:2000]
    page = organiser.get(webs[0], materials).text
    material_id = re.search(r"/materials/(\d+)/download", page).group(1)
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert len(keys) == 1 and keys[0].endswith(".pdf")
    for number in (1, 2):
        assert list((tmp_path / f"web{number}" / "uploads").glob("*")) == []  # no local disk
    download = f"/materials/{material_id}/download"
    fetched = organiser.get(webs[1], download)
    assert fetched.status_code == 200, fetched.text[:500]
    assert fetched.content == PDF
    assert "attachment" in fetched.headers["Content-Disposition"]
    visitor = Browser().get(webs[1], download)
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]


def _each_email_exactly_once(smtp_server, addresses: set[str]) -> None:
    """Confirmations at once; the one-hour reminders once their instant passes."""
    smtp_server.wait_for(2, where=lambda m: m.kind == "confirmation", timeout=60)
    smtp_server.wait_for(2, where=lambda m: m.kind == "reminder", timeout=90)
    smtp_server.expect_no_more(4, within=6, where=lambda m: set(m.recipients) & addresses)
    per_kind = Counter(
        (recipient, m.kind) for m in smtp_server.messages for recipient in m.recipients
    )
    assert per_kind == Counter(
        {(a, k): 1 for a in addresses for k in ("confirmation", "reminder")}
    ), smtp_server.summary()


def _healthy_with_metrics(webs: list[str], worker_metrics_port: int) -> None:
    """Each web process is healthy and has seen beat; its metrics add up its gunicorn
    workers; the worker serves its own."""
    for base in webs:
        health = _get_json(base + "/healthz")
        assert health["status"] == "ok", health
        assert health["database"] == "ok" and health["broker"] == "ok"
        assert health["rate_limits"] == "redis"
        assert health["storage"] == "s3: ok"
        assert health["beat_last_run_seconds_ago"] is not None
        assert health["beat_last_run_seconds_ago"] < 30
        metrics = _get_text(base + "/metrics")
        assert re.search(
            r'learnhub_http_requests_total\{endpoint="registration.register",method="POST",'
            r'status="302"\} 1\.0',
            metrics,
        ), metrics
        assert 'learnhub_registrations{status="confirmed"} 2.0' in metrics
        assert "learnhub_outbox_backlog 0.0" in metrics
    worker_metrics = _get_text(f"http://127.0.0.1:{worker_metrics_port}/metrics")
    assert "learnhub_beat_lag_seconds" in worker_metrics
    assert re.search(r'learnhub_tasks_total\{[^}]*outcome="success"', worker_metrics), (
        worker_metrics
    )


def _request_ids_reach_the_worker(started: list[Process], request_ids: dict[str, str]) -> None:
    """Every line is JSON; a registration's request id is on the worker's delivery lines."""
    workers = [p for p in started if p.name.startswith("worker")]
    worker_lines = [
        json.loads(line) for w in workers for line in w.log().splitlines() if line.startswith("{")
    ]
    assert worker_lines
    for email, request_id in request_ids.items():
        assert any(
            request_id in (line.get("request_id") or "") and "outbox message" in line["message"]
            for line in worker_lines
        ), f"no worker line carries {request_id} ({email})"
    webs = [p for p in started if p.name.startswith("web")]
    web_lines = [json.loads(line) for p in webs for line in p.log().splitlines()]
    assert {line["request_id"] for line in web_lines} >= set(request_ids.values())


def _answers(url: str) -> bool:
    import requests

    try:
        requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return True


def _get_json(url: str) -> dict:
    import requests

    return requests.get(url, timeout=10, headers={"X-Forwarded-Proto": "https"}).json()


def _get_text(url: str) -> str:
    import requests

    response = requests.get(url, timeout=10, headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200, response.text[:500]
    return response.text
