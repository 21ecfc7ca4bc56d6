"""Recognising a meeting report by its structure, and reading each format.

The formats (their layouts come from the vendors' documentation and public exports; the
samples in tests/attendance/samples/ follow them):

- Zoom "Participants" (CSV, UTF-8 with BOM): optionally a meeting block (Meeting ID, Topic,
  ..., User Email of the host, ...), a blank line, then "Name (Original Name)", "User Email",
  "Join Time", "Leave Time", "Duration (Minutes)", "Guest", "In Waiting Room"; one row per
  connection, "11/14/2026 09:31:05 AM" in the account's zone.
- Zoom "Participants" with "Show unique users": "Name (Original Name)", "User Email",
  "Total Duration (Minutes)", "Guest": one row per person, no join or leave times.
- Zoom's flat export from the usage / active hosts report: the meeting's columns (Topic,
  Meeting ID, User Name, User Email, ... Participants) repeated on every row, then the
  participant's own (Name (Original Name), User Email, Join Time, ...). Columns are taken
  from the participant block; the first User Email is the host's and is never a participant.
- Zoom webinar "Attendee Report": "Attendee Report", "Report Generated:", a summary, then
  blocks "Host Details", "Panelist Details", "Attendee Details", each with its header
  ("Attended", "User Name (Original Name)", ..., "Join Time", "Leave Time", "Time in
  Session (minutes)", ...); rows padded with commas, times "Dec 13, 2026 14:52:03", "--" for
  no-shows. Only attendees are read; hosts, panelists and no-shows are listed as ignored.
- Teams attendance report (UTF-16 LE TSV or UTF-8 CSV), in any language: numbered sections
  "1. Summary", "2. Participants" (one row per person, First Join, Last Leave, In-Meeting
  Duration, Email, Participant ID (UPN), Role), optionally "3. In-Meeting Activities" (one row
  per connection). Sections are recognised by number, columns by their words in English,
  German, French, Spanish or Portuguese. Webinar reports add registration columns, and rows
  with no join time for registrants who did not come.
- The older Teams attendance list (UTF-16 TSV): "Full Name", "User Action" (Joined, Joined
  before, Left), "Timestamp": joins and leaves paired per person.
- Generic CSV: columns email, name (optional), join and leave.
"""

from __future__ import annotations

from .report_base import EXPECTED, Connection, ParsedReport, ReportError, norm_header
from .report_rows import SECTION, Columns, Layout, read_rows, read_table, table, time_reader
from .report_times import TimeReader, decide_day_first

ZOOM_NAME = ("name (original name)", "user name (original name)", "name", "participant")
ZOOM_EMAIL = ("user email", "email", "participant email")

#: Teams' section 1 title, by language; the day-first languages are all but English.
TEAMS_LANGUAGES = {
    "summary": "English",
    "zusammenfassung": "German",
    "resume": "French",
    "resumen": "Spanish",
    "resumo": "Portuguese",
}
TEAMS_HOST_ROLES = frozenset(
    ("organizer", "organiser", "organisator", "organisateur", "organizador", "organizadora")
)
_TEAMS_NAME = ("name", "nom", "nombre", "nome", "full name", "nom complet", "nombre completo")
_TEAMS_JOIN = ("join", "beitritt", "arrivee", "participation", "union", "entrada", "ingreso")
_TEAMS_LEAVE = ("leave", "verlass", "depart", "sortie", "salida", "saida")
_TEAMS_DURATION = ("duration", "dauer", "duree", "duracion", "duracao")
_TEAMS_EMAIL = ("email", "e-mail", "correo", "courriel")
_TEAMS_ROLE = ("role", "rolle", "rol", "funcao", "papel")


class Context:
    """What every reader needs: the lines, the organiser's zone and the session's start."""

    def __init__(self, text: str, timezone: str, session_start: float) -> None:
        self.lines = text.splitlines()
        self.timezone = timezone
        self.session_start = session_start


