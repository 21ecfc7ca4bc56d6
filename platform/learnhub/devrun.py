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


def serving_address(environ: dict[str, str]) -> tuple[str, int, str]:
    """The host and port to serve, and the base address links in emails and QR codes use:
    BASE_URL when set, else the address served (a wildcard host is reached as 127.0.0.1)."""
    host = environ.get("HOST") or "127.0.0.1"
    port = int(environ.get("PORT") or "5000")
    reached = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in reached:
        reached = f"[{reached}]"
    return host, port, (environ.get("BASE_URL") or f"http://{reached}:{port}").rstrip("/")


def main() -> int:
    host, port, base_url = serving_address(dict(os.environ))
    # Before the app and the worker read their configuration: both write links in emails.
    os.environ["BASE_URL"] = base_url
    app = create_app()
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
    print(
        f"LearnHub on http://{host}:{port}/, links in emails to {base_url}/"
        f"  (worker pid {worker.pid}; Ctrl-C stops both)"
    )
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
