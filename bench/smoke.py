"""Every benchmark at a small size, so none can rot unnoticed: CI runs this after the tests.

Fails when a script exits non-zero, times out, or does not end with its JSON line. The figures
are printed, not judged: at these sizes they say nothing about speed.

    .venv/bin/python bench/smoke.py [script ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
#: Each script with the arguments that make it finish in seconds.
SMALL = {
    "attendance.py": ["300", "200"],
    "email_locales.py": ["40"],
    "pages.py": ["--requests", "60", "--clients", "2"],
    "register_use_case.py": ["20"],
    "registration.py": ["--submissions", "60", "--clients", "4", "--rounds", "1"],
    "reminders.py": ["200", "--planner-programmes", "20"],
}
TIMEOUT_SECONDS = 300


def run(script: str) -> str | None:
    """None when the script ran to its JSON line, else what went wrong."""
    command = [sys.executable, str(BENCH / script), *SMALL[script]]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, env=os.environ
        )
    except subprocess.TimeoutExpired:
        return f"did not finish in {TIMEOUT_SECONDS} s"
    seconds = time.monotonic() - started
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    try:
        figures = json.loads(lines[-1])
    except ValueError:
        return f"the last line is not JSON: {lines[-1][:300]}"
    print(f"[bench] {script} ({seconds:.0f} s): {json.dumps(figures)}", flush=True)
    return None


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in SMALL]
    missing = sorted(p.name for p in BENCH.glob("*.py") if _is_script(p) and p.name not in SMALL)
    if unknown or missing:
        print(f"[bench] unknown: {unknown}; scripts without a small size: {missing}")
        return 2
    failed = {name: error for name in names or SMALL if (error := run(name))}
    for name, error in failed.items():
        print(f"[bench] {name} FAILED: {error}", flush=True)
    return 1 if failed else 0


def _is_script(path: Path) -> bool:
    return 'if __name__ == "__main__":' in path.read_text() and path.name != Path(__file__).name


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
