"""Whatever arrives in the registration and answers forms, the answer is never a 500."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as f

text = st.text(max_size=400)
junk = st.one_of(text, st.sampled_from(["", " ", "\x00", "Yes", "Climate", "Brazil", "y"]))
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.data())
def test_registration_form_never_answers_500(client, data):
    programme = f.make_programme(capacity=data.draw(st.sampled_from([None, 0, 1])))
    questions = [
        f.make_question(programme, kind="short_text", required=True),
        f.make_question(programme, kind="long_text"),
        f.make_question(programme, kind="single_choice", choices=["A", "B"]),
        f.make_question(programme, kind="multiple_choice", choices=["Climate", "Social"]),
        f.make_question(programme, kind="country", required=True),
        f.make_question(programme, kind="yes_no"),
    ]
    fields = ["full_name", "email", "organisation", "city", "country", "timezone", "consent"]
    form = {
        name: data.draw(st.one_of(junk, st.just("a@example.org"), st.just("UTC")), label=name)
        for name in fields
        if data.draw(st.booleans(), label=f"send {name}")
    }
    for question in questions:
        if data.draw(st.booleans(), label=f"answer {question.kind}"):
            form[f"q_{question.id}"] = data.draw(
                st.one_of(junk, st.lists(junk, max_size=3)), label=question.kind
            )
    response = client.post(f"/programmes/{programme.slug}/register", data=form)
    assert response.status_code in (302, 422), response.status_code


@FUZZ
@given(answer=st.one_of(junk, st.lists(junk, max_size=3)))
def test_answers_form_never_answers_500(client, answer):
    programme = f.make_programme()
    question = f.make_question(programme, kind="multiple_choice", choices=["Climate"])
    registration = f.make_registration(programme)
    with client.session_transaction() as session:
        session["_user_id"] = str(registration.user_id)
    response = client.post(
        f"/me/registrations/{registration.id}/answers", data={f"q_{question.id}": answer}
    )
    assert response.status_code in (302, 422), response.status_code
