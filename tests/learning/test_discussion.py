"""Module discussions: plain text with clickable links, moderation, locks, digests."""

from __future__ import annotations

from sqlalchemy import select

from learnhub.extensions import db
from learnhub.learning import services
from learnhub.learning.models import DiscussionPost
from learnhub.learning.text import embed_url, linkify
from learnhub.notifications.models import OutboxMessage
from tests import factories as f

SCRIPT = (
    '<script>alert("x")</script><img src=x onerror=alert(1)> see https://example.org/a?b=1&c=2.'
)


def _module_url(course) -> str:
    return f"/programmes/{course.programme.slug}/modules/{course.manual.position}"


def _post(client, course, body: str, parent_id: int | None = None):
    data = {"body": body}
    if parent_id:
        data["parent_id"] = str(parent_id)
    return client.post(_module_url(course) + "/posts", data=data)


def _posts() -> list[DiscussionPost]:
    db.session.rollback()
    return list(db.session.scalars(select(DiscussionPost).order_by(DiscussionPost.id)))


def test_a_post_with_script_is_shown_as_text_with_its_link_clickable(client, course):
    f.sign_in(client, course.participant)
    assert _post(client, course, SCRIPT).status_code == 302
    html = client.get(_module_url(course)).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">' in html


def test_linkify_never_lets_markup_through():
    html = str(linkify('x"><svg onload=alert(1)> http://a.example/"onmouseover=alert(1)\nline'))
    assert "<svg" not in html
    assert 'href="http://a.example/"' in html  # the quote ends the link
    assert "onmouseover=alert(1)" in html and '"onmouseover' not in html.replace("&#34;", "")
    assert "<br>" in html
    assert str(linkify("javascript:alert(1)")) == "javascript:alert(1)"


def test_embed_urls_only_for_known_providers():
    assert embed_url("https://youtu.be/dQw4w9WgXcQ") == (
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    )
    assert (
        embed_url("https://vimeo.com/76979871") == "https://player.vimeo.com/video/76979871?dnt=1"
    )
    assert embed_url("https://example.org/watch?v=dQw4w9WgXcQ") is None
    assert embed_url("javascript:alert(1)") is None
    assert embed_url('https://www.youtube.com/watch?v=bad"id') is None


def test_someone_not_registered_can_neither_read_nor_post(client, course):
    f.sign_in(client, course.participant)
    _post(client, course, "Our city's heat plan")
    outsider = f.make_user()
    f.make_registration(f.make_programme(), outsider)
    f.sign_in(client, outsider)
    html = client.get(_module_url(course)).get_data(as_text=True)
    assert "Our city&#39;s heat plan" not in html and "Our city's heat plan" not in html
    assert "The discussion is for registered participants." in html
    assert _post(client, course, "Let me in").status_code == 403
    waitlisted = f.make_user()
    f.make_registration(course.programme, waitlisted, status="waitlisted")
    f.sign_in(client, waitlisted)
    assert _post(client, course, "Me too").status_code == 403
    assert [p.body for p in _posts()] == ["Our city's heat plan"]


def test_replies_pins_hiding_and_locking(client, course):
    f.sign_in(client, course.participant)
    _post(client, course, "First")
    _post(client, course, "Second")
    first, second = _posts()
    _post(client, course, "A reply", parent_id=first.id)
    assert _posts()[-1].parent_id == first.id

    f.sign_in(client, course.organiser)
    moderate = f"/organiser/programmes/{course.programme.slug}/posts/{{}}/moderate"
    assert client.post(moderate.format(second.id), data={"action": "pin"}).status_code == 302
    assert client.post(moderate.format(first.id), data={"action": "hide"}).status_code == 302
    organiser_view = client.get(_module_url(course)).get_data(as_text=True)
    assert "Hidden from participants" in organiser_view

    f.sign_in(client, course.participant)
    html = client.get(_module_url(course)).get_data(as_text=True)
    assert "Second" in html and "Pinned" in html
    assert ">First<" not in html
    assert html.index("Second") < html.index("Your post")

    f.sign_in(client, course.organiser)
    lock = f"/organiser/programmes/{course.programme.slug}/modules/1/lock"
    assert client.post(lock, data={"wanted": "on"}).status_code == 302
    f.sign_in(client, course.participant)
    _post(client, course, "After the lock")
    assert "After the lock" not in [p.body for p in _posts()]
    assert "The organisers have closed this discussion." in client.get(
        _module_url(course)
    ).get_data(as_text=True)


