"""`make run`: the web server and one Celery worker with embedded beat, stopped together.

Ctrl-C (or SIGTERM) stops the worker's whole process group too, so nothing is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from werkzeug.serving import run_simple

from . import PROJECT_ROOT, create_app


def worker_command(celery: Path) -> list[str]:
    """One Celery worker with embedded beat: the development (and test) worker process."""
    return [
        str(celery),
        *("-A", "worker.celery_app", "worker", "--beat", "--loglevel", "INFO"),
        *("--concurrency", "2", "--pool", "threads"),
    ]


def main() -> int:
    app = create_app()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    worker = subprocess.Popen(
        worker_command(Path(sys.executable).with_name("celery")),
        cwd=PROJECT_ROOT,
        start_new_session=True,
    )

    def stop(*_args) -> None:
        raise KeyboardInterrupt

    # Installed explicitly: a shell that starts us in the background may have ignored SIGINT.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"LearnHub on http://{host}:{port}/  (worker pid {worker.pid}; Ctrl-C stops both)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    except KeyboardInterrupt:
        pass
    finally:
        _stop_worker(worker)
    return 0


def _stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


if __name__ == "__main__":
    sys.exit(main())
