"""The learning path's emails, written into the outbox in the use case's transaction."""

from __future__ import annotations

from flask_babel import lazy_gettext

from ..catalogue.models import Programme
from ..errors import NotFound
from ..extensions import db
from ..links import external_url
from ..notifications.models import OutboxMessage
from ..notifications.services import queue_email
from ..registration.models import Registration
from .models import Certificate, DigestSubscription, DiscussionPost


def queue_certificate_email(certificate: Certificate, registration: Registration) -> OutboxMessage:
    """The certificate is ready: links to the PDF and to its public verification page."""
    programme = db.session.get(Programme, certificate.programme_id)
    if programme is None:
        raise NotFound("We could not find that programme.")
    return queue_email(
        kind="certificate_issued",
        dedupe_key=f"certificate:{certificate.id}",
        to=registration.user,
        subject=lazy_gettext("Your certificate: %(title)s", title=certificate.programme_title),
        context={
            "certificate": certificate,
            "pdf_url": external_url("learning.my_certificate", slug=programme.slug),
            "verify_url": external_url("learning.verify", code=certificate.code),
        },
        registration=registration,
    )


def queue_discussion_digest(
    subscription: DigestSubscription, programme: Programme, posts: list[DiscussionPost]
) -> OutboxMessage:
    """New posts in a programme's discussions since the last digest, with links to them."""
    items = [
        (
            post,
            external_url("catalogue.module", slug=programme.slug, position=post.module.position)
            + f"#post-{post.id}",
        )
        for post in posts
    ]
    settings_url = external_url("catalogue.programme", slug=programme.slug) + "#learning"
    return queue_email(
        kind="discussion_digest",
        dedupe_key=f"digest:{subscription.id}:{posts[-1].id}",
        to=subscription.user,
        subject=lazy_gettext("New in the discussions: %(title)s", title=programme.title),
        context={"programme": programme, "items": items, "settings_url": settings_url},
    )