def test_an_organiser_of_another_programme_cannot_moderate(client, course):
    f.sign_in(client, course.participant)
    _post(client, course, "Mine")
    (post,) = _posts()
    f.sign_in(client, f.make_organiser(f.make_programme()))
    url = f"/organiser/programmes/{course.programme.slug}/posts/{post.id}/moderate"
    assert client.post(url, data={"action": "hide"}).status_code == 404
    assert _posts()[0].hidden_at is None


def test_digests_go_through_the_outbox_once_per_new_post(app, client, course):
    f.sign_in(client, course.participant)
    _post(client, course, "Before subscribing")
    assert (
        client.post(
            f"/programmes/{course.programme.slug}/digest", data={"wanted": "on", "back": "1"}
        ).status_code
        == 302
    )
    other = f.make_user(full_name="Kim Min-su")
    f.early_registration(course.programme, other)
    f.sign_in(client, other)
    _post(client, course, "Seoul's flood maps: https://example.org/maps")
    _post(client, course, "<b>bold?</b>")
    with app.test_request_context():
        assert services.send_digests() == 1
        assert services.send_digests() == 0
    (digest,) = map(
        f.written,
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "discussion_digest")
        ).all(),
    )
    assert digest.to_address == "joao@example.org"
    assert "Seoul's flood maps" in digest.text_body
    assert "Before subscribing" not in digest.text_body
    assert "<b>bold?</b>" not in digest.html_body
    assert "&lt;b&gt;bold?&lt;/b&gt;" in digest.html_body


def test_odd_numbers_in_a_discussion_form_are_ignored_never_a_500(client, course):
    """ "²" passes str.isdigit() but int() refuses it; 99999999999999999999 is no row id:
    both once reached int() or the query and answered 500."""
    f.sign_in(client, course.participant)
    for odd in ("²", "99999999999999999999"):
        assert _post(client, course, f"Hello {odd}", parent_id=odd).status_code == 302
        digest = client.post(
            f"/programmes/{course.programme.slug}/digest", data={"wanted": "on", "back": odd}
        )
        assert digest.status_code == 302
        assert digest.headers["Location"].endswith("#learning")
    assert [(p.body, p.parent_id) for p in _posts()] == [
        ("Hello ²", None),
        ("Hello 99999999999999999999", None),
    ]
    (post, _) = _posts()
    f.sign_in(client, course.organiser)
    moderate = f"/organiser/programmes/{course.programme.slug}/posts/{post.id}/moderate"
    answer = client.post(moderate, data={"action": "pin", "back": "²"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/learning")


def test_an_unknown_moderation_action_is_refused_with_a_message_not_a_500(client, course):
    """The form's check raised a plain ValueError, which WTForms 3 does not catch (only
    ValidationError): any action but pin, unpin, hide or show answered 500."""
    f.sign_in(client, course.participant)
    _post(client, course, "Mine")
    (post,) = _posts()
    f.sign_in(client, course.organiser)
    url = f"/organiser/programmes/{course.programme.slug}/posts/{post.id}/moderate"
    response = client.post(url, data={"action": "delete"})
    assert response.status_code == 302
    settings = client.get(f"/organiser/programmes/{course.programme.slug}/learning")
    assert "Choose pin, unpin, hide or show." in settings.text
    assert (_posts()[0].pinned, _posts()[0].hidden_at) == (False, None)
