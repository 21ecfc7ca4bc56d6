"""gunicorn settings for production: `gunicorn -c python:learnhub.gunicorn_conf wsgi:app`.

With PROMETHEUS_MULTIPROC_DIR set (a folder of this web service's own), every gunicorn worker
writes its counters there and /metrics adds them up: its figures files are removed when gunicorn
starts, and a worker that exits is marked dead so its live figures stop counting.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The app logs one JSON line per request itself (logs.py), with its request id.
accesslog = None
errorlog = "-"
loglevel = "info"
#: No control socket: several gunicorns on one host (or one home folder) would share its path.
control_socket_disable = True


def _log_format() -> str:
    production = os.environ.get("LEARNHUB_ENV") == "production"
    return os.environ.get("LOG_FORMAT") or ("json" if production else "text")


if _log_format() == "json":
    # gunicorn's own lines (start, worker boot and exit, timeouts) as JSON lines too. The root
    # logger gets its handler from the app (logs.configure), so no line is written twice.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": []},
        "formatters": {"json": {"()": "learnhub.logs.JsonFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }


def _metrics_folder() -> Path | None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(folder) if folder else None


def on_starting(server) -> None:
    folder = _metrics_folder()
    if folder is not None:
        from learnhub.metrics import clear_multiprocess_folder

        clear_multiprocess_folder(folder)


def child_exit(server, worker) -> None:
    if _metrics_folder() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
