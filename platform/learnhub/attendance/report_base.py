"""What a read meeting report is, and the first checks on its bytes; pure, no database."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

#: Larger reports are refused: a 1,000-person meeting exports well under 1 MB.
MAX_REPORT_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000

#: What we can read, for the messages that refuse a file.
EXPECTED = (
    "Upload the participant report as Zoom exports it (Participants, with or without unique "
    "users, webinar Attendee Report, or the usage report's export) or as Microsoft Teams "
    "exports it (attendance report in any language, or the older attendance list), or a CSV "
    "with the columns email, name, join and leave."
)


class ReportError(Exception):
    """A report we cannot read; the message tells the organiser what to do."""


class Connection(NamedTuple):
    """One row of a report: someone's join and leave (a tuple: a report has thousands)."""

    line: int
    name: str
    email: str | None
    #: Join and leave instants, UTC epoch seconds.
    joined: float
    left: float
    #: Minutes the report itself gives, for reports with one summary row per person.
    reported_minutes: float | None = None
    alternative_name: str | None = None


@dataclass
class ParsedReport:
    source: str
    connections: list[Connection]
    #: The format recognised, as the preview names it.
    label: str = ""
    #: The columns read: (what, the header as written, column number from 1).
    columns: list[tuple[str, str, int]] = field(default_factory=list)
    #: Rows left out: (line, who, why).
    ignored: list[tuple[int, str, str]] = field(default_factory=list)
    #: True when dates were read day-first, False month-first, None when it did not matter.
    day_first: bool | None = None
    #: False when the report gives minutes but no join times (nobody can be found late).
    join_times: bool = True
    #: The report's own time range (epoch seconds) when its rows do not give it.
    span: tuple[float, float] | None = None


# --- bytes to text -------------------------------------------------------------------------

_BINARY = (
    (b"PK\x03\x04", "an Excel workbook or another zipped file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file"),
    (b"%PDF", "a PDF document"),
)


def decode(data: bytes) -> str:
    if not data.strip():
        raise ReportError("The file is empty. Export the participant report again and upload it.")
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(
            f"The file is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MB, too large for a "
            "participant report. Check that you chose the right file."
        )
    for magic, what in _BINARY:
        if data.startswith(magic):
            raise ReportError(
                f"This file is {what}, not a CSV or text report. Export the participant report "
                "as CSV from Zoom or Teams (or save your spreadsheet as 'CSV UTF-8') and upload "
                "that file."
            )
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        elif (head := data[:200]).count(0) >= len(head) // 3:  # UTF-16 without a BOM
            text = data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReportError(
            "The file is not UTF-8 or UTF-16 text. Export the report from Zoom or Teams again "
            "(or save your spreadsheet as 'CSV UTF-8') and upload that file."
        ) from None
    if "\x00" in text:
        raise ReportError(
            "The file contains NUL characters, so it is not a text export. Export the report "
            "from Zoom or Teams again and upload the file as it was downloaded."
        )
    return text


def norm_header(cell: str) -> str:
    """A header cell compared without case, accents, quotes or extra spaces."""
    cell = re.sub(r"\s+", " ", cell.strip().strip('"').strip().lower())
    if cell.isascii():
        return cell
    decomposed = unicodedata.normalize("NFKD", cell.replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def delimiter_of(line: str) -> str:
    if "\t" in line:
        return "\t"
    return ";" if line.count(";") > line.count(",") else ","
