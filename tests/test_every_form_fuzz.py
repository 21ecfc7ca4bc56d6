"""Every form and every upload, fuzzed: whatever is sent, the answer is never a 500.

The forms are not listed by hand: the test signs in as each kind of person, walks the pages
they can reach by following links, reads every form on them (action, method, fields, file
inputs) and sends each one its own defaults with hostile values put in (empty, NUL, line
breaks, huge text, numbers past any row id, impossible dates, repeated keys, files that are
not what they claim to be). A new form is fuzzed the day it appears on a page.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from learnhub.notifications.delivery import drain
from learnhub.types import utcnow
from tests import factories as f

#: Values no form expects; every field of a form gets one of them in turn.
HOSTILE = [
    "",
    " ",
    "\x00",
    "x" * 5000,
    "-1",
    "0",
    "99999999999999999999",
    "²",
    "Hello\r\nBcc: x@evil.example",
    "2030-02-30",
    "9999-12-31",
    "25:61",
    "<script>alert(1)</script>",
    "😀" * 40,
    "../../etc/passwd",
    "a@b",
    "y",
]
#: Files that are not what they claim, or are odd in themselves.
FILES = [
    (b"", "empty.pdf"),
    (b"%PDF-1.4 not really", "guide.pdf"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "photo.png"),
    (bytes(range(256)) * 40, "x" * 400 + ".pdf"),
    (b"email,name,join,leave\r\n\x00,\xff\xfe,,\r\n", "../report.csv"),
    ("Name,Email\r\nÅsa,a@b\r\n".encode("utf-16"), "report.txt"),
]
#: Pages visited per person, at most; forms kept per action (ids folded), at most.
MAX_PAGES = 150
FORMS_PER_ACTION = 1
VARIANTS = 4
#: Forms whose sending would end the walk's own session.
SKIPPED_ACTIONS = re.compile(r"^/(logout|me/delete)")


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


class _Forms(HTMLParser):
    """The links and forms of one page."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            action = urljoin(self.page, a.get("action") or self.page)
            self.forms.append(Form(self.page, action, a.get("method", "get").lower()))
        elif not self.forms or "name" not in a:
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind == "file":
                self.forms[-1].files.append(a["name"])
            elif kind not in ("checkbox", "radio", "submit") or "checked" in a:
                self.forms[-1].fields.append((a["name"], a.get("value", "")))
            if kind in ("checkbox", "radio"):
                self.forms[-1].choices.setdefault(a["name"], []).append(a.get("value", "y"))
        elif tag == "textarea":
            self.forms[-1].fields.append((a["name"], ""))
        elif tag == "select":
            self._select = a["name"]
            self.forms[-1].choices.setdefault(a["name"], [])
        elif tag == "option" and self._select:
            self.forms[-1].choices[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select and self.forms:
            options = self.forms[-1].choices[self._select]
            if options:
                self.forms[-1].fields.append((self._select, options[-1]))
            self._select = None


def _walk(client, starts: list[str]) -> tuple[list[Form], list[str]]:
    """Follow links from `starts`; return the forms found and the pages that answered 500."""
    seen: set[str] = set()
    queue = list(starts)
    forms: list[Form] = []
    broken: list[str] = []
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        path = urlsplit(url)
        if url in seen or path.path.startswith(("/static", "/dev/mailbox")):
            continue
        seen.add(url)
        response = client.get(url)
        body = response.get_data()  # streamed exports are read to the end
        response.close()
        if response.status_code >= 500:
            broken.append(url)
        if "text/html" not in response.content_type:
            continue
        parser = _Forms(url)
        parser.feed(body.decode())
        queue.extend(link for link in parser.links if link not in seen)
        forms.extend(parser.forms)
    return forms, broken


def _distinct(forms: list[Form]) -> list[Form]:
    kept: dict[tuple, int] = {}
    chosen = []
    for form in forms:
        key = (re.sub(r"\d+", "N", urlsplit(form.action).path), form.method)
        if (
            SKIPPED_ACTIONS.match(urlsplit(form.action).path)
            or kept.get(key, 0) >= FORMS_PER_ACTION
        ):
            continue
        kept[key] = kept.get(key, 0) + 1
        chosen.append(form)
    return chosen


def _variants(form: Form, rnd: random.Random) -> list[dict]:
    """The form as the page filled it, then with hostile values in every field."""
    base = list(form.fields)
    names = [name for name, _ in base] + list(form.choices)
    sent = [dict(data=base, files={})]
    for _ in range(VARIANTS):
        data = [(name, rnd.choice(HOSTILE)) for name in dict.fromkeys(names)]
        if names and rnd.random() < 0.3:
            name = rnd.choice(names)
            data += [(name, rnd.choice(HOSTILE)) for _ in range(3)]  # repeated keys
        sent.append(dict(data=data, files={n: rnd.choice(FILES) for n in form.files}))
    return sent


def _send(client, form: Form, variant: dict):
    path = urlsplit(form.action)
    target = path.path + (f"?{path.query}" if path.query else "")
    if form.method == "get":
        return client.get(path.path, query_string=variant["data"])
    body: list[tuple] = list(variant["data"])
    body += [
        (name, (io.BytesIO(content), filename))
        for name, (content, filename) in variant["files"].items()
    ]
    from werkzeug.datastructures import MultiDict

    return client.post(
        target,
        data=MultiDict(body),
        content_type=(
            "multipart/form-data" if variant["files"] else "application/x-www-form-urlencoded"
        ),
    )


@pytest.fixture
def world(app, tmp_path):
    upload = tmp_path / "uploads"
    upload.mkdir(exist_ok=True)
    (upload / "guide.pdf").write_bytes(b"%PDF-1.4 guide")
    app.config["UPLOAD_FOLDER"] = str(upload)
    programme = f.make_programme(capacity=10, sessions=2, first_session_in=timedelta(hours=-3))
    past = f.past_programme(sessions=2)
    f.make_speaker(programme.sessions[0], "Li Wei", "Mayor", f.make_organisation())
    f.make_module(programme, 1)
    f.make_material(
        programme, file_name="guide.pdf", url=None, visibility="registered", kind="guidebook"
    )
    f.make_question(programme, "Your role")
    participant = f.make_user(email="participant@example.org")
    f.make_registration(programme, participant, confirmed_at=utcnow() - timedelta(days=3))
    f.early_registration(past, participant)
    for _ in range(2):
        f.make_registration(programme)
    organiser = f.make_organiser(programme, email="organiser@example.org")
    from learnhub.accounts.models import ProgrammeTeamMember

    f.save(ProgrammeTeamMember(programme_id=past.id, user_id=organiser.id))
    admin = f.make_user(role="admin", email="admin@example.org")
    f.make_check_in(programme.sessions[0])
    drain()
    return {"participant": participant, "organiser": organiser, "admin": admin}, programme


@pytest.mark.parametrize("role", ["anonymous", "participant", "organiser", "admin"])
def test_no_form_or_upload_answers_500(app, client, world, role):
    people, programme = world
    if role != "anonymous":
        f.sign_in(client, people[role])
    starts = {
        "anonymous": ["/", "/login", f"/programmes/{programme.slug}", "/check-in"],
        "participant": ["/", "/me/programmes", "/me/profile", f"/programmes/{programme.slug}"],
        "organiser": ["/organiser/", f"/organiser/programmes/{programme.slug}"],
        "admin": ["/organiser/", "/admin/organisers/", "/admin/topics/", "/admin/outbox"],
    }[role]
    forms, broken = _walk(client, starts)
    assert broken == [], f"pages answering 500: {broken}"
    forms = _distinct(forms)
    if role == "admin":  # the organiser's own forms are the organiser run's
        forms = [x for x in forms if urlsplit(x.action).path.startswith("/admin")]
    assert len(forms) >= {"anonymous": 3, "participant": 5, "organiser": 40, "admin": 2}[role]
    rnd = random.Random(f"{role}-{len(forms)}")
    failures = []
    for form in forms:
        for variant in _variants(form, rnd):
            response = _send(client, form, variant)
            response.get_data()
            response.close()
            if response.status_code >= 500:
                failures.append((form.method, form.action, variant["data"][:8]))
    assert failures == [], f"{len(failures)} answers of 500, first: {failures[:3]}"
