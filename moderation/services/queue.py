"""The queue's items: opening one per thing, claiming and releasing, taking one to decide, and
closing a post's other items."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from forum.errors import Conflict, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Post, Topic, User, utcnow

from .. import permissions
from ..models import Appeal, QueueItem
from ._common import _queue_event, _state_label, _when


def _open_item(
    kind: str,
    reason: str,
    *,
    post: Post | None = None,
    topic: Topic | None = None,
    appeal: Appeal | None = None,
    target_id: int | None = None,
    area_id: int | None = None,
    committee_id: int | None = None,
    detail: str = "",
    avoid_user_id: int | None = None,
) -> QueueItem:
    """The open item for this thing, creating it (and its event) if there is none.

    A registered source's content (``kind`` not a core kind) is named by ``target_id``; its
    area and committee are given, as it has no topic of its own (nor has an appeal of it).
    """
    topic = topic or (post.topic if post is not None else None)
    key = {
        "post": lambda: f"post:{post.id}",
        "flag": lambda: f"flag:{post.id}",
        "proposal": lambda: f"proposal:{topic.id}",
        "appeal": lambda: f"appeal:{appeal.id}",
    }.get(kind, lambda: f"{kind}:{target_id}")()
    existing = db.session.scalar(select(QueueItem).where(QueueItem.open_key == key))
    if existing is not None:
        return existing
    item = QueueItem(
        kind=kind,
        status="open",
        open_key=key,
        post_id=post.id if post is not None else None,
        topic_id=topic.id if topic is not None else None,
        appeal_id=appeal.id if appeal is not None else None,
        target_id=target_id,
        committee_id=topic.committee_id if topic is not None else committee_id,
        area_id=topic.area_id if topic is not None else area_id,
        reason=reason,
        detail=(detail or "")[:500],
        created_at=utcnow(),
        avoid_user_id=avoid_user_id,
    )
    db.session.add(item)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # Opened at the same moment by another request: use that one.
        found = db.session.scalar(select(QueueItem).where(QueueItem.open_key == key))
        if found is None:
            raise
        return found
    _queue_event("queue_item_added", item, None)
    return item


def _item_conflict(item: QueueItem, viewer: User, now: datetime) -> Conflict:
    if item.status != "open":
        who = item.decided_by.display_name if item.decided_by else _("the system")
        msg = _(
            "%(name)s already decided this item at %(time)s. Nothing was done.",
            name=who,
            time=_when(item.decided_at),
        )
        if item.post is not None:
            db.session.refresh(item.post)
            msg += " " + _("The post is now %(state)s.", state=_state_label(item.post.state))
        return Conflict(msg)
    if item.claimed_by_other(viewer.id, now):
        return Conflict(
            _(
                "%(name)s is handling this item until %(time)s. Nothing was done.",
                name=item.claimed_by.display_name if item.claimed_by else "?",
                time=_when(item.claimed_until),
            )
        )
    return Conflict(_("This item changed in the meantime. Nothing was done."))


def _free_for(user: User, now: datetime):
    return or_(
        QueueItem.claimed_by_id.is_(None),
        QueueItem.claimed_by_id == user.id,
        QueueItem.claimed_until < now,
    )


def get_item(item_id: int) -> QueueItem:
    item = db.session.get(QueueItem, item_id)
    if item is None:
        raise NotFound(_("No such queue item."))
    return item


def claim_item(moderator: User, item: QueueItem, now: datetime | None = None) -> QueueItem:
    """Mark the item as handled by ``moderator`` for MODERATION_CLAIM_MINUTES."""
    if not permissions.can_decide_item(moderator, item):
        raise PermissionDenied(_("This item is outside the areas you moderate."))
    now = now or utcnow()
    until = now + timedelta(minutes=current_app.config["MODERATION_CLAIM_MINUTES"])
    result = db.session.execute(
        update(QueueItem)
        .where(QueueItem.id == item.id, QueueItem.status == "open", _free_for(moderator, now))
        .values(claimed_by_id=moderator.id, claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(item)
        raise _item_conflict(item, moderator, now)
    set_committed_value(item, "claimed_by_id", moderator.id)
    set_committed_value(item, "claimed_until", until)
    set_committed_value(item, "claimed_by", moderator)
    _queue_event(
        "queue_item_claimed",
        item,
        moderator.id,
        claimed_by=moderator.id,
        claimed_until=until.isoformat(),
    )
    return item


def release_item(moderator: User, item: QueueItem) -> None:
    """Give up one's claim (a no-op when the item is not claimed by ``moderator``)."""
    result = db.session.execute(
        update(QueueItem)
        .where(QueueItem.id == item.id, QueueItem.claimed_by_id == moderator.id)
        .values(claimed_by_id=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        set_committed_value(item, "claimed_by_id", None)
        set_committed_value(item, "claimed_until", None)
        set_committed_value(item, "claimed_by", None)
        _queue_event("queue_item_released", item, moderator.id)


def _take_item(moderator: User, item: QueueItem, outcome: str, now: datetime) -> None:
    result = db.session.execute(
        update(QueueItem)
        .where(QueueItem.id == item.id, QueueItem.status == "open", _free_for(moderator, now))
        .values(
            status="decided",
            open_key=None,
            decided_by_id=moderator.id,
            decided_at=now,
            outcome=outcome,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(item)
        raise _item_conflict(item, moderator, now)
    for name, value in (
        ("status", "decided"),
        ("open_key", None),
        ("decided_by_id", moderator.id),
        ("decided_at", now),
        ("outcome", outcome),
        ("decided_by", moderator),
    ):
        set_committed_value(item, name, value)


def _close_items_for_post(
    post: Post,
    actor: User | None,
    outcome: str,
    except_id: int | None = None,
    kinds=("post", "flag"),
) -> None:
    """Close the post's other open items; refuse if another moderator is handling one."""
    now = utcnow()
    cond = [QueueItem.post_id == post.id, QueueItem.status == "open", QueueItem.kind.in_(kinds)]
    if except_id is not None:
        cond.append(QueueItem.id != except_id)
    items = list(db.session.scalars(select(QueueItem).where(*cond)))
    busy = next((i for i in items if actor is not None and i.claimed_by_other(actor.id, now)), None)
    if busy is not None:
        raise _item_conflict(busy, actor, now)
    for item in items:
        item.status = "decided" if actor is not None else "closed"
        item.open_key = None
        item.decided_by_id = actor.id if actor is not None else None
        item.decided_at = now
        item.outcome = outcome
    db.session.flush()
    for item in items:
        _queue_event("queue_item_decided", item, actor.id if actor else None, outcome=outcome)
