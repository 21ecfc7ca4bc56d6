"""Whatever arrives in the organiser's programme, session and module forms, the answer is
never a 500: a redirect when it was saved, the form with its errors (422) when not."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as f

text = st.text(max_size=200)
odd = st.sampled_from(["", " ", "\x00", "²", "-1", "0", "99999999999999999999", "y"])
#: Values by what a field holds: the odd ones of each kind reach the use case.
DATES = st.one_of(st.dates().map(str), odd, st.sampled_from(["2030-03-10", "2030-02-30"]))
TIMES = st.one_of(
    st.times().map(lambda t: t.strftime("%H:%M")), odd, st.sampled_from(["02:30", "25:61"])
)
ZONES = st.one_of(
    odd,
    st.sampled_from(
        ["UTC", "America/Los_Angeles", "Pacific/Kiritimati", "Asia/Seoul", "Mars/Olympus"]
    ),
)
URLS = st.one_of(text, odd, st.sampled_from(["https://meet.example.org/x", "javascript:x"]))
CHOICES = st.one_of(text, odd, st.sampled_from(["programme", "webinar", "online", "hybrid"]))


def ids(*real: int):
    one = st.one_of(odd, st.sampled_from([*map(str, real), "999999"]))
    return st.one_of(one, st.lists(one, max_size=3))


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def fields(kind: str, module_id: int, person_id: int) -> dict[str, st.SearchStrategy]:
    """The form's fields and what to send in each."""
    common = {"version": st.one_of(odd, st.integers().map(str)), "title": text}
    if kind == "programme":
        return {
            **common,
            **dict.fromkeys(["kind", "format"], CHOICES),
            **dict.fromkeys(["edition", "summary", "description", "venue", "language"], text),
            "topic": ids(),
            **dict.fromkeys(["hosts", "partners"], ids()),
            "timezone": ZONES,
            "capacity": st.one_of(odd, st.integers().map(str)),
            **dict.fromkeys(["approval_required", "waitlist_enabled"], odd),
        }
    if kind == "session":
        return {
            **common,
            **dict.fromkeys(["day", "end_day"], DATES),
            **dict.fromkeys(["start", "end"], TIMES),
            "timezone": ZONES,
            "description": text,
            "join_url": URLS,
            "module": ids(module_id),
            **dict.fromkeys(["speakers", "moderators"], ids(person_id)),
        }
    return {**common, **dict.fromkeys(["theme", "summary", "body"], text)}


VALID = {
    "programme": {
        "kind": "programme",
        "title": "Resilient City",
        "summary": "Cities and shocks.",
        "format": "online",
        "language": "English",
        "timezone": "Asia/Seoul",
    },
    "session": {
        "title": "Opening",
        "day": "2030-03-10",
        "start": "10:00",
        "end": "11:30",
        "timezone": "America/New_York",
    },
    "module": {"title": "Climate resilience"},
}


@FUZZ
@given(data=st.data())
def test_authoring_forms_never_answer_500(client, data):
    programme = f.make_programme(status="draft", timezone="America/New_York")
    module = f.make_module(programme, 1)
    speaker = f.make_speaker(programme.sessions[0], "Li Wei", "Mayor")
    f.sign_in(client, f.make_organiser(programme))
    base = f"/organiser/programmes/{programme.slug}"
    kind, url = data.draw(
        st.sampled_from(
            [
                ("programme", "/organiser/programmes/new"),
                ("programme", f"{base}/edit"),
                ("session", f"{base}/sessions/new"),
                ("session", f"{base}/sessions/{programme.sessions[0].id}/edit"),
                ("module", f"{base}/modules"),
                ("module", f"{base}/modules/{module.id}/edit"),
            ]
        ),
        label="form",
    )
    # Start from a form that would be saved and change a few fields: the use case then runs
    # with odd values (with every field odd, the form stops at its own checks).
    form: dict[str, object] = dict(VALID[kind])
    strategies = fields(kind, module.id, speaker.id)
    names = st.lists(st.sampled_from(sorted(strategies)), min_size=1, max_size=3, unique=True)
    for name in data.draw(names, label="changed"):
        form[name] = data.draw(strategies[name], label=name)
    for name in data.draw(st.lists(st.sampled_from(sorted(VALID[kind])), max_size=1)):
        form.pop(name)
    response = client.post(url, data=form)
    assert response.status_code in (302, 422), (url, response.status_code)
