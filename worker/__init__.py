"""The Celery entry point: `celery -A worker.celery_app worker` (add `-B` for embedded beat)."""
