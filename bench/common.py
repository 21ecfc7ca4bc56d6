"""What every benchmark shares: a fresh instance folder and the app on a migrated database.

Import this module before anything from learnhub: it points LEARNHUB_INSTANCE_PATH at a new
temporary folder. DATABASE_URL (PostgreSQL) is used when set, else a SQLite file in it.
"""

from __future__ import annotations

import os
import tempfile

os.environ["LEARNHUB_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="learnhub-bench-")


def migrated_app():
    """(app, database URL): the app in test mode on the benchmark's database, migrated."""
    from flask_migrate import upgrade

    from learnhub import create_app

    url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{os.environ['LEARNHUB_INSTANCE_PATH']}/bench.sqlite"
    )
    app = create_app({"LEARNHUB_ENV": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
    return app, url
