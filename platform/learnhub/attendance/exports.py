"""The programme's attendance matrix as CSV (streamed row by row) and XLSX (openpyxl's
write-only mode through lxml: rows go to a temporary file as they are appended, then the
workbook is zipped into a spooled temporary file that is streamed). Both take their rows from
`_rows`; text that looks like a formula stays text in both.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from ..safety import FORMULA_STARTS, csv_text_cell
from ..timefmt import format_moment
from .services.marks import minutes_by_cell
from .services.report import NOT_EXPECTED, Report

#: Text openpyxl would store as something else: a formula ("=…", and what spreadsheet programs
#: read as one) or an error value ("#N/A", "#REF!"…).
_NOT_PLAIN_TEXT = (*FORMULA_STARTS, "#")

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
    """Two columns a session, its status and the minutes attended, named by its number, date
    and time in the programme's zone (written), and title."""
    tz = report.programme.timezone
    sessions = []
    for number, line in enumerate(report.sessions, 1):
        name = f"{number}. {format_moment(line.session.starts_at, tz)}: {line.session.title}"
        sessions += [f"{name} (status)", f"{name} (minutes attended)"]
    return ["Name", "Email", "Organisation", *sessions, "Attended", "Counted", "Rate (%)"]


def _percent(rate: float | None) -> float | None:
    return round(rate * 100, 1) if rate is not None else None


def _rows(report: Report) -> Iterator[list]:
    """One list of plain values per participant, the same for both formats (None: empty):
    each session's status, then the minutes attended where a meeting report gave them."""
    session_ids = [line.session.id for line in report.sessions]
    minutes = minutes_by_cell(session_ids).get
    for line in report.participants:
        who = line.participant
        if who is None:
            raise ValueError("The programme's report names every participant.")
        rid = line.registration_id
        cells = []
        for session_id, status in zip(session_ids, line.cells, strict=True):
            cells += [LABELS[status], minutes((session_id, rid))]
        yield [
            who.full_name,
            who.email,
            who.organisation_name or None,
            *cells,
            line.attended,
            line.counted,
            _percent(line.rate),
        ]


def _footer(report: Report) -> list:
    rates = []
    for line in report.sessions:
        rates += [_percent(line.rate), None]
    return ["Attendance rate (%)", None, None, *rates, None, None, None]


def matrix_csv(report: Report) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff"  # so that spreadsheet programs read the accents right
    writer.writerow([csv_text_cell(title) for title in _header(report)])
    for number, row in enumerate(_rows(report), 1):
        row[0:3] = [csv_text_cell(value) if value else value for value in row[0:3]]
        writer.writerow(row)
        if number % 500 == 0:
            yield flush()
    writer.writerow(_footer(report))
    yield flush()


def matrix_xlsx(report: Report) -> tempfile.SpooledTemporaryFile:
    """The workbook in a temporary file, rewound, for send_file to stream.

    Text is always written as text: openpyxl would store a name such as "=HYPERLINK(...)" as a
    live formula and "#N/A" as an error value, and refuses control characters (which it cannot
    write) with an error; such a value goes in a text cell without those characters. Every
    other value is appended as it is (120,000 cells for 10,000 participants by 12 sessions: the
    per-cell work is what the export costs).
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Attendance")
    sheet.freeze_panes = "B2"
    bold = Font(bold=True)

    def as_text(value: str, font: Font | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"
        if font is not None:
            cell.font = font
        return cell

    sheet.append([as_text(title, bold) for title in _header(report)])
    for row in _rows(report):
        for column in (0, 1, 2):  # name, email, organisation: what people typed
            value = row[column]
            if value is not None and (
                value.startswith(_NOT_PLAIN_TEXT) or ILLEGAL_CHARACTERS_RE.search(value)
            ):
                row[column] = as_text(value)
        sheet.append(row)
    sheet.append(_footer(report))
    target = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (send_file closes it)
    workbook.save(target)
    target.seek(0)
    return target
