"""The benchmarks' baseline: bare Flask routes.

`/insert` inserts one row per request: bench/registration.py serves it under the same gunicorn
settings as the app, on the same database (BENCH_DATABASE_URL), with the same SQLite pragmas
as the app's engine. `/page` renders a static template (`programme_page.html` in
BENCH_TEMPLATE_FOLDER) of the programme page's size: bench/pages.py.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, render_template, request
from sqlalchemy import create_engine, event, text

url = os.environ["BENCH_DATABASE_URL"]
engine = create_engine(url)
if engine.dialect.name == "sqlite":

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


app = Flask(__name__, template_folder=os.environ.get("BENCH_TEMPLATE_FOLDER", "templates"))
INSERT = text("INSERT INTO bench_baseline (email, created_at) VALUES (:email, :created_at)")


@app.get("/ping")
def ping():
    return "ok"


@app.post("/insert")
def insert():
    with engine.begin() as connection:
        connection.execute(
            INSERT,
            {"email": request.form.get("email", ""), "created_at": datetime.now(UTC).isoformat()},
        )
    return "ok"


@app.get("/page")
def page():
    return render_template("programme_page.html")
