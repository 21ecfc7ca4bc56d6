"""Registration under load: real form submissions to the app under gunicorn, against a baseline.

Run: .venv/bin/python bench/registration.py [--submissions 2000] [--clients 16]
                                            [--databases sqlite,postgres] [--rounds 4]
                                            [--no-floors]

For each database, the app runs under gunicorn with 2 sync workers, as in production, on a
fresh, migrated database holding one programme with capacity 1,000. 16 client threads each
open the registration page (session cookie and CSRF token) and then send their share of the
2,000 registration forms, each with a new address, without following the redirect. The
same client drives a baseline: a bare Flask app (bench/baseline_app.py) under the same
gunicorn settings whose one route inserts one row per request into the same database.
`ratio` is the app's rate over the baseline's.

Unless --no-floors, the same clients also send the same form to bench/floor_app.py: the app
with routes that stop a registration part of the way (the CSRF check; + the form; + the
session; + the baseline's one insert through the app's session). `floor_ratios` are their
rates over the same baseline: the ceiling a registration's `ratio` stays under.

All servers run at once. Before the timed part each gets the same warm-up (32 requests: the
registration page for the app's, inserts for the baseline). Then the submissions are sent in
`--rounds` turns, each series in turn and the order reversed every other round, so that a
machine getting busier or quieter during the run weighs on the app and its baseline alike
(on a shared machine the baseline alone varied by a quarter between runs a minute apart).

The app runs with its real settings for the mode: on SQLite the embedded Celery broker
(kombu's SQLAlchemy transport on a SQLite file), on PostgreSQL the Redis broker
(LEARNHUB_BENCH_REDIS_URL, default redis://127.0.0.1:6379/14, whose queue is emptied after).
Rate limits are switched off (RATELIMIT_ENABLED=0): every request comes from one address.

The last line of output is one JSON object: per database `rps`, `p50_ms`, `p99_ms`,
`baseline_rps`, `ratio`, `errors`, `confirmed`, `waitlisted`, and `floor_ratios`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
#: bench/floor_app.py's routes, in the order each adds a step of a registration.
FLOORS = ("csrf", "form", "session", "insert")
BIN = Path(sys.executable).parent
POSTGRES_URL = os.environ.get(
    "LEARNHUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("LEARNHUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CAPACITY = 1000
SLUG = "bench-programme"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- databases --------------------------------------------------------------------------------


def prepare_database(kind: str, instance: Path) -> tuple[str, callable]:
    """A fresh database URL and the function that removes it."""
    if kind == "sqlite":
        return f"sqlite:///{instance / 'bench.sqlite'}", lambda: None
    import psycopg

    name = f"learnhub_bench_{os.getpid()}"
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}", drop


def server_env(instance: Path, url: str) -> dict[str, str]:
    """The environment of the benchmark's servers: the app in development mode on `url`,
    without rate limits, Redis or SMTP (emails stay in the outbox)."""
    env = {
        **os.environ,
        "LEARNHUB_ENV": "development",
        "LEARNHUB_INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "RATELIMIT_ENABLED": "0",
        "BENCH_DATABASE_URL": url,
        "PYTHONPATH": str(ROOT / "bench"),
    }
    for name in ("REDIS_URL", "SMTP_URL", "SMTP_HOST"):
        env.pop(name, None)
    return env


def migrate_and_seed(env: dict) -> None:
    """Migrations, the programme with capacity 1,000, the baseline's table (in a subprocess,
    so this process holds no connection while gunicorn runs)."""
    script = f"""
from datetime import timedelta
from flask_migrate import upgrade
from sqlalchemy import text
from learnhub import create_app
from learnhub.catalogue.models import Programme, Session
from learnhub.extensions import db
from learnhub.types import utcnow
app = create_app()
with app.app_context():
    upgrade()
    start = utcnow() + timedelta(days=30)
    programme = Programme(slug="{SLUG}", kind="programme", title="Benchmark programme",
        summary="Load test.", status="published", timezone="Asia/Jakarta", capacity={CAPACITY})
    programme.sessions.append(Session(title="Session 1", starts_at=start,
        ends_at=start + timedelta(hours=2), timezone="Asia/Jakarta"))
    db.session.add(programme)
    db.session.execute(text("CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY "
        + ("GENERATED BY DEFAULT AS IDENTITY" if db.engine.dialect.name == "postgresql" else "")
        + ", email VARCHAR(320) NOT NULL, created_at VARCHAR(40) NOT NULL)"))
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", script], env=env, check=True, cwd=ROOT)


def outcome_counts(env: dict) -> dict[str, int]:
    script = f"""
import json
from sqlalchemy import func, select
from learnhub import create_app
from learnhub.catalogue.models import Programme
from learnhub.extensions import db
from learnhub.registration.models import Registration
app = create_app()
with app.app_context():
    rows = db.session.execute(select(Registration.status, func.count())
        .join(Programme, Programme.id == Registration.programme_id)
        .where(Programme.slug == "{SLUG}").group_by(Registration.status)).all()
    print(json.dumps(dict(rows)))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, cwd=ROOT, capture_output=True
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


# --- servers ----------------------------------------------------------------------------------


class Gunicorn:
    def __init__(self, app_path: str, env: dict) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--chdir",
                str(ROOT),
                app_path,
            ],
            env=env,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/ping" if "baseline" in app_path else "/")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {app_path} did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --- clients ----------------------------------------------------------------------------------


def run_clients(
    port: int, clients: int, total: int, make_client, first: int = 0
) -> tuple[list[float], int, float]:
    """`clients` threads share `total` requests (numbered from `first`, so that every
    request of a series has its own address); returns latencies (ms), errors, seconds."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        nonlocal errors
        send = make_client(port, index)
        barrier.wait()
        for n in range(first + index, first + total, clients):
            started = time.perf_counter()
            try:
                ok = send(n)
            except OSError:
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def request(port: int, method: str, path: str, body: str | None, headers: dict):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response, data
    finally:
        connection.close()


