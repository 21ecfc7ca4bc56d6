"""Email digests of new posts in a programme's discussions: the participant's choice and the
beat task that sends them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ...accounts.models import User
from ...catalogue.models import Module, Programme
from ...database import begin_write_transaction
from ...errors import NotAllowed
from ...extensions import db
from ...registration.models import Registration
from ..emails import queue_discussion_digest
from ..models import DigestSubscription, DiscussionPost
from .viewer import own_registration


def set_digest(programme: Programme, user: User, wanted: bool) -> bool:
    """Opt in to (or out of) email digests of new posts in the programme's discussions;
    a new subscription starts after the posts that already exist."""
    begin_write_transaction()
    if own_registration(programme.id, user) is None:
        raise NotAllowed("Only registered participants can follow the discussions.")
    subscription = db.session.scalar(
        select(DigestSubscription).where(
            DigestSubscription.user_id == user.id, DigestSubscription.programme_id == programme.id
        )
    )
    if wanted and subscription is None:
        latest = db.session.scalar(
            select(func.max(DiscussionPost.id))
            .join(Module, Module.id == DiscussionPost.module_id)
            .where(Module.programme_id == programme.id)
        )
        db.session.add(
            DigestSubscription(user_id=user.id, programme_id=programme.id, last_post_id=latest or 0)
        )
    elif not wanted and subscription is not None:
        db.session.delete(subscription)
    db.session.commit()
    return wanted


def send_digests() -> int:
    """Beat: for each subscription with new visible posts by others, one digest email into
    the outbox (keyed by subscription and last post), and the high-water mark moves on."""
    begin_write_transaction()
    subscriptions = list(
        db.session.scalars(
            select(DigestSubscription)
            .join(
                Registration,
                (Registration.user_id == DigestSubscription.user_id)
                & (Registration.programme_id == DigestSubscription.programme_id),
            )
            .where(Registration.status == "confirmed")  # cancelled: no more digests
            .options(joinedload(DigestSubscription.user))
        )
    )
    if not subscriptions:
        db.session.commit()
        return 0
    floor = min(s.last_post_id for s in subscriptions)
    programme_ids = {s.programme_id for s in subscriptions}
    rows = db.session.execute(
        select(DiscussionPost, Module.programme_id)
        .join(Module, Module.id == DiscussionPost.module_id)
        .where(
            Module.programme_id.in_(programme_ids),
            DiscussionPost.id > floor,
            DiscussionPost.hidden_at.is_(None),
        )
        .options(joinedload(DiscussionPost.author), joinedload(DiscussionPost.module))
        .order_by(DiscussionPost.id)
    ).all()
    programmes = {
        p.id: p
        for p in db.session.scalars(select(Programme).where(Programme.id.in_(programme_ids)))
    }
    sent = 0
    for subscription in subscriptions:
        new = [
            post
            for post, programme_id in rows
            if programme_id == subscription.programme_id
            and post.id > subscription.last_post_id
            and post.author_id != subscription.user_id
        ]
        if not new:
            continue
        queue_discussion_digest(subscription, programmes[subscription.programme_id], new)
        subscription.last_post_id = new[-1].id
        sent += 1
    db.session.commit()
    return sent
