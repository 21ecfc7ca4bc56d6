"""The programme's attendance matrix as CSV (streamed row by row) and XLSX (XlsxWriter's
constant-memory mode: each row goes to a temporary file as it is written, then the workbook
is zipped into a spooled temporary file that is streamed). Both take their rows from `_rows`.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator

from xlsxwriter import Workbook

from .services import NOT_EXPECTED, Report

#: What a cell of the matrix says; None leaves it empty (and the XLSX writer skips it).
LABELS = {
    "present": "present",
    "late": "late",
    "excused": "excused",
    "absent": "absent",
    None: None,
    NOT_EXPECTED: "not registered yet",
}


def _header(report: Report) -> list[str]:
    sessions = [
        f"{line.session.title} ({line.session.starts_at.strftime('%Y-%m-%d %H:%M')} UTC)"
        for line in report.sessions
    ]
    return ["Name", "Email", "Organisation", *sessions, "Attended", "Counted", "Rate (%)"]


def _percent(rate: float | None) -> float | None:
    return round(rate * 100, 1) if rate is not None else None


def _rows(report: Report) -> Iterator[list]:
    """One list of plain values per participant, the same for both formats (None: empty)."""
    label = LABELS.__getitem__
    for line in report.participants:
        who = line.participant
        yield [
            who.full_name,
            who.email,
            who.organisation_name or None,
            *map(label, line.cells),
            line.attended,
            line.counted,
            _percent(line.rate),
        ]


def _footer(report: Report) -> list:
    return [
        "Attendance rate (%)",
        None,
        None,
        *(_percent(s.rate) for s in report.sessions),
        None,
        None,
        None,
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
    """The workbook in a temporary file, rewound, for send_file to stream.

    Text is always written as text: a name such as "=HYPERLINK(...)" stays a name, never a
    formula (XlsxWriter's default would turn it into one). Each value is written with the
    writer for its type, skipping empty cells: 120,000 cells for 10,000 participants by 12
    sessions, so the per-cell work is what the export costs.
    """
    target = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (send_file closes it)
    workbook = Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = workbook.add_worksheet("Attendance")
    sheet.freeze_panes(1, 1)
    bold = workbook.add_format({"bold": True})
    for column, title in enumerate(_header(report)):
        sheet.write_string(0, column, title, bold)
    write_text, write_number = sheet.write_string, sheet.write_number

    def write(number: int, row: list) -> None:
        for column, value in enumerate(row):
            if value.__class__ is str:
                write_text(number, column, value)
            elif value is not None:
                write_number(number, column, value)

    number = 0
    for number, row in enumerate(_rows(report), 1):
        write(number, row)
    write(number + 1, _footer(report))
    workbook.close()
    target.seek(0)
    return target