def read_report(text: str, timezone: str, session_start: float) -> ParsedReport:
    ctx = Context(text, timezone, session_start)
    lines = ctx.lines
    first = next((line for line in lines if line.strip()), "")
    if _section(first) == 1:
        return _teams(ctx)
    if norm_header(first.split(",", 1)[0]) == "attendee report" or any(
        line.lower().startswith("attendee details") for line in lines[:300]
    ):
        return _zoom_webinar(ctx)
    for number, line in enumerate(lines[:200]):
        lowered = line.lower()
        if "user action" in lowered and "timestamp" in lowered:
            return _teams_list(ctx, number)
        if "join time" in lowered and "leave time" in lowered and "email" in lowered:
            return _zoom(ctx, number)
        if "total duration (minutes)" in lowered and "name (original name)" in lowered:
            return _zoom_unique(ctx, number)
        if "email" in lowered and "join" in lowered and "leave" in lowered:
            return _generic(ctx, number)
    raise ReportError(
        "This does not look like a Zoom or Teams participant report: no row names the people "
        f"and their join and leave times or minutes. {EXPECTED}"
    )


def _section(line: str) -> int | None:
    match = SECTION.match(line.lower()) if line[:3].lstrip('"').strip()[:1].isdigit() else None
    return int(match.group(1)) if match else None


def _finish(
    ctx: Context, header: list, rows: list, layout: Layout, cols: Columns, label: str, **kw
) -> ParsedReport:
    """Read the rows with the day/month order decided from the whole table."""
    if not rows:
        raise ReportError("The report lists no participants.")
    language_day_first = kw.pop("day_first_language", False)
    ignored: list = kw.pop("ignored", [])
    reader = time_reader(rows, layout, ctx.timezone, ctx.session_start, language_day_first)
    connections, reader = read_table(
        lambda order: read_rows(rows, layout, order, len(header), ignored), reader, ignored
    )
    return ParsedReport(
        source=layout.source,
        connections=connections,
        label=label,
        columns=cols.used,
        ignored=ignored,
        day_first=reader.day_first if layout.join is not None else None,
        **kw,
    )


# --- Zoom ----------------------------------------------------------------------------------


def _zoom(ctx: Context, header_at: int) -> ParsedReport:
    header, rows = table(ctx.lines, header_at)
    norm = [norm_header(c) for c in header]
    block = norm.index("name (original name)") if "name (original name)" in norm else 0
    cols = Columns(header, block)
    hosts: set[str] = set()
    label, meeting_ids = "Zoom participants export", None
    if block:  # the usage report's flat export: the meeting's columns come first
        label = "Zoom usage report export (meeting columns on every row)"
        meeting = Columns(header[:block])
        host_col = meeting.find("host's email", ("user email", "host email", "email"))
        if host_col is not None:
            cols.used.append(
                ("host's email (never a participant)", header[host_col].strip(), host_col + 1)
            )
            hosts = {row[host_col].strip().lower() for _, row in rows if len(row) > host_col}
        id_col = meeting.find("meeting ID", ("meeting id",))
        if id_col is not None:
            meeting_ids = {line: row[id_col].strip() for line, row in rows if len(row) > id_col}
    else:
        hosts, had_meeting = _zoom_meeting_hosts(ctx.lines[:header_at])
        label += " with meeting data" if had_meeting else ""
    layout = _zoom_layout(
        cols, waiting=cols.find("waiting room", ("in waiting room",)), host_emails=hosts - {""}
    )
    report = _finish(ctx, header, rows, layout, cols, label)
    if meeting_ids and len(set(meeting_ids.values())) > 1:
        _keep_one_meeting(report, meeting_ids, ctx.session_start)
    return report


