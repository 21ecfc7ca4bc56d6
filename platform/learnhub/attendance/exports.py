"""The programme's attendance matrix as CSV (streamed row by row) and XLSX (openpyxl's
write-only mode, spooled to a temporary file then streamed)."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .services import NOT_EXPECTED, Report

LABELS = {
    "present": "present",
    "late": "late",
    "excused": "excused",
    "absent": "absent",
    None: "",
    NOT_EXPECTED: "not registered yet",
}


def _header(report: Report) -> list[str]:
    sessions = [
        f"{line.session.title} ({line.session.starts_at.strftime('%Y-%m-%d %H:%M')} UTC)"
        for line in report.sessions
    ]
    return ["Name", "Email", "Organisation", *sessions, "Attended", "Counted", "Rate (%)"]


def _rows(report: Report) -> Iterator[list]:
    for line in report.participants:
        user = line.registration.user
        yield [
            user.full_name,
            user.email,
            user.organisation_name or "",
            *(LABELS[cell] for cell in line.cells),
            line.attended,
            line.counted,
            round(line.rate * 100, 1) if line.rate is not None else "",
        ]


def _footer(report: Report) -> list:
    return [
        "Attendance rate (%)",
        "",
        "",
        *(round(s.rate * 100, 1) if s.rate is not None else "" for s in report.sessions),
        "",
        "",
        "",
    ]


def matrix_csv(report: Report) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff"  # so that spreadsheet programs read the accents right
    writer.writerow(_header(report))
    for number, row in enumerate(_rows(report), 1):
        writer.writerow(row)
        if number % 500 == 0:
            yield flush()
    writer.writerow(_footer(report))
    yield flush()


def matrix_xlsx(report: Report) -> tempfile.SpooledTemporaryFile:
    """The workbook in a temporary file, rewound, for send_file to stream."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Attendance")
    sheet.freeze_panes = "B2"
    bold = Font(bold=True)
    header = []
    for title in _header(report):
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in _rows(report):
        sheet.append(row)
    sheet.append(_footer(report))
    target = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (send_file closes it)
    workbook.save(target)
    target.seek(0)
    return target
