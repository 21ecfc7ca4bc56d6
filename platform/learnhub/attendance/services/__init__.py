"""Attendance use cases, by section (check-in and report imports live beside this package,
in checkin.py and imports.py; every use case is one transaction):

- marks.py: reading marks and writing them in bulk, whoever records them;
- sheet.py: the session's sheet, marking by hand, the programme's completion rule;
- report.py: the programme's report and each registration's standing by the same rule;
- my_attendance.py: a participant's own marks.

What other features call is named here.
"""

from __future__ import annotations

from .marks import confirmed_registrations
from .my_attendance import attendance_of
from .report import attendance_standing, programme_report
from .sheet import attendance_sheet, mark_in_bulk, record_attendance, set_completion_rule

__all__ = [
    "attendance_of",
    "attendance_sheet",
    "attendance_standing",
    "confirmed_registrations",
    "mark_in_bulk",
    "programme_report",
    "record_attendance",
    "set_completion_rule",
]