def registration_client(tag: str, path: str = f"/programmes/{SLUG}/register"):
    def make(port: int, index: int):
        response, page = request(port, "GET", f"/programmes/{SLUG}/register", None, {})
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        state = {"cookie": cookie}

        def send(n: int) -> bool:
            body = urlencode(
                {
                    "csrf_token": token.decode(),
                    "full_name": f"Bench Person {n}",
                    "email": f"bench-{tag}-{n}@example.org",
                    "organisation": "City of Bench",
                    "city": "Jakarta",
                    "country": "Indonesia",
                    "timezone": "Asia/Jakarta",
                    "consent": "y",
                }
            )
            response, _ = request(
                port,
                "POST",
                path,
                body,
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": state["cookie"],
                },
            )
            refreshed = response.getheader("Set-Cookie")
            if refreshed:
                state["cookie"] = refreshed.split(";", 1)[0]
            return response.status == 302 and "/registered" in (
                response.getheader("Location") or ""
            )

        return send

    return make


def page_client(port: int, index: int):
    def send(_n: int) -> bool:
        response, _ = request(port, "GET", f"/programmes/{SLUG}/register", None, {})
        return response.status == 200

    return send


def baseline_client(port: int, index: int):
    def send(n: int) -> bool:
        body = urlencode({"email": f"baseline-{n}@example.org"})
        response, _ = request(
            port,
            "POST",
            "/insert",
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        return response.status == 200

    return send


# --- one database -------------------------------------------------------------------------------


@dataclass
class Series:
    """One server's route driven in turns: its requests' latencies, errors and timed seconds."""

    port: int
    make_client: Callable
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    sent: int = 0

    def run(self, clients: int, count: int) -> None:
        latencies, errors, seconds = run_clients(
            self.port, clients, count, self.make_client, first=self.sent
        )
        self.latencies += latencies
        self.errors += errors
        self.seconds += seconds
        self.sent += count

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds


def measure(kind: str, submissions: int, clients: int, rounds: int, floors: bool) -> dict:
    instance = Path(tempfile.mkdtemp(prefix=f"learnhub-bench-{kind}-"))
    url, drop = prepare_database(kind, instance)
    env = server_env(instance, url)
    if kind == "postgres":
        env["CELERY_BROKER_URL"] = REDIS_URL
    servers: list[Gunicorn] = []
    try:
        migrate_and_seed(env)
        warm = max(clients * 2, 32)
        baseline = Gunicorn("baseline_app:app", env)
        servers.append(baseline)
        app = Gunicorn("wsgi:app", env)
        servers.append(app)
        series = {
            "baseline": Series(baseline.port, baseline_client),
            "app": Series(app.port, registration_client(kind)),
        }
        if floors:
            floor = Gunicorn("floor_app:app", env)
            servers.append(floor)
            for name in FLOORS:
                path = f"/floor/{name}"
                series[name] = Series(floor.port, registration_client(f"{kind}-{name}", path))
        # The same untimed warm-up for every server (workers booted, first requests served):
        # the registration page, which every client opens first anyway, for the app's.
        run_clients(baseline.port, clients, warm, baseline_client)
        for server in servers[1:]:
            run_clients(server.port, clients, warm, page_client)
        # In turns, the order reversed every other round (A B B A ...), so that the machine
        # getting busier or quieter during the run weighs on every series alike.
        order = list(series.values())
        for round_number in range(rounds):
            count = submissions // rounds + (round_number < submissions % rounds)
            for one in order if round_number % 2 == 0 else reversed(order):
                one.run(clients, count)
        counts = outcome_counts(env)
    finally:
        for server in servers:
            server.stop()
        if kind == "postgres":
            _empty_bench_queue()
        drop()
    registrations, base = series["app"], series["baseline"]
    ordered = sorted(registrations.latencies)
    return {
        "rps": round(registrations.rps, 1),
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 1),
        "baseline_rps": round(base.rps, 1),
        "baseline_p50_ms": round(statistics.median(base.latencies), 1),
        "ratio": round(registrations.rps / base.rps, 3),
        "errors": registrations.errors,
        "baseline_errors": base.errors,
        "confirmed": counts.get("confirmed", 0),
        "waitlisted": counts.get("waitlisted", 0),
        **(
            {
                "floor_ratios": {name: round(series[name].rps / base.rps, 3) for name in FLOORS},
                "floor_errors": sum(series[name].errors for name in FLOORS),
            }
            if floors
            else {}
        ),
    }


def _empty_bench_queue() -> None:
    """The worker is not running: drop the delivery tasks the app handed to Redis."""
    try:
        import redis

        store = redis.Redis.from_url(REDIS_URL)
        store.delete("celery")
        for key in store.scan_iter("_kombu.binding.*"):
            store.delete(key)
    except Exception as error:  # never hide the measurement behind a clean-up problem
        print(f"could not empty the bench queue: {error}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="turns the submissions are split into, the app and the baseline alternating",
    )
    parser.add_argument(
        "--no-floors",
        dest="floors",
        action="store_false",
        help="skip the ceiling: the app's ratio when a request stops part of the way",
    )
    args = parser.parse_args()
    results = {}
    for kind in args.databases.split(","):
        results[kind] = measure(kind, args.submissions, args.clients, args.rounds, args.floors)
        print(f"{kind}: {json.dumps(results[kind])}", file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