def _keep_one_meeting(report: ParsedReport, ids: dict[int, str], session_start: float) -> None:
    """A usage export over several meetings: keep the one that began nearest the session's
    start; the others' rows are listed as left out."""
    first: dict[str, float] = {}
    for connection in report.connections:
        meeting = ids[connection.line]
        first[meeting] = min(first.get(meeting, connection.joined), connection.joined)
    chosen = min(first, key=lambda meeting: abs(first[meeting] - session_start))
    kept = []
    for connection in report.connections:
        if ids[connection.line] == chosen:
            kept.append(connection)
        else:
            why = f"another meeting (ID {ids[connection.line]}) in the same export"
            # A connection has a name or an email (read_rows refuses a row with neither).
            who = connection.name or connection.email or ""
            report.ignored.append((connection.line, who, why))
    report.connections = kept
    report.label += f", meeting {chosen} of {len(first)}"


def _zoom_layout(cols: Columns, **more) -> Layout:
    """Where a Zoom table keeps the name, email, join and leave (and `more`)."""
    layout = Layout(
        "zoom",
        name=cols.find("name", ZOOM_NAME),
        email=cols.find("email", ZOOM_EMAIL),
        join=cols.require("join time", ("join time",)),
        leave=cols.require("leave time", ("leave time",)),
        zoom_names=True,
        **more,
    )
    _need_someone(layout)
    return layout


def _zoom_meeting_hosts(above: list[str]) -> tuple[set[str], bool]:
    """The host's email from the meeting block above the participants, if there is one."""
    header, rows = _zoom_meeting_block(above)
    if header is None:
        return set(), False
    column = Columns(header).find("host's email", ("user email", "host email"))
    if column is None:
        return set(), True
    return {row[column].strip().lower() for _, row in rows if len(row) > column}, True


def _zoom_meeting_block(above: list[str]) -> tuple[list[str] | None, list]:
    for number, line in enumerate(above):
        if "meeting id" in line.lower() and number + 1 < len(above):
            return table(above, number)
    return None, []


def _zoom_meeting_span(ctx: Context, above: list[str]) -> tuple[float, float] | None:
    """The meeting's start and end from its block, for reports whose rows give no times."""
    header, rows = _zoom_meeting_block(above)
    if header is None or not rows:
        return None
    cols = Columns(header)
    start, end = cols.find("start", ("start time",)), cols.find("end", ("end time",))
    row = rows[0][1]
    if start is None or end is None or len(row) <= max(start, end):
        return None
    texts = (row[start].strip(), row[end].strip())
    reader = TimeReader(ctx.timezone, *decide_day_first(texts, False, None))
    return reader.read(texts[0], rows[0][0]), reader.read(texts[1], rows[0][0])


def _zoom_unique(ctx: Context, header_at: int) -> ParsedReport:
    header, rows = table(ctx.lines, header_at)
    cols = Columns(header)
    hosts, _ = _zoom_meeting_hosts(ctx.lines[:header_at])
    layout = Layout(
        "zoom",
        name=cols.find("name", ZOOM_NAME),
        email=cols.find("email", ZOOM_EMAIL),
        join=None,
        leave=None,
        minutes=cols.require("total minutes", ("total duration (minutes)",)),
        minutes_in_words=False,
        waiting=cols.find("waiting room", ("in waiting room",)),
        host_emails=hosts - {""},
        zoom_names=True,
    )
    _need_someone(layout)
    report = _finish(
        ctx,
        header,
        rows,
        layout,
        cols,
        "Zoom participants export, unique users",
        join_times=False,
        span=_zoom_meeting_span(ctx, ctx.lines[:header_at]),
    )
    start = ctx.session_start
    report.connections = [c._replace(joined=start, left=start + c.left) for c in report.connections]
    return report


_WEBINAR_BLOCKS = {
    "host details": "the webinar's host",
    "panelist details": "a panelist",
    "attendee details": None,
}


