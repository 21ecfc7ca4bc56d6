"""The programme page under load, against a bare Flask route serving a page of the same size.

Run: .venv/bin/python bench/pages.py [--requests 1500] [--clients 8] [--database sqlite|postgres]

A fresh, migrated database holds one published programme with 12 sessions, 6 speakers,
3 modules, 30 materials and 5,000 confirmed registrants. The app runs under gunicorn with
2 sync workers (as in production) and client threads GET its public programme page. In the
same run, the same clients GET a baseline: a bare Flask app (bench/baseline_app.py) under the
same gunicorn settings whose route renders a static template of exactly the programme page's
byte size. `ratio` is the app's rate over the baseline's; `queries_per_page` is the number of
SQL statements a signed-out request for the page runs once its parts are cached (counted
in-process with the app's engine).

The last line of output is one JSON object: `rps`, `baseline_rps`, `ratio`,
`queries_per_page`, plus latencies, `page_bytes` and `errors`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from registration import ROOT, Gunicorn, prepare_database, request, run_clients, server_env

SLUG = "bench-resilient-city"
TEMPLATE_NAME = "programme_page.html"

SEED = f"""
import json, sys
from datetime import timedelta
from flask_migrate import upgrade
from sqlalchemy import event, insert, text
from learnhub import create_app
from learnhub.accounts.models import User
from learnhub.catalogue.models import (Material, Module, Organisation, Person, Programme,
    ProgrammeOrganisation, Session, SessionSpeaker)
from learnhub.extensions import db
from learnhub.registration.models import Registration
from learnhub.types import utcnow

app = create_app()
with app.app_context():
    upgrade()
    now = utcnow().replace(microsecond=0)
    host = Organisation(name="United Cities and Local Governments Asia-Pacific",
        short_name="UCLG-ASPAC")
    programme = Programme(slug="{SLUG}", kind="programme", title="Resilient City",
        edition="2nd edition", summary="Climate, economic and social resilience.",
        description="## About\\n\\nA programme for city officials. " * 20,
        status="published", timezone="Asia/Seoul", capacity=6000)
    programme.organisation_links.append(ProgrammeOrganisation(organisation=host, role="host"))
    modules = [Module(position=n, title=f"Module {{n}}", theme=t, summary="Summary " * 10,
        body="Body " * 50) for n, t in ((1, "Climate"), (2, "Economy"), (3, "Society"))]
    programme.modules.extend(modules)
    people = [Person(full_name=f"Speaker {{n}}", position="Mayor", organisation=host)
        for n in range(6)]
    for n in range(12):
        start = now + timedelta(days=7 * (n - 6))
        session = Session(title=f"Session {{n + 1}}", starts_at=start,
            ends_at=start + timedelta(minutes=90), timezone="Asia/Seoul",
            description="What happens.", module=modules[n % 3])
        session.speaker_links.append(SessionSpeaker(person=people[n % 6], role="speaker",
            position=0, contribution="A talk"))
        programme.sessions.append(session)
    for n in range(30):
        programme.materials.append(Material(kind=("guidebook", "reading", "policy_case")[n % 3],
            title=f"Material {{n + 1}}", url=f"https://files.example.org/{{n}}",
            visibility="public" if n % 2 else "registered", position=n, module=modules[n % 3]))
    db.session.add(programme)
    db.session.flush()
    db.session.execute(insert(User), [dict(email=f"p{{n}}@example.org",
        full_name=f"Participant {{n}}", role="participant", timezone="Asia/Jakarta")
        for n in range(5000)])
    ids = [row[0] for row in db.session.execute(
        text("SELECT id FROM user_account WHERE email LIKE 'p%@example.org'"))]
    db.session.execute(insert(Registration), [dict(programme_id=programme.id, user_id=i,
        status="confirmed", consent_at=now, confirmed_at=now) for i in ids])
    db.session.commit()

    statements = []
    def record(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")):
            statements.append(statement)
    client = app.test_client()
    client.get("/programmes/{SLUG}")  # warm caches as a running worker would have them
    # Count a request that reads the database: a signed-out page kept whole
    # (PUBLIC_PAGE_MAX_AGE_SECONDS) reads nothing, one made again runs these.
    app.config["PUBLIC_PAGE_MAX_AGE_SECONDS"] = 0
    event.listen(db.engine, "before_cursor_execute", record)
    response = client.get("/programmes/{SLUG}")
    event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.status_code
    assert len(ids) == 5000
    with open(sys.argv[1], "wb") as page:
        page.write(response.data)
    print(json.dumps({{"queries": len(statements), "bytes": len(response.data)}}))
"""


def page_client(path: str, expected_bytes: int | None):
    def make(port: int, _index: int):
        def send(_n: int) -> bool:
            response, body = request(port, "GET", path, None, {})
            return response.status == 200 and (
                expected_bytes is None or abs(len(body) - expected_bytes) < 512
            )

        return send

    return make


def measure(database: str, total: int, clients: int) -> dict:
    instance = Path(tempfile.mkdtemp(prefix="learnhub-bench-pages-"))
    url, drop = prepare_database(database, instance)
    templates = instance / "templates"
    templates.mkdir()
    env = {**server_env(instance, url), "BENCH_TEMPLATE_FOLDER": str(templates)}
    try:
        page_file = instance / "page.html"
        seeded = subprocess.run(
            [sys.executable, "-c", SEED, str(page_file)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        facts = json.loads(seeded.stdout.decode().strip().splitlines()[-1])
        html = page_file.read_text(encoding="utf-8")
        # A static template whose output is the page itself, byte for byte ({% raw %} keeps
        # Jinja from reading anything in it; the tags themselves are not output).
        (templates / TEMPLATE_NAME).write_text(
            "{% raw %}" + html + "{% endraw %}", encoding="utf-8"
        )
        warm = max(clients * 4, 32)
        results = {}
        for name, app_path, path in (
            ("baseline", "baseline_app:app", "/page"),
            ("app", "wsgi:app", f"/programmes/{SLUG}"),
        ):
            server = Gunicorn(app_path, env)
            try:
                client = page_client(path, facts["bytes"])
                run_clients(server.port, clients, warm, client)
                results[name] = run_clients(server.port, clients, total, client)
            finally:
                server.stop()
    finally:
        drop()
    latencies, errors, seconds = results["app"]
    base_latencies, base_errors, base_seconds = results["baseline"]
    rps = len(latencies) / seconds
    baseline_rps = len(base_latencies) / base_seconds
    ordered = sorted(latencies)
    return {
        "database": database,
        "rps": round(rps, 1),
        "baseline_rps": round(baseline_rps, 1),
        "ratio": round(rps / baseline_rps, 3),
        "queries_per_page": facts["queries"],
        "page_bytes": facts["bytes"],
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 1),
        "baseline_p50_ms": round(statistics.median(base_latencies), 1),
        "errors": errors,
        "baseline_errors": base_errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    print(json.dumps(measure(args.database, args.requests, args.clients)))


if __name__ == "__main__":
    main()
