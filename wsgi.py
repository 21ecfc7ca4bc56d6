"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import gc

from learnhub import create_app

app = create_app()

# What start-up made (modules, the app, SQLAlchemy's mappers: about 200,000 objects) lives as
# long as the process. Frozen, it is no longer scanned by the collector's full collections,
# each of which paused a worker for about 150 ms in the middle of some request.
gc.freeze()
