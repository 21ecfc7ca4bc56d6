"""A module's discussion (20 threads a page) and the certificates overview (50 participants
a page) come a page at a time, with plain links; a new post or reply leads to its page."""

from __future__ import annotations

import re

from learnhub.learning.models import DiscussionPost
from tests import factories as f


def test_the_discussion_comes_a_page_of_threads_at_a_time(client, course):
    module_url = f"/programmes/{course.programme.slug}/modules/{course.manual.position}"
    for n in range(25):
        f.save(
            DiscussionPost(
                module_id=course.manual.id, author_id=course.participant.id, body=f"Thread {n}"
            )
        )
    f.sign_in(client, course.participant)
    second = client.get(module_url + "?page=2").text
    assert "Thread 24" in second and ">Thread 0<" not in second
    assert f'href="{module_url}?page=1#discussion"' in second
    assert client.get(module_url + "?page=3").status_code == 404

    posted = client.post(module_url + "/posts", data={"body": "Newest"})
    assert "?page=2#post-" in posted.headers["Location"]
    first = client.get(module_url).text
    thread = re.search(r'id="post-(\d+)"', first).group(1)
    replied = client.post(module_url + "/posts", data={"body": "Re", "parent_id": thread})
    assert replied.headers["Location"].endswith(
        f"/modules/{course.manual.position}#post-{int(thread) + 26}"
    )


def test_the_certificates_overview_comes_a_page_at_a_time(client, course):
    others = [
        f.early_registration(course.programme, f.make_user(full_name=f"Zed {n:02d}"))
        for n in range(50)
    ]
    f.sign_in(client, course.organiser)
    url = f"/organiser/programmes/{course.programme.slug}/certificates"
    second = client.get(url + "?page=2").text
    assert "Zed 49" in second and "João São Paulo" not in second
    refused = client.post(
        url + "/issue?page=2", data={"registration_id": str(others[49].id), "reason": ""}
    )
    assert refused.status_code == 422 and "Zed 49" in refused.text
    issued = client.post(
        url + "/issue?page=2", data={"registration_id": str(others[49].id), "reason": "In person"}
    )
    assert issued.status_code == 302 and issued.headers["Location"].endswith("?page=2")
    unknown = client.post(url + "/issue", data={"registration_id": "99999", "reason": "In person"})
    assert unknown.status_code == 422 and "confirmed registration" in unknown.text
