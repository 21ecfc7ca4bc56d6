"""The cost of writing an email in the recipient's language.

Run: .venv/bin/python bench/email_locales.py [N]
Renders N participant reminders (`reminder_email`, what the worker writes for each
reminder it claims) for English readers, the baseline, and, in the same process, for
Spanish, Japanese and Arabic readers
(CPU time, the best of three rounds after a warm-up one).
The last line is one JSON object: ms per reminder per language and each one's ratio to English.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.factories
from common import migrated_app  # noqa: E402  (first: sets the instance folder)

from learnhub.extensions import db  # noqa: E402
from learnhub.notifications.reminder_emails import reminder_email  # noqa: E402
from learnhub.types import utcnow  # noqa: E402
from tests import factories as f  # noqa: E402

LANGUAGES = ("English", "Español", "日本語", "العربية")


def main() -> None:
    app, _ = migrated_app()
    figures: dict[str, float] = {}
    with app.app_context(), app.test_request_context():
        programme = f.make_programme(sessions=1, timezone="Europe/Madrid")
        session = programme.sessions[0]
        readers = {}
        for language in LANGUAGES:
            user = f.make_user(timezone="Asia/Seoul")
            user.preferred_language = language
            db.session.commit()
            f.make_registration(programme, user)
            readers[language] = user
        db.session.commit()
        now = session.starts_at - timedelta(minutes=60)
        for _round in range(4):  # the first round warms catalogs and caches; best of the rest
            for language in LANGUAGES:
                reader = readers[language]
                started = time.process_time()
                for _n in range(N):
                    reminder_email(session, reader, now)
                spent = (time.process_time() - started) * 1000 / N
                if _round:
                    figures[language] = min(figures.get(language, spent), spent)
    english = figures["English"]
    result = {"n": N, "measured_at": utcnow().isoformat(timespec="seconds")}
    for language, code in zip(LANGUAGES, ("en", "es", "ja", "ar"), strict=True):
        result[f"ms_{code}"] = round(figures[language], 3)
        result[f"ratio_{code}"] = round(figures[language] / english, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