def _zoom_webinar(ctx: Context) -> ParsedReport:
    lines = ctx.lines
    titles = [
        (number, norm_header(line.split(",", 1)[0]))
        for number, line in enumerate(lines)
        if line[:1].isalpha() and line.rstrip(", \t").count(",") == 0
    ]
    ignored: list[tuple[int, str, str]] = []
    connections: list[Connection] = []
    result = None
    for index, (number, title) in enumerate(titles):
        if title not in _WEBINAR_BLOCKS or number + 1 >= len(lines):
            continue
        end = titles[index + 1][0] if index + 1 < len(titles) else None
        header, rows = table(lines, number + 1, end)
        why = _WEBINAR_BLOCKS[title]
        if why is not None:
            cols = Columns(header)
            name = cols.find("name", ZOOM_NAME)
            ignored += [
                (line, row[name].strip() if name is not None and len(row) > name else "", why)
                for line, row in rows
            ]
            continue
        result = _webinar_attendees(ctx, header, rows, ignored)
        connections += result.connections
    if result is None:
        raise ReportError('The Zoom webinar report has no "Attendee Details" block.')
    result.connections, result.ignored = connections, ignored
    return result


def _webinar_attendees(ctx: Context, header: list, rows: list, ignored: list) -> ParsedReport:
    cols = Columns(header)
    attended = cols.find("attended", ("attended",))
    layout = _zoom_layout(cols)
    join = layout.join
    if join is None:
        raise ReportError("The Zoom webinar report has no join time column.")
    kept = []
    for line, row in rows:
        no = attended is not None and len(row) > attended and norm_header(row[attended]) == "no"
        if no or (len(row) > join and row[join].strip() in ("--", "")):
            who = (
                row[layout.name].strip()
                if layout.name is not None and len(row) > layout.name
                else ""
            )
            ignored.append((line, who, "registered, did not attend"))
        else:
            kept.append((line, row))
    if not kept:
        raise ReportError("The Zoom webinar report lists no attendee who attended.")
    return _finish(ctx, header, kept, layout, cols, "Zoom webinar attendee report")


# --- Teams ---------------------------------------------------------------------------------


def _teams(ctx: Context) -> ParsedReport:
    lines = ctx.lines
    sections: dict[int, tuple[int, str]] = {}
    for number, line in enumerate(lines):
        if line[:3].lstrip('"').strip()[:1].isdigit() and (match := SECTION.match(line.lower())):
            sections.setdefault(int(match.group(1)), (number, norm_header(match.group(2))))
    if 2 not in sections:
        raise ReportError(
            'This Teams report has no "2. Participants" section. Download the attendance '
            "report again from the meeting's Attendance tab."
        )
    language = TEAMS_LANGUAGES.get(sections[1][1]) if 1 in sections else None
    header_language = _teams_language_from_header(lines, sections[2][0])
    language = language or header_language
    if 3 in sections:
        start = _next_text(lines, sections[3][0] + 1)
        summary = False
    else:
        start = _next_text(lines, sections[2][0] + 1)
        summary = True
    if start is None:
        raise ReportError('The Teams report has an empty "Participants" section.')
    header, rows = table(lines, start)
    cols = Columns(header)
    upn = cols.find("participant ID (UPN)", (), ("(upn)", "upn"))
    layout = Layout(
        "teams",
        name=cols.find("name", _TEAMS_NAME),
        minutes=cols.find("duration", (), _TEAMS_DURATION) if summary else None,
        email=cols.find("email", (), _TEAMS_EMAIL, exclude=("upn",)),
        join=cols.require("join time", (), _TEAMS_JOIN, exclude=_TEAMS_DURATION),
        leave=cols.require("leave time", (), _TEAMS_LEAVE, exclude=_TEAMS_DURATION),
        role=cols.find("role", _TEAMS_ROLE),
        host_roles=TEAMS_HOST_ROLES,
        upn=upn,
        empty_join_is_no_show=True,
    )
    if summary and layout.minutes is None:
        cols.require("duration", ("in-meeting duration",))
    _need_someone(layout)
    participants_header = norm_header(lines[_next_text(lines, sections[2][0] + 1) or 0])
    webinar = any(word in participants_header for word in ("regist", "inscri", "anmeld"))
    label = "Teams webinar attendance report" if webinar else "Teams attendance report"
    label += f" ({language})" if language else ""
    label += ", participants section only" if summary else ""
    day_first_language = language not in (None, "English")
    return _finish(ctx, header, rows, layout, cols, label, day_first_language=day_first_language)


