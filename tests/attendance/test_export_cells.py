"""The attendance exports (issue 14): per session its status and the minutes attended, the
session named by its date and time in the programme's zone and its title, the same in CSV and
XLSX; a cancelled session is not a column."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from tests import factories as f


def test_csv_and_xlsx_give_status_and_minutes_under_local_session_headers(client):
    programme = f.make_programme(sessions=0, timezone="Asia/Seoul")
    first = f.make_session(
        programme, datetime(2026, 11, 3, 0, 30, tzinfo=UTC), title="Risk assessment"
    )
    second = f.make_session(programme, datetime(2026, 11, 10, 0, 30, tzinfo=UTC), title="Finance")
    f.make_session(
        programme, datetime(2026, 11, 17, 0, 30, tzinfo=UTC), title="Dropped", status="cancelled"
    )
    organiser = f.make_organiser(programme)
    ana = f.make_registration(
        programme,
        f.make_user(full_name="Ana Souza"),
        confirmed_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    f.make_attendance(first, ana, "present", minutes_attended=84, method="import")
    f.make_attendance(second, ana, "late")
    f.sign_in(client, organiser)
    base = f"/organiser/programmes/{programme.slug}"
    text = client.get(f"{base}/attendance.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    header = [
        "Name",
        "Email",
        "Organisation",
        "1. Tue 3 Nov 2026, 09:30 KST (Asia/Seoul): Risk assessment (status)",
        "1. Tue 3 Nov 2026, 09:30 KST (Asia/Seoul): Risk assessment (minutes attended)",
        "2. Tue 10 Nov 2026, 09:30 KST (Asia/Seoul): Finance (status)",
        "2. Tue 10 Nov 2026, 09:30 KST (Asia/Seoul): Finance (minutes attended)",
        "Attended",
        "Counted",
        "Rate (%)",
    ]
    assert rows[0] == header
    assert rows[1][3:7] == ["present", "84", "late", ""]
    assert not any("Dropped" in title for title in rows[0])
    xlsx = client.get(f"{base}/attendance.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == header
    assert cells[1][3:7] == ("present", 84, "late", None)
