"""Celery bound to the Flask app, following Flask's documented pattern.

Every task runs inside an application context, so tasks call the same services as views.
"""

from __future__ import annotations

from datetime import timedelta

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    instance = app.config["INSTANCE_PATH"]
    interval = timedelta(seconds=app.config["BEAT_INTERVAL_SECONDS"])
    celery_app.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone="UTC",
        enable_utc=True,
        beat_schedule_filename=f"{instance}/celerybeat-schedule",
        beat_schedule={
            "plan-reminders": {"task": "notifications.plan_reminders", "schedule": interval},
            "sweep-outbox": {"task": "notifications.sweep_outbox", "schedule": interval},
            "discussion-digests": {
                "task": "learning.send_digests",
                "schedule": timedelta(seconds=app.config["DIGEST_INTERVAL_SECONDS"]),
            },
        },
        # Failing fast matters more than retrying when the web tier hands a row to the broker:
        # the outbox sweep picks up anything that could not be handed over.
        broker_transport_options={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
    )
    from . import logs, metrics

    logs.connect_celery(app)
    metrics.connect_celery(app)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
