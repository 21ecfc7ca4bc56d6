"""Reminder delivery throughput and the planner's cost at scale (PostgreSQL and Redis).

Run: .venv/bin/python bench/reminders.py [REGISTRANTS]   (default 10000)

1. REGISTRANTS confirmed registrants of one session whose 1-hour reminder becomes due a few
   seconds after the start; ONE real Celery worker process (embedded beat, 1 s interval) plans
   and delivers them to a local aiosmtpd server. Measured: from the instant the reminders are due
   to the last one accepted by the server, and the worker's peak RSS (VmHWM).
2. Baseline, in the same run against the same server: a plain smtplib loop sending the same
   number of prebuilt messages of the same size over one connection.
3. The planner on PostgreSQL with 1,000,000 registrations (1,000 programmes) and a fixed set of
   100 due reminders, against the same due set with 10,000 registrations: its cost should follow
   what is due, not what is registered.

The last line is one JSON object: msgs_per_s, baseline_msgs_per_s, ratio, worker_peak_rss_mb,
plan_ms_1m (and plan_ms_10k, the same plan with 10,000 registrations).
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email import message_from_bytes
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REGISTRANTS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
#: The planner is timed among 10 and then PLANNER_PROGRAMMES programmes of 1,000 registrations
#: each (`--planner-programmes N`; 1,000 by default: a million registrations).
PLANNER_PROGRAMMES = (
    int(sys.argv[sys.argv.index("--planner-programmes") + 1])
    if "--planner-programmes" in sys.argv
    else 1_000
)
PG = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
os.environ["LEARNHUB_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="learnhub-bench-")

from aiosmtpd.controller import Controller  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from learnhub import create_app  # noqa: E402
from learnhub.devrun import worker_command  # noqa: E402
from learnhub.extensions import db  # noqa: E402
from learnhub.types import utcnow  # noqa: E402
from tests import services  # noqa: E402


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.last = 0.0
        self.lock = threading.Lock()
        self.sample: bytes | None = None

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            self.last = time.monotonic()
            if self.sample is None:
                self.sample = envelope.original_content or envelope.content
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_database(name: str) -> str:
    services.POSTGRES_URL = PG
    return services.create_postgres_database(name)


def run_sql(block: str, params: dict) -> None:
    """Run several statements (psycopg prepares one at a time), each with its own params."""
    for statement in (part.strip() for part in block.split(";")):
        if statement:
            used = {k: v for k, v in params.items() if f":{k}" in statement}
            db.session.execute(text(statement), used)


def seed_session(minutes_until_start: float, registrants: int) -> None:
    """One published programme, one session, `registrants` confirmed a day ago (SQL-side)."""
    run_sql(
        """
            INSERT INTO programme (slug, kind, title, summary, description, format, language,
                                   timezone, status, created_at)
            VALUES ('bench', 'webinar', 'Bench webinar', 'Summary', '', 'online', 'English',
                    'Asia/Seoul', 'published', now());
            INSERT INTO session (programme_id, title, description, starts_at, ends_at, timezone,
                                 ics_sequence, status, reminders_enabled, join_url)
            SELECT id, 'Bench session', '', now() + make_interval(secs => :secs),
                   now() + make_interval(secs => :secs + 5400), 'Asia/Seoul', 0, 'scheduled',
                   true, 'https://meet.example.org/bench'
            FROM programme WHERE slug = 'bench';
            INSERT INTO user_account (email, full_name, timezone, role, created_at)
            SELECT 'p' || g || '@example.org', 'Participant ' || g, 'America/Sao_Paulo',
                   'participant', now()
            FROM generate_series(1, :n) AS g;
            INSERT INTO registration (programme_id, user_id, status, created_at, confirmed_at,
                                      consent_at)
            SELECT p.id, u.id, 'confirmed', now(), now() - interval '30 minutes', now()
            FROM user_account u CROSS JOIN programme p WHERE p.slug = 'bench';
            """,
        {"secs": minutes_until_start * 60, "n": registrants},
    )
    db.session.commit()


def bench_delivery(url: str, smtp_port: int, counter: Counter) -> tuple[float, float]:
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    lead = 20.0  # seconds before the 1-hour instant; the worker is up long before
    seed_session(60 + lead / 60, REGISTRANTS)
    due_at = time.monotonic() + lead
    env = {
        **os.environ,
        "LEARNHUB_ENV": "development",
        "DATABASE_URL": url,
        "REDIS_URL": REDIS,
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "BEAT_INTERVAL_SECONDS": "1",
        "BASE_URL": "https://learnhub.example.org",
    }
    celery = ROOT / ".venv" / "bin" / "celery"
    log = open(Path(os.environ["LEARNHUB_INSTANCE_PATH"]) / "worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        worker_command(celery),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    peak_kb = 0
    try:
        deadline = due_at + 600
        while counter.count < REGISTRANTS and time.monotonic() < deadline:
            peak_kb = max(peak_kb, _peak_rss_kb(worker.pid))
            time.sleep(0.2)
        peak_kb = max(peak_kb, _peak_rss_kb(worker.pid))
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(30)
        log.close()
    if counter.count < REGISTRANTS:
        raise SystemExit(f"only {counter.count} of {REGISTRANTS} reminders arrived")
    return counter.last - due_at, peak_kb / 1024


def _peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def bench_baseline(smtp_port: int, sample: bytes, count: int) -> float:
    message = message_from_bytes(sample)
    prebuilt = []
    for n in range(count):
        copy = message_from_bytes(sample)
        del copy["To"]
        copy["To"] = f"p{n}@example.org"
        prebuilt.append(copy)
    del message
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
        for copy in prebuilt:
            smtp.send_message(copy)
    return time.monotonic() - started


def bench_planner(app) -> tuple[float, float]:
    """Plan time for 100 due reminders among 10k, then among 1M registrations."""
    from learnhub.notifications.reminders import plan_due_reminders

    def seed(total_programmes: int, per_programme: int) -> None:
        db.session.execute(
            text("TRUNCATE programme, user_account, outbox_message, reminder_run CASCADE")
        )
        run_sql(
            """
                INSERT INTO programme (slug, kind, title, summary, description, format, language,
                                       timezone, status, created_at)
                SELECT 'p' || g, 'programme', 'Programme ' || g, 's', '', 'online', 'English',
                       'UTC', 'published', now()
                FROM generate_series(1, :programmes) AS g;
                INSERT INTO session (programme_id, title, description, starts_at, ends_at,
                                     timezone, ics_sequence, status, reminders_enabled)
                SELECT id,
                       'S', '',
                       CASE WHEN slug = 'p1' THEN now() + interval '50 minutes'
                            ELSE now() + interval '30 days' END,
                       CASE WHEN slug = 'p1' THEN now() + interval '140 minutes'
                            ELSE now() + interval '30 days 90 minutes' END,
                       'UTC', 0, 'scheduled', true
                FROM programme;
                INSERT INTO user_account (email, full_name, timezone, role, created_at)
                SELECT 'u' || g || '@example.org', 'U ' || g, 'UTC', 'participant', now()
                FROM generate_series(1, :users) AS g;
                INSERT INTO registration (programme_id, user_id, status, created_at,
                                          confirmed_at, consent_at)
                SELECT (SELECT id FROM programme WHERE slug = 'p1'), u.id, 'confirmed', now(),
                       now() - interval '2 days', now()
                FROM (SELECT id FROM user_account ORDER BY id LIMIT 100) AS u;
                INSERT INTO registration (programme_id, user_id, status, created_at,
                                          confirmed_at, consent_at)
                SELECT p.id, u.id, 'confirmed', now(), now() - interval '2 days', now()
                FROM (SELECT id, row_number() OVER (ORDER BY id) AS n
                      FROM user_account ORDER BY id OFFSET 100) AS u
                JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k
                      FROM programme WHERE slug <> 'p1') AS p
                  ON p.k = u.n % (:programmes - 1);
                ANALYZE;
                """,
            {"programmes": total_programmes, "users": total_programmes * per_programme},
        )
        db.session.commit()

    timings = []
    for programmes, per in ((10, 1_000), (PLANNER_PROGRAMMES, 1_000)):
        seed(programmes, per)
        started = time.perf_counter()
        with app.test_request_context():
            ids = plan_due_reminders(utcnow())
            db.session.commit()
        timings.append((time.perf_counter() - started) * 1000)
        if len(ids) != 100:
            raise SystemExit(f"the planner wrote {len(ids)} reminders, not the 100 due")
    return timings[0], timings[1]


def main() -> None:
    services.POSTGRES_URL = PG
    if not services.postgres_available():
        raise SystemExit(f"PostgreSQL is needed at {PG}")
    counter = Counter()
    smtp_port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    name = f"learnhub_bench_reminders_{os.getpid()}"  # several runs may share the server
    url = fresh_database(name)
    try:
        app = create_app({"LEARNHUB_ENV": "test", "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            elapsed, peak_mb = bench_delivery(url, smtp_port, counter)
            baseline = bench_baseline(smtp_port, counter.sample, REGISTRANTS)
            plan_10k, plan_1m = bench_planner(app)
            db.engine.dispose()
    finally:
        controller.stop()
        services.drop_postgres_database(name)
    msgs = REGISTRANTS / elapsed
    baseline_msgs = REGISTRANTS / baseline
    print(
        json.dumps(
            {
                "registrants": REGISTRANTS,
                "msgs_per_s": round(msgs, 1),
                "baseline_msgs_per_s": round(baseline_msgs, 1),
                "ratio": round(msgs / baseline_msgs, 3),
                "worker_peak_rss_mb": round(peak_mb, 1),
                "plan_ms_10k": round(plan_10k, 1),
                "plan_ms_1m": round(plan_1m, 1),
                "planner_registrations": PLANNER_PROGRAMMES * 1_000,
            }
        )
    )


if __name__ == "__main__":
    main()
