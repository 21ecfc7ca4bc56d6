"""Operations: /metrics (names and values after known activity), request ids and JSON log
lines, and the `flask` commands settings check, outbox retry-failed / purge-failed and
retention apply (dry run changes nothing; the real run keeps the statistics and no personal
data)."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from learnhub import logs
from learnhub.accounts.models import User
from learnhub.attendance.models import Attendance
from learnhub.extensions import db
from learnhub.learning.models import Certificate
from learnhub.notifications.models import OutboxMessage, WorkerHeartbeat
from learnhub.registration.models import Registration, RegistrationAnswer
from learnhub.types import utcnow
from tests import factories as f

outbox = f.make_outbox_message


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_after_known_activity(client, app):
    programme = f.make_programme()
    for _ in range(2):
        f.make_registration(programme)
    f.make_registration(programme, status="waitlisted")
    now = utcnow()
    outbox(created_at=now - timedelta(seconds=300))
    outbox(created_at=now - timedelta(seconds=20))
    outbox(status="failed")
    outbox(status="sent")
    f.save(WorkerHeartbeat(name="beat", beat_at=now - timedelta(seconds=42)))
    before = scrape(client)
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    after = scrape(client)

    def grew(name: str, **labels) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    index = {"method": "GET", "endpoint": "catalogue.index", "status": "200"}
    assert grew("learnhub_http_requests_total", **index) == 3
    assert grew("learnhub_http_requests_total", **{**index, "endpoint": "unmatched"}) == 0
    unmatched = {"method": "GET", "endpoint": "unmatched", "status": "404"}
    assert grew("learnhub_http_requests_total", **unmatched) == 1
    latency = {"method": "GET", "endpoint": "catalogue.index"}
    assert grew("learnhub_http_request_duration_seconds_count", **latency) == 3
    assert grew("learnhub_http_request_duration_seconds_sum", **latency) > 0
    assert after[("learnhub_outbox_backlog", ())] == 2
    assert 300 <= after[("learnhub_outbox_oldest_age_seconds", ())] < 330
    assert after[("learnhub_emails_failed", ())] == 1
    assert 42 <= after[("learnhub_beat_lag_seconds", ())] < 70
    assert after[("learnhub_registrations", (("status", "confirmed"),))] == 2
    assert after[("learnhub_registrations", (("status", "waitlisted"),))] == 1
    assert after[("learnhub_registrations", (("status", "cancelled"),))] == 0


def test_a_refused_request_is_counted_and_carries_a_request_id(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    data = {"email": "nobody@example.org", "password": "wrong-password"}
    before = scrape(client)
    answers = [client.post("/login/password", data=data) for _ in range(11)]
    assert answers[-1].status_code == 429
    assert re.fullmatch(r"[0-9a-f]{32}", answers[-1].headers["X-Request-ID"])
    key = (
        "learnhub_http_requests_total",
        (("endpoint", "accounts.password_login"), ("method", "POST"), ("status", "429")),
    )
    assert scrape(client).get(key, 0) - before.get(key, 0) == 1


def test_metrics_before_beat_ever_ran_and_with_an_empty_outbox(client, app):
    samples = scrape(client)
    assert samples[("learnhub_beat_lag_seconds", ())] == -1
    assert samples[("learnhub_outbox_backlog", ())] == 0
    assert samples[("learnhub_outbox_oldest_age_seconds", ())] == 0


def test_task_metrics_count_by_outcome():
    from learnhub import metrics

    class Request:
        pass

    class Task:
        name = "notifications.test_task"
        request = Request()

    def value(outcome: str) -> float:
        return metrics.TASKS.labels(Task.name, outcome)._value.get()

    before = value("success")
    metrics._task_started(task=Task)
    metrics._task_ended(task=Task, state="SUCCESS")
    assert value("success") == before + 1


def test_a_metrics_token_hides_the_endpoint_from_everyone_without_it(app_factory):
    app = app_factory(METRICS_TOKEN="s3cret-token-for-metrics")
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token-for-metrics"})
    assert response.status_code == 200
    assert b"learnhub_outbox_backlog" in response.data


# --- request ids and JSON lines ----------------------------------------------------------------


def test_each_response_carries_a_request_id_and_keeps_a_sensible_one_it_was_sent(client):
    made = client.get("/").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/").headers["X-Request-ID"] != made
    sent = client.get("/", headers={"X-Request-ID": "edge-1234abcd"})
    assert sent.headers["X-Request-ID"] == "edge-1234abcd"
    hostile = client.get("/", headers={"X-Request-ID": 'x" {"level":"fake"}'})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["X-Request-ID"])


def test_log_lines_are_json_with_the_request_id(client, app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    logger = logging.getLogger("learnhub.request")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        response = client.get("/", headers={"X-Request-ID": "trace-abcdef12"})
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    request_line = next(line for line in lines if line["message"] == "request")
    assert response.headers["X-Request-ID"] == "trace-abcdef12"
    assert request_line["request_id"] == "trace-abcdef12"
    assert request_line["method"] == "GET" and request_line["path"] == "/"
    assert request_line["status"] == 200 and request_line["duration_ms"] >= 0
    assert request_line["level"] == "INFO" and request_line["time"].endswith("+00:00")


def test_the_request_id_travels_with_the_tasks_a_request_sends():
    headers: dict = {}
    with logs.bound_request_id("req-0001abcd"):
        logs._publish(headers=headers)
    assert headers == {logs.TASK_HEADER: "req-0001abcd"}

    class Request:
        learnhub_request_id = "req-0001abcd"
        headers = None

    class Task:
        request = Request()

    assert logs.current_request_id() is None
    logs._task_started(task=Task)
    assert logs.current_request_id() == "req-0001abcd"
    logs._task_ended(task=Task)
    assert logs.current_request_id() is None


# --- flask settings check ----------------------------------------------------------------------


def test_settings_check_names_each_production_problem(app, monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SMTP_URL", "BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    result = app.test_cli_runner().invoke(args=["settings", "check"])
    assert result.exit_code == 1
    assert "- SECRET_KEY is not set" in result.output
    assert "- S3_BUCKET is not set" in result.output
    assert "problem(s) with the production settings" in result.output


def test_settings_check_passes_on_complete_settings(app, monkeypatch):
    f.set_production_environment(monkeypatch)
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_BUCKET", "learnhub-files")
    result = app.test_cli_runner().invoke(args=["settings", "check"])
    assert result.exit_code == 0, result.output
    assert "The production settings are complete." in result.output


# --- flask outbox retry-failed / purge-failed ---------------------------------------------------


def test_retry_failed_queues_failed_messages_again(app, runner):
    failed_reminder = outbox(status="failed", attempts=5, last_error="550 no")
    failed_other = outbox(status="failed", kind="confirmation", attempts=5)
    sent = outbox(status="sent")
    result = runner.invoke(args=["outbox", "retry-failed", "--kind", "reminder"])
    assert result.exit_code == 0, result.output
    assert "1 failed message(s) queued again." in result.output
    db.session.expire_all()
    assert (failed_reminder.status, failed_reminder.attempts) == ("queued", 0)
    assert failed_other.status == "failed" and sent.status == "sent"
    result = runner.invoke(args=["outbox", "retry-failed"])
    assert "1 failed message(s) queued again." in result.output
    assert "No failed message" in runner.invoke(args=["outbox", "retry-failed"]).output


def test_purge_failed_deletes_old_failed_messages_only(app, runner):
    old = utcnow() - timedelta(days=40)
    outbox(status="failed", created_at=old)
    recent_failed = outbox(status="failed")
    old_sent = outbox(status="sent", created_at=old)
    dry = runner.invoke(args=["outbox", "purge-failed", "--dry-run"])
    assert "1 failed message(s) would be deleted." in dry.output
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 3
    result = runner.invoke(args=["outbox", "purge-failed", "--older-than-days", "30"])
    assert result.exit_code == 0, result.output
    assert "1 failed message(s) deleted." in result.output
    db.session.rollback()
    remaining = set(db.session.scalars(select(OutboxMessage.id)))
    assert remaining == {recent_failed.id, old_sent.id}


# --- flask retention apply ---------------------------------------------------------------------


@pytest.fixture
def finished_and_current():
    finished = f.past_programme(sessions=2, title="Finished course")
    current = f.make_programme(title="Current course")
    question = f.make_question(finished, label="Why do you join?")
    only_finished = f.early_registration(
        finished, f.make_user(full_name="Ada Finished"), answers={question: "My city floods"}
    )
    in_both = f.early_registration(finished, f.make_user(full_name="Bea Both"))
    f.make_registration(current, in_both.user)
    cancelled = f.early_registration(finished, status="cancelled")
    for session in finished.sessions:
        f.make_attendance(session, only_finished)
        f.make_attendance(session, in_both, status="absent")
    organiser = f.make_organiser(finished)
    f.save(
        Certificate(
            code="CERT-RET-1",
            registration_id=only_finished.id,
            programme_id=finished.id,
            holder_name="Ada Finished",
            programme_title=finished.title,
            minutes=180,
            source="rule",
        )
    )
    outbox(registration_id=only_finished.id, to_address=only_finished.user.email)
    return {
        "finished": finished,
        "current": current,
        "only_finished": only_finished.user,
        "in_both": in_both.user,
        "cancelled": cancelled.user,
        "organiser": organiser,
    }


def _statistics(programme_id: int) -> dict:
    db.session.rollback()
    statuses = db.session.execute(
        select(Registration.status, func.count())
        .where(Registration.programme_id == programme_id)
        .group_by(Registration.status)
    ).all()
    attendance = db.session.execute(
        select(Attendance.status, func.count())
        .join(Registration, Registration.id == Attendance.registration_id)
        .where(Registration.programme_id == programme_id)
        .group_by(Attendance.status)
    ).all()
    certificates = db.session.execute(select(Certificate.code, Certificate.minutes)).all()
    return {
        "registrations": sorted(statuses),
        "attendance": sorted(attendance),
        "certificates": sorted(certificates),
    }


def _personal(users: list[User]) -> list[tuple]:
    db.session.rollback()
    people = db.session.execute(
        select(User.email, User.full_name, User.city).where(User.id.in_([u.id for u in users]))
    ).all()
    answers = db.session.scalars(select(RegistrationAnswer.value)).all()
    addresses = db.session.scalars(select(OutboxMessage.to_address)).all()
    names = db.session.scalars(select(Certificate.holder_name)).all()
    return sorted(people) + sorted(answers) + sorted(addresses) + sorted(names)


def test_retention_dry_run_changes_nothing(app, runner, finished_and_current):
    people = [finished_and_current[k] for k in ("only_finished", "in_both", "cancelled")]
    statistics = _statistics(finished_and_current["finished"].id)
    personal = _personal(people)
    result = runner.invoke(args=["retention", "apply", "--days", "3", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "ended before" in result.output and ": 1" in result.output
    assert "1 registration answers would be removed" in result.output
    assert "2 participant accounts (anonymised) would be removed" in result.output
    assert "Dry run: nothing was changed." in result.output
    assert _statistics(finished_and_current["finished"].id) == statistics
    assert _personal(people) == personal


def test_retention_removes_personal_data_and_keeps_statistics(app, runner, finished_and_current):
    finished = finished_and_current["finished"]
    statistics = _statistics(finished.id)
    result = runner.invoke(args=["retention", "apply", "--days", "3"])
    assert result.exit_code == 0, result.output
    assert "were removed" in result.output
    assert _statistics(finished.id) == statistics
    db.session.rollback()
    for key in ("only_finished", "cancelled"):
        user = db.session.get(User, finished_and_current[key].id)
        assert user.email.endswith("@deleted.invalid")
        assert user.full_name.startswith("Deleted participant")
        assert user.deleted_at is not None and user.password_hash is None
    kept = db.session.get(User, finished_and_current["in_both"].id)
    assert kept.full_name == "Bea Both" and kept.deleted_at is None  # still in a course
    assert db.session.get(User, finished_and_current["organiser"].id).deleted_at is None
    assert db.session.scalars(select(RegistrationAnswer)).all() == []
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert db.session.scalars(select(Certificate.holder_name)).all() == [
        f"Deleted participant {finished_and_current['only_finished'].id}"
    ]
    again = runner.invoke(args=["retention", "apply", "--days", "3"])
    assert "0 participant accounts (anonymised) were removed" in again.output


def test_retention_keeps_programmes_within_the_period(app, runner, finished_and_current):
    result = runner.invoke(args=["retention", "apply"])  # DATA_RETENTION_DAYS: two years
    assert result.exit_code == 0, result.output
    assert ": 0" in result.output
    db.session.rollback()
    assert db.session.get(User, finished_and_current["only_finished"].id).deleted_at is None
