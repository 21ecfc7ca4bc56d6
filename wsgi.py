"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from learnhub import create_app

app = create_app()