def _teams_language_from_header(lines: list[str], at: int) -> str | None:
    header = norm_header(lines[_next_text(lines, at + 1) or at])
    for word, language in (
        ("beitritt", "German"),
        ("nombre", "Spanish"),
        ("nome", "Portuguese"),
        ("nom", "French"),
    ):
        if word in header:
            return language
    return None


def _next_text(lines: list[str], start: int) -> int | None:
    for number in range(start, len(lines)):
        if lines[number].strip():
            return number
    return None


def _teams_list(ctx: Context, header_at: int) -> ParsedReport:
    """The older list: a Joined and a Left row per connection, paired per person in time."""
    header, rows = table(ctx.lines, header_at)
    cols = Columns(header)
    name = cols.require("name", ("full name", "name"))
    action = cols.require("action", ("user action",))
    stamp = cols.require("timestamp", ("timestamp",))
    if not rows:
        raise ReportError("The report lists no participants.")
    reader = TimeReader(
        ctx.timezone,
        *decide_day_first(
            (row[stamp] for _, row in rows if len(row) > stamp),
            False,
            (ctx.session_start, ctx.timezone, rows[0][1][stamp].strip())
            if len(rows[0][1]) > stamp
            else None,
        ),
    )
    events: dict[str, list[tuple[float, int, bool]]] = {}
    names: dict[str, str] = {}
    ignored: list[tuple[int, str, str]] = []
    for line, row in rows:
        if len(row) <= max(name, action, stamp):
            raise ReportError(
                f"Line {line} has {len(row)} columns where the header has {len(header)}."
            )
        who, what = row[name].strip(), norm_header(row[action])
        if not who:
            raise ReportError(f"Line {line} has no name.")
        if not what.startswith(("joined", "left")):
            ignored.append((line, who, f'unknown action "{row[action].strip()}"'))
            continue
        key = who.casefold()
        names.setdefault(key, who)
        events.setdefault(key, []).append(
            (reader.read(row[stamp].strip(), line), line, what.startswith("joined"))
        )
    last = max((when for group in events.values() for when, _, _ in group), default=0.0)
    connections: list[Connection] = []
    for key, group in events.items():
        connections += _pair(names[key], sorted(group), last, ignored)
    return ParsedReport(
        source="teams",
        connections=connections,
        label="Teams attendance list (older format: Joined and Left rows)",
        columns=cols.used,
        ignored=ignored,
        day_first=reader.day_first,
    )


def _pair(name: str, events: list, last: float, ignored: list) -> list[Connection]:
    """One person's joins and leaves in time order as connections: a second device's join
    nests inside the first, so the connection ends when the last device leaves."""
    connections, depth, opened = [], 0, (0.0, 0)
    for when, line, joining in events:
        if joining:
            if depth == 0:
                opened = (when, line)
            depth += 1
        elif depth == 0:
            ignored.append((line, name, "left without joining in this list"))
        else:
            depth -= 1
            if depth == 0:
                connections.append(Connection(opened[1], name, None, opened[0], when))
    if depth:  # still connected when the list was downloaded
        connections.append(Connection(opened[1], name, None, opened[0], last))
    return connections


# --- generic -------------------------------------------------------------------------------


def _generic(ctx: Context, header_at: int) -> ParsedReport:
    header, rows = table(ctx.lines, header_at)
    cols = Columns(header)
    layout = Layout(
        "generic",
        name=cols.find("name", ("name", "full name"), ("name",)),
        email=cols.find("email", ("email", "e-mail", "user email"), ("email",)),
        join=cols.require("join time", ("join", "joined", "join time"), ("join",)),
        leave=cols.require("leave time", ("leave", "left", "leave time"), ("leave",)),
    )
    _need_someone(layout)
    return _finish(ctx, header, rows, layout, cols, "CSV with email, name, join and leave")


def _need_someone(layout: Layout) -> None:
    if layout.email is None and layout.name is None:
        raise ReportError('The report has neither an "Email" nor a "Name" column.')
