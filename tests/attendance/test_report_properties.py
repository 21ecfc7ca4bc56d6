"""Properties of reading and merging a report: the order of its rows, how a connection is cut
into rows and the case of the emails never change anyone's result (issue 13), in a Zoom
participants export and in a German Teams report."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnhub.attendance.meeting_reports import merge_people, parse_report

ZONE = "Europe/Madrid"
STARTS = datetime(2026, 11, 14, 9, 30)  # local, naive: how the reports write it
LENGTH = 90 * 60
HEADER = ["Name (Original Name)", "User Email", "Join Time", "Leave Time", "Duration (Minutes)"]

#: One connection: a person (0-5), join offset and length in seconds from the session start.
connections = st.lists(
    st.tuples(st.integers(0, 5), st.integers(-900, LENGTH), st.integers(0, 4000)),
    min_size=1,
    max_size=12,
)


def zoom_csv(rows: list[tuple[str, str, int, int]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for name, email, begin, end in rows:
        joined, left = (STARTS + timedelta(seconds=s) for s in (begin, end))
        writer.writerow(
            [
                name,
                email,
                joined.strftime("%m/%d/%Y %I:%M:%S %p"),
                left.strftime("%m/%d/%Y %I:%M:%S %p"),
                max(1, (end - begin) // 60),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


def teams_de(rows: list[tuple[str, str, int, int]]) -> bytes:
    """A German Teams report (UTF-16 TSV): the connections as In-Meeting Activities."""
    lines = [
        "1. Zusammenfassung",
        "Besprechungstitel\tSitzung",
        "",
        "2. Teilnehmer",
        "Name\tErster Beitritt\tLetztes Verlassen\tBesprechungsdauer\tE-Mail\tRolle",
        "",
        "3. Aktivitäten in der Besprechung",
        "Name\tBeitrittszeit\tZeitpunkt des Verlassens\tDauer\tE-Mail\tRolle",
    ]
    for name, email, begin, end in rows:
        joined, left = (STARTS + timedelta(seconds=s) for s in (begin, end))
        minutes, seconds = divmod(end - begin, 60)
        lines.append(
            f"{name}\t{joined:%d.%m.%y, %H:%M:%S}\t{left:%d.%m.%y, %H:%M:%S}\t"
            f"{minutes} Min. {seconds} Sek.\t{email}\tTeilnehmer"
        )
    return "\r\n".join(lines).encode("utf-16")


WRITERS = [zoom_csv, teams_de]


def result(rows: list[tuple[str, str, int, int]], writer=zoom_csv) -> dict:
    from zoneinfo import ZoneInfo

    starts = STARTS.replace(tzinfo=ZoneInfo(ZONE))
    report = parse_report(writer(rows), ZONE, starts)
    people = merge_people(report, starts, starts + timedelta(seconds=LENGTH))
    return {p.key: (p.minutes, p.seconds, p.joined, p.email) for p in people}


def as_rows(drawn: list[tuple[int, int, int]]) -> list[tuple[str, str, int, int]]:
    return [
        (f"Person {who}", f"person{who}@city.example.org", begin, begin + length)
        for who, begin, length in drawn
    ]


@pytest.mark.parametrize("writer", WRITERS)
@settings(max_examples=40, deadline=None)
@given(drawn=connections, data=st.data())
def test_shuffling_the_rows_changes_nothing(writer, drawn, data):
    rows = as_rows(drawn)
    shuffled = data.draw(st.permutations(rows))
    assert result(shuffled, writer) == result(rows, writer)


@pytest.mark.parametrize("writer", WRITERS)
@settings(max_examples=40, deadline=None)
@given(drawn=connections, data=st.data())
def test_splitting_a_connection_into_overlapping_or_touching_rows_changes_nothing(
    writer, drawn, data
):
    rows = as_rows(drawn)
    index = data.draw(st.integers(0, len(rows) - 1))
    name, email, begin, end = rows[index]
    if end - begin < 2:
        return
    cut = data.draw(st.integers(begin + 1, end - 1))
    overlap = data.draw(st.integers(0, 600))  # 0: the pieces touch
    pieces = [(name, email, begin, min(end, cut + overlap)), (name, email, cut, end)]
    more = data.draw(st.integers(0, 1))  # sometimes a third piece inside the first two
    if more:
        pieces.append((name, email, cut - (cut - begin) // 2, cut))
    split = rows[:index] + pieces + rows[index + 1 :]
    assert result(data.draw(st.permutations(split)), writer) == result(rows, writer)


@pytest.mark.parametrize("writer", WRITERS)
@settings(max_examples=40, deadline=None)
@given(drawn=connections, data=st.data())
def test_changing_the_case_of_emails_changes_nothing(writer, drawn, data):
    rows = as_rows(drawn)
    cases = [str.upper, str.title, str.swapcase, lambda text: text]
    recased = [
        (name, data.draw(st.sampled_from(cases))(email), begin, end)
        for name, email, begin, end in rows
    ]
    assert result(recased, writer) == result(rows, writer)
