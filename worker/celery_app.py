"""Builds the Flask app and exposes its Celery instance, with the tasks registered."""

from learnhub import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

from worker import tasks  # noqa: E402,F401  (registers the tasks on celery_app)
