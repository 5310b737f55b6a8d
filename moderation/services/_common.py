"""What the service modules share: the actions and their target states, the audit log, in-app
notifications, state moves and row locks, registered review sources and the debate rules
they cite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import current_app
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from sqlalchemy import select, update

from forum import eventlog, hooks, signals
from forum import services as forum_services
from forum.converters import parse_id
from forum.errors import Conflict, InvalidInput
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.models import Notification, Post, PostState, Topic, User, utcnow
from forum.states import transition

from ..models import AuditEntry, DebateRule, Flag, QueueItem

S = PostState
# What a moderator may do with each kind of queue item.
ITEM_ACTIONS: dict[str, tuple[str, ...]] = {
    "post": ("approve", "reject"),
    "flag": ("restore", "hide", "remove"),
    "proposal": ("accept", "decline"),
    "appeal": ("grant", "deny"),
}
# Content of a registered source (``forum.hooks.ReviewSource``, e.g. budgets' ideas).
SOURCE_ACTIONS = ("approve", "reject")
POST_ACTIONS = ("approve", "reject", "hide", "remove", "restore")
RULE_REQUIRED = ("reject", "hide", "remove")
# Decisions against an author that the author may appeal (once each).
APPEALABLE = ("reject", "auto_reject", "hide", "remove", "flag_hide")
# The post's state each action leads to (restore on a still-published post keeps it).
_TARGET = {
    "approve": S.PUBLISHED,
    "restore": S.PUBLISHED,
    "reject": S.REJECTED,
    "hide": S.HIDDEN,
    "remove": S.REMOVED,
}
# The states from which a moderator may take each action directly.
_FROM = {
    "approve": (S.PENDING,),
    "reject": (S.PENDING,),
    "hide": (S.PUBLISHED,),
    "remove": (S.PUBLISHED, S.HIDDEN),
    "restore": (S.HIDDEN, S.PUBLISHED),
}
_EVENT_KIND = {S.REJECTED: "post_rejected", S.HIDDEN: "post_hidden", S.REMOVED: "post_removed"}
STATE_LABELS = {
    S.PENDING: _l("awaiting moderation"),
    S.PUBLISHED: _l("published"),
    S.REJECTED: _l("rejected"),
    S.HIDDEN: _l("hidden"),
    S.REMOVED: _l("removed"),
    S.DELETED: _l("deleted by its author"),
}
TEXT_MAX = 1000
_ACTING = "moderation.acting"


def enabled() -> bool:
    return bool(current_app.config.get("MODERATION_ENABLED"))


@contextmanager
def _acting() -> Iterator[None]:
    """Mark transitions made by moderation, so the signal handler does not log them twice."""
    info = db.session.info
    info[_ACTING] = info.get(_ACTING, 0) + 1
    try:
        yield
    finally:
        info[_ACTING] -= 1


def _is_acting() -> bool:
    return db.session.info.get(_ACTING, 0) > 0


def _state_label(state: PostState) -> str:
    return str(STATE_LABELS.get(state, state.value))


def _when(value: datetime | None) -> str:
    """A stored (naive UTC) time as people say it, without seconds: »12. januar 2027 kl.
    14.30« (the reader's locale, the site's time zone)."""
    if not value:
        return ""
    return _(
        "%(date)s at %(time)s", date=format_date(value, "long"), time=format_time(value, "short")
    )


def until_text(value: datetime) -> str:
    """The end of a suspension as its banner says it (see ``_when``)."""
    return _when(value)


def _clean_text(text: str | None, field: str = "text", limit: int = TEXT_MAX) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise InvalidInput(**{field: _("Use at most %(n)d characters.", n=limit)})
    return text


def audit(
    action: str,
    target_type: str,
    target_id: int | None,
    *,
    actor: User | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    rule: DebateRule | None = None,
    text: str = "",
    data: dict | None = None,
    post: Post | None = None,
    topic: Topic | None = None,
    subject_user_id: int | None = None,
    notification_id: int | None = None,
    area_id: int | None = None,
    committee_id: int | None = None,
) -> AuditEntry:
    """Append one entry to the audit log (in the current transaction). The entry's area and
    committee come from the topic, else from ``area_id``/``committee_id`` (content of a
    registered source has no topic of its own)."""
    topic = topic or (post.topic if post is not None else None)
    entry = AuditEntry(
        created_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        from_state=from_state,
        to_state=to_state,
        rule_id=rule.id if rule is not None else None,
        text=text or "",
        data=data or {},
        post_id=post.id if post is not None else None,
        topic_id=topic.id if topic is not None else None,
        subject_user_id=subject_user_id,
        area_id=topic.area_id if topic is not None else area_id,
        committee_id=topic.committee_id if topic is not None else committee_id,
        notification_id=notification_id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _notify(
    user_id: int, kind: str, post: Post | None = None, topic: Topic | None = None
) -> Notification:
    """An in-app notification (the forum's table); its text comes from the audit entry."""
    topic = topic or (post.topic if post is not None else None)
    n = Notification(
        user_id=user_id,
        kind=kind,
        topic_id=topic.id if topic is not None else None,
        post_id=post.id if post is not None else None,
        actor_id=None,  # moderators act for the municipality, not in their own name
        created_at=utcnow(),
    )
    db.session.add(n)
    db.session.flush()
    eventlog.record(
        "notification",
        "user",
        user_id,
        f"user:{user_id}",
        {"kind": kind, "post_id": n.post_id, "topic_id": n.topic_id},
    )
    return n


def _item_payload(item: QueueItem, **extra) -> dict:
    return {
        "item_id": item.id,
        "kind": item.kind,
        "reason": item.reason,
        "status": item.status,
        "area_id": item.area_id,
        "committee_id": item.committee_id,
        **extra,
    }


def _queue_event(kind: str, item: QueueItem, actor_id: int | None, **extra) -> None:
    eventlog.record(
        kind, "queue_item", item.id, "moderators", _item_payload(item, **extra), actor_id
    )


def _move(post: Post, new: PostState, actor_id: int | None) -> PostState:
    """Apply a transition with its event row and signal (publishing goes through the forum)."""
    if new == S.PUBLISHED:
        old = post.state
        forum_services.publish_post(post, actor_id)
        return old
    old = transition(post, new)
    eventlog.record(
        _EVENT_KIND[new],
        "post",
        post.id,
        f"topic:{post.topic_id}",
        forum_services.post_payload(post) | {"previous_state": old.value},
        actor_id,
    )
    signals.post_state_changed.send(post, old=old, new=new)
    return old


def _lock_post(post: Post, expected: PostState) -> None:
    """Re-check the state we decided on, in the database, and lock the row until commit."""
    result = db.session.execute(
        update(Post)
        .where(Post.id == post.id, Post.state == expected)
        .values(state=expected)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(post)
        raise Conflict(
            _(
                "This post changed in the meantime: it is now %(state)s. Nothing was done.",
                state=_state_label(post.state),
            )
        )


def _retract_notifications(post: Post) -> None:
    """Others' unread notifications about a post that is no longer public stop counting."""
    db.session.execute(
        update(Notification)
        .where(
            Notification.post_id == post.id,
            Notification.read_at.is_(None),
            Notification.user_id != post.author_id,
            Notification.kind.in_(("reply", "followed_topic")),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _resolve_flags(post: Post, status: str, by: User | None) -> int:
    result = db.session.execute(
        update(Flag)
        .where(Flag.post_id == post.id, Flag.status == "open")
        .values(status=status, resolved_at=utcnow(), resolved_by_id=by.id if by else None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def item_actions(kind: str) -> tuple[str, ...]:
    """What a moderator may do with an item of ``kind`` (core or a registered source's)."""
    if kind in ITEM_ACTIONS:
        return ITEM_ACTIONS[kind]
    return SOURCE_ACTIONS if kind in hooks.review_sources() else ()


def source_for(kind: str) -> hooks.ReviewSource:
    source = hooks.review_sources().get(kind)
    if source is None:
        raise Conflict(_("Items of this kind cannot be decided now. Nothing was done."))
    return source


def source_view(kind: str, target_id: int | None) -> hooks.ReviewView:
    view = source_for(kind).views([target_id]).get(target_id) if target_id else None
    if view is None:
        raise Conflict(_("This item no longer exists. Nothing was done."))
    return view


def _source_data(kind: str, view: hooks.ReviewView, **extra) -> dict:
    """What the audit entry keeps of a source's content: enough for notifications and the
    author's page to name it without asking the source again."""
    return {"title": view.title[:200], "url": view.url, **extra}


def get_rule(
    rule_id: int | str | None, *, required: bool, field: str = "rule_id"
) -> DebateRule | None:
    """The active rule with this id (or code); ``InvalidInput`` when required and missing."""
    if rule_id in (None, "", 0, "0"):
        if required:
            raise InvalidInput(**{field: _("Choose the debate rule this decision is based on.")})
        return None
    rule = None
    if isinstance(rule_id, int) or str(rule_id).isdigit():
        try:
            rule = db.session.get(DebateRule, parse_id(rule_id))
        except ValueError:  # a number no rule can have
            raise InvalidInput(**{field: _("Unknown debate rule.")}) from None
    if rule is None:
        rule = db.session.scalar(select(DebateRule).where(DebateRule.code == str(rule_id)))
    if rule is None or not rule.active:
        raise InvalidInput(**{field: _("Unknown debate rule.")})
    return rule
