"""Module discussions: threads (a post and its replies, one level deep) a page at a time,
posting, the organisers' moderation and lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import joinedload

from ...accounts.models import User
from ...catalogue.models import Module, Programme
from ...database import begin_write_transaction
from ...errors import NotAllowed, NotFound
from ...extensions import db
from ...pagination import requested_page
from ...types import utcnow
from ..errors import LearningError
from ..models import DigestSubscription, DiscussionLock, DiscussionPost
from .viewer import Viewer

MAX_POST_LENGTH = 5000
MODERATION_ACTIONS = ("pin", "unpin", "hide", "show")
#: Threads on one page of a module's discussion.
THREADS_PER_PAGE = 20


# --- reading -------------------------------------------------------------------------------


@dataclass
class Discussion:
    """One page of a module's threads (pinned first, then in order) with their replies."""

    threads: Pagination
    replies: dict[int, list[DiscussionPost]] = field(default_factory=dict)


def _threads(module_id: int, team: bool) -> Select:
    query = select(DiscussionPost).where(
        DiscussionPost.module_id == module_id, DiscussionPost.parent_id.is_(None)
    )
    if not team:
        query = query.where(DiscussionPost.hidden_at.is_(None))
    return query


def _in_order(query: Select) -> Select:
    return query.order_by(
        DiscussionPost.pinned.desc(), DiscussionPost.created_at, DiscussionPost.id
    )


def discussion(module: Module, viewer: Viewer, page: int | None = None) -> Discussion:
    """A page of threads with their replies (3 queries: the count, unless a first page that
    is not full shows them all; the threads; the replies). The team also sees hidden posts."""
    query = _in_order(_threads(module.id, viewer.is_team))
    threads = db.paginate(
        query.options(joinedload(DiscussionPost.author)),
        page=page or requested_page(),
        per_page=THREADS_PER_PAGE,
        max_per_page=THREADS_PER_PAGE,
        count=False,
    )
    if threads.page == 1 and len(threads.items) < THREADS_PER_PAGE:
        threads.total = len(threads.items)
    else:
        counted = select(func.count()).select_from(query.order_by(None).subquery())
        threads.total = db.session.scalar(counted)
    found = Discussion(threads)
    if not threads.items:
        return found
    query = (
        select(DiscussionPost)
        .where(DiscussionPost.parent_id.in_([post.id for post in threads.items]))
        .options(joinedload(DiscussionPost.author))
        .order_by(DiscussionPost.created_at, DiscussionPost.id)
    )
    if not viewer.is_team:
        query = query.where(DiscussionPost.hidden_at.is_(None))
    for reply in db.session.scalars(query):
        # A reply: the query asked for rows whose parent_id is one of the threads.
        found.replies.setdefault(cast(int, reply.parent_id), []).append(reply)
    return found


def page_of(post: DiscussionPost, *, team: bool) -> int:
    """The page of the discussion that shows the post (its thread), to the programme's team
    (who see hidden posts) or to participants."""
    thread = db.session.get(DiscussionPost, post.parent_id) if post.parent_id else post
    if thread is None:
        raise NotFound()
    earlier = or_(
        DiscussionPost.created_at < thread.created_at,
        and_(DiscussionPost.created_at == thread.created_at, DiscussionPost.id < thread.id),
    )
    # Pinned threads come first: before a pinned one, the pinned ones started earlier;
    # before another, every pinned one and those started earlier.
    ahead = (
        and_(DiscussionPost.pinned, earlier)
        if thread.pinned
        else or_(DiscussionPost.pinned, earlier)
    )
    before = _threads(thread.module_id, team).where(ahead).with_only_columns(func.count())
    return db.session.execute(before).scalar_one() // THREADS_PER_PAGE + 1


# --- writing -------------------------------------------------------------------------------


@dataclass
class PostInput:
    body: str
    parent_id: int | None = None


def _module_at(programme_id: int, position: int) -> Module:
    module = db.session.scalar(
        select(Module).where(Module.programme_id == programme_id, Module.position == position)
    )
    if module is None:
        raise NotFound()
    return module


def write_post(
    programme: Programme, position: int, viewer: Viewer, data: PostInput
) -> DiscussionPost:
    """A registered participant (or the team) posts or replies in a module's discussion."""
    if viewer.user is None or not viewer.can_see_registered:
        raise NotAllowed("Only registered participants can take part in the discussion.")
    body = data.body.replace("\x00", "").strip()
    if not body:
        raise LearningError("Write something before posting.")
    if len(body) > MAX_POST_LENGTH:
        raise LearningError(f"Posts are at most {MAX_POST_LENGTH} characters.")
    begin_write_transaction()
    module = _module_at(programme.id, position)
    if db.session.get(DiscussionLock, module.id) is not None:
        raise LearningError("The organisers have closed this discussion.")
    parent_id = data.parent_id
    if parent_id is not None:
        parent = db.session.get(DiscussionPost, parent_id)
        if parent is None or parent.module_id != module.id or parent.hidden_at is not None:
            raise LearningError("The post you replied to is no longer there.")
        parent_id = parent.parent_id or parent.id  # replies stay one level deep
    post = DiscussionPost(
        module_id=module.id, parent_id=parent_id, author_id=viewer.user.id, body=body
    )
    db.session.add(post)
    db.session.commit()
    return post


def moderate_post(programme_id: int, post_id: int, action: str) -> DiscussionPost:
    """An organiser pins, unpins, hides or shows a post of their programme."""
    if action not in MODERATION_ACTIONS:
        raise LearningError("Choose pin, unpin, hide or show.")
    begin_write_transaction()
    post = db.session.scalar(
        select(DiscussionPost)
        .where(DiscussionPost.id == post_id)
        .options(joinedload(DiscussionPost.module))
    )
    if post is None or post.module.programme_id != programme_id:
        raise NotFound()
    if action in ("pin", "unpin"):
        post.pinned = action == "pin"
    else:
        post.hidden_at = utcnow() if action == "hide" else None
    db.session.commit()
    return post


def set_lock(programme_id: int, position: int, locked: bool, user: User) -> Module:
    """An organiser closes (or reopens) a module's discussion."""
    begin_write_transaction()
    module = _module_at(programme_id, position)
    lock = db.session.get(DiscussionLock, module.id)
    if locked and lock is None:
        db.session.add(DiscussionLock(module_id=module.id, locked_by_id=user.id))
    elif not locked and lock is not None:
        db.session.delete(lock)
    db.session.commit()
    return module


def locked_and_followed(programme: Programme, module: Module, viewer: Viewer) -> tuple[bool, bool]:
    """(Is the module's discussion locked, does the viewer get digests of the programme's
    discussions): 1 query."""
    if viewer.user is None:
        raise ValueError("A signed-out viewer has no digest choice.")
    locked = exists().where(DiscussionLock.module_id == module.id)
    followed = exists().where(
        DigestSubscription.user_id == viewer.user.id,
        DigestSubscription.programme_id == programme.id,
    )
    return db.session.execute(select(locked, followed)).one()._tuple()
