"""Moderation's write operations: holding, deciding, flags, appeals, suspensions, modes,
watched words, debate rules and reminders.

Each function checks permission, validates, writes its rows, an event row and an audit
entry, and flushes; the caller (view or CLI) commits once. Post states change only through
``forum.states.transition`` (or ``forum.services.publish_post``, which uses it).

Two moderators never act twice on the same thing: a decision first re-checks the post's
state with a guarded ``UPDATE … WHERE state = <what we saw>`` and then takes the queue item
with ``UPDATE … WHERE status = 'open' AND <not claimed by someone else>``; when either
matches no row, nothing is written and ``Conflict`` (409) says what the state is now.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from forum import eventlog, hooks, signals
from forum import permissions as forum_permissions
from forum import services as forum_services
from forum.converters import parse_id
from forum.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.models import (
    Area,
    Committee,
    Notification,
    Post,
    PostState,
    Role,
    Topic,
    TopicStatus,
    User,
    utcnow,
)
from forum.rendering import render_markdown
from forum.states import ALLOWED, transition

from . import permissions, policy
from .defaults import DEFAULT_RULES
from .models import (
    CORE_ITEM_KINDS,
    MODES,
    WORD_ACTIONS,
    WORD_LANGUAGES,
    Appeal,
    AuditEntry,
    DebateRule,
    Flag,
    ModerationMode,
    QueueItem,
    Suspension,
    WatchedWord,
)

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


# --- small helpers --------------------------------------------------------------------------


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


# --- the queue: items ------------------------------------------------------------------------


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


# --- holding (called from the forum's signals) ----------------------------------------------


def _hold(post: Post, from_state: str | None) -> QueueItem:
    assessment = getattr(post, "moderation_assessment", None)
    reason = assessment.main_reason if assessment else policy.main_reason(post.held_reason)
    item = _open_item("post", reason, post=post, detail=post.held_reason or "")
    audit(
        "hold",
        "post",
        post.id,
        from_state=from_state,
        to_state=S.PENDING.value,
        data={"reasons": post.held_reason or ""},
        post=post,
        subject_user_id=post.author_id,
    )
    return item


def _auto_reject(post: Post, word: WatchedWord) -> None:
    with _acting():
        old = _move(post, S.REJECTED, None)
    n = _notify(post.author_id, "moderation_decision", post)
    audit(
        "auto_reject",
        "post",
        post.id,
        from_state=old.value,
        to_state=S.REJECTED.value,
        rule=word.rule,
        data={"word": word.word},
        post=post,
        subject_user_id=post.author_id,
        notification_id=n.id,
    )


def on_post_created(post: Post, **_kw) -> None:
    """A held post goes to the queue (or is rejected at once for a "reject" word)."""
    if not enabled() or post.state != S.PENDING:
        return
    assessment = getattr(post, "moderation_assessment", None)
    if assessment is not None and assessment.reject_word is not None:
        _auto_reject(post, assessment.reject_word)
    else:
        _hold(post, None)
    db.session.flush()


def on_post_edited(post: Post, **_kw) -> None:
    """An edit of a published post that the policy held again goes back to the queue."""
    if not enabled() or post.state != S.PENDING:
        return
    exists = db.session.scalar(select(QueueItem.id).where(QueueItem.open_key == f"post:{post.id}"))
    if exists is None:
        # Held again: the review of the new text supersedes that of the reports (they stay
        # open and come back to the queue if the new text is approved).
        _close_items_for_post(post, None, "superseded", kinds=("flag",))
        _hold(post, S.PUBLISHED.value)
        db.session.flush()


def on_post_state_changed(post: Post, old: PostState, new: PostState, **_kw) -> None:
    """Audit the transitions the forum makes itself (publish on creation, author deletes)."""
    if not enabled() or _is_acting():
        return
    if new == S.DELETED:
        audit(
            "delete",
            "post",
            post.id,
            actor=post.author,
            from_state=old.value,
            to_state=new.value,
            post=post,
            subject_user_id=post.author_id,
        )
        _close_items_for_post(post, None, "withdrawn", kinds=("post", "flag", "appeal"))
        db.session.execute(
            update(Appeal)
            .where(Appeal.post_id == post.id, Appeal.status == "open")
            .values(status="withdrawn", decided_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    else:
        audit(
            "publish" if new == S.PUBLISHED else "transition",
            "post",
            post.id,
            from_state=old.value,
            to_state=new.value,
            post=post,
            subject_user_id=post.author_id,
            data={"by": "policy"},
        )


def on_topic_created(topic: Topic, **_kw) -> None:
    if enabled() and topic.status == TopicStatus.PROPOSED:
        _open_item("proposal", "proposal", topic=topic)


def on_topic_moved(topic: Topic, **_kw) -> None:
    """``forum.signals.topic_moved``: the topic's open queue items follow it to its new
    committee and area (their copies scope what area moderators see)."""
    db.session.execute(
        update(QueueItem)
        .where(QueueItem.topic_id == topic.id, QueueItem.status == "open")
        .values(area_id=topic.area_id, committee_id=topic.committee_id)
    )


def on_topic_proposal_decided(topic: Topic, moderator: User, **_kw) -> None:
    """A proposal decided on the forum's own proposals page: close its queue item (unless
    another moderator is handling it: ``Conflict``, nothing written) and audit it."""
    if not enabled() or _is_acting():
        return
    accept = topic.status == TopicStatus.OPEN
    outcome = "accept" if accept else "decline"
    item = db.session.scalar(select(QueueItem).where(QueueItem.open_key == f"proposal:{topic.id}"))
    if item is not None:
        now = utcnow()
        _take_item(moderator, item, outcome, now)
        _queue_event("queue_item_decided", item, moderator.id, outcome=outcome)
    audit(
        "proposal_accept" if accept else "proposal_decline",
        "topic",
        topic.id,
        actor=moderator,
        from_state=TopicStatus.PROPOSED.value,
        to_state=topic.status.value,
        topic=topic,
        subject_user_id=topic.author_id,
    )


# --- moderating on other packages' pages (forum.hooks.ModeratorDesk) -------------------------


class Desk:
    """The desk registered with ``forum.hooks.register_moderator_desk``: live Q&A sets its
    topics' modes and decides its held questions here, with the debate rules as reasons."""

    def set_mode(self, actor: User, target_type: str, target_id: int, mode: str | None) -> None:
        set_mode(actor, target_type, target_id, mode)

    def moderate_post(
        self, moderator: User, post: Post, action: str, rule_id=None, text: str = ""
    ) -> None:
        moderate_post(moderator, post, action, rule_id, text)

    def rule_choices(self, lang: str) -> list[tuple[str, str]]:
        rows = db.session.scalars(
            select(DebateRule)
            .where(DebateRule.active.is_(True))
            .order_by(DebateRule.position, DebateRule.id)
        )
        return [(str(r.id), r.title(lang)) for r in rows]


# --- content of other packages (forum.hooks.ReviewQueue) --------------------------------------


class SourceQueue:
    """The queue registered with ``forum.hooks.register_review_queue``: other packages'
    content (budgets' ideas) waits here like a held post and is decided, audited and
    appealed the same way."""

    def active(self) -> bool:
        return enabled()

    def hold(self, request: hooks.ReviewRequest) -> bool:
        if not enabled() or request.kind not in hooks.review_sources():
            return False
        key = f"{request.kind}:{request.target_id}"
        if db.session.scalar(select(QueueItem.id).where(QueueItem.open_key == key)):
            return True  # already waiting (asked twice): one item, one audit entry
        _open_item(
            request.kind,
            request.reason,
            target_id=request.target_id,
            area_id=request.area_id,
            committee_id=request.committee_id,
            detail=request.detail,
        )
        audit(
            "hold",
            request.kind,
            request.target_id,
            from_state="published" if request.reason == "edited_content" else None,
            to_state=S.PENDING.value,
            data={"reasons": request.reason, "detail": request.detail[:100]},
            subject_user_id=request.author_id,
            area_id=request.area_id,
            committee_id=request.committee_id,
        )
        db.session.flush()
        return True

    def withdraw(self, kind: str, target_id: int, actor_id: int | None) -> None:
        """Close the content's open item and any open appeal of a decision on it."""
        if not enabled():
            return
        now = utcnow()
        appeals = list(
            db.session.scalars(
                select(Appeal)
                .join(AuditEntry, AuditEntry.id == Appeal.entry_id)
                .where(
                    AuditEntry.target_type == kind,
                    AuditEntry.target_id == target_id,
                    AuditEntry.post_id.is_(None),
                    Appeal.status == "open",
                )
            )
        )
        keys = [f"{kind}:{target_id}"] + [f"appeal:{a.id}" for a in appeals]
        items = list(db.session.scalars(select(QueueItem).where(QueueItem.open_key.in_(keys))))
        for item in items:
            item.status, item.open_key, item.decided_at = "closed", None, now
            item.outcome = "withdrawn"
        for a in appeals:
            a.status, a.decided_at = "withdrawn", now
        db.session.flush()
        for item in items:
            _queue_event("queue_item_decided", item, actor_id, outcome="withdrawn")
        if items or appeals:
            first = items[0] if items else None
            audit(
                "withdraw",
                kind,
                target_id,
                actor=db.session.get(User, actor_id) if actor_id else None,
                to_state="withdrawn",
                subject_user_id=actor_id,
                area_id=first.area_id if first else None,
                committee_id=first.committee_id if first else None,
            )


# --- decisions -------------------------------------------------------------------------------


def _check_not_suspended_for_approval(post: Post) -> None:
    s = active_suspension(post.author_id)
    if s is not None:
        raise Conflict(
            _(
                "The author is suspended: their held posts stay held until the "
                "suspension ends. You can still reject the post."
            )
        )


def _apply_post_action(
    moderator: User, post: Post, action: str, rule: DebateRule | None, text: str
) -> AuditEntry:
    """Move the post, resolve its flags, tell its author, write the audit entry."""
    old_state = post.state
    new_state = _TARGET[action]
    if action == "restore" and old_state == S.PUBLISHED:
        new_state = S.PUBLISHED  # a flagged post kept: the reports are dismissed
    elif action == "hide" and old_state == S.HIDDEN:
        new_state = S.HIDDEN  # hidden by reports, and a moderator agrees (with a rule)
    elif new_state not in ALLOWED[old_state]:
        raise Conflict(
            _(
                "A post that is %(state)s cannot be changed like that.",
                state=_state_label(old_state),
            )
        )
    if new_state != old_state:
        with _acting():
            _move(post, new_state, moderator.id)
    if action in ("hide", "remove"):
        _resolve_flags(post, "upheld", moderator)
        _retract_notifications(post)
    elif action == "restore":
        _resolve_flags(post, "dismissed", moderator)
    elif action == "reject":
        _retract_notifications(post)
    if (
        action == "approve"
        and db.session.scalar(
            select(Flag.id).where(Flag.post_id == post.id, Flag.status == "open").limit(1)
        )
        is not None
    ):
        _open_item("flag", "flags", post=post)  # reports made before it was held again
    n = None
    if new_state != old_state or action == "hide":
        n = _notify(post.author_id, "moderation_decision", post)
    return audit(
        "keep" if action == "restore" and new_state == old_state else action,
        "post",
        post.id,
        actor=moderator,
        from_state=old_state.value,
        to_state=new_state.value,
        rule=rule,
        text=text,
        post=post,
        subject_user_id=post.author_id,
        notification_id=n.id if n is not None else None,
    )


def _other_moderator_exists(area_id: int | None, exclude_id: int) -> bool:
    scoped_here = User.moderated_areas.any(Area.id == area_id) if area_id else False
    return (
        db.session.scalar(
            select(User.id)
            .where(
                User.id != exclude_id,
                or_(
                    User.role == Role.ADMIN,
                    and_(
                        User.role == Role.MODERATOR, or_(~User.moderated_areas.any(), scoped_here)
                    ),
                ),
            )
            .limit(1)
        )
        is not None
    )


def _validate_decision(
    moderator: User, item: QueueItem, action: str, rule_id, text: str
) -> tuple[DebateRule | None, str]:
    if not permissions.can_decide_item(moderator, item):
        raise PermissionDenied(_("This item is outside the areas you moderate."))
    if action not in item_actions(item.kind):
        raise InvalidInput(action=_("That action is not possible for this item."))
    rule = get_rule(rule_id, required=action in RULE_REQUIRED)
    text = _clean_text(text)
    if (
        item.kind == "appeal"
        and item.avoid_user_id == moderator.id
        and _other_moderator_exists(item.area_id, moderator.id)
    ):
        raise PermissionDenied(
            _("You made the decision under appeal, so another moderator decides the appeal.")
        )
    if item.kind == "post" and action == "approve" and item.post is not None:
        _check_not_suspended_for_approval(item.post)
    if item.kind not in CORE_ITEM_KINDS and action == "approve":
        author_id = source_view(item.kind, item.target_id).author_id
        if author_id is not None and active_suspension(author_id) is not None:
            raise Conflict(
                _(
                    "The author is suspended: what they wrote stays held until the "
                    "suspension ends. You can still reject it."
                )
            )
    return rule, text


def decide_item(
    moderator: User,
    item: QueueItem,
    action: str,
    rule_id=None,
    text: str = "",
    now: datetime | None = None,
) -> AuditEntry | None:
    """Decide a queue item. ``Conflict`` (409, nothing written) when it was already decided
    or another moderator holds it; ``InvalidInput`` for a missing rule."""
    now = now or utcnow()
    rule, text = _validate_decision(moderator, item, action, rule_id, text)
    if item.status != "open" or item.claimed_by_other(moderator.id, now):
        raise _item_conflict(item, moderator, now)
    post = item.post
    if post is not None and item.kind in ("post", "flag", "appeal"):
        _lock_post(post, post.state)  # post first, then item: one lock order everywhere
    _take_item(moderator, item, action, now)
    if item.kind == "proposal":
        entry = _decide_proposal(moderator, item, action, rule, text)
    elif item.kind not in CORE_ITEM_KINDS:
        entry = _decide_source_item(moderator, item, action, rule, text)
    elif item.kind == "appeal":
        entry = _decide_appeal(moderator, item, action, text)
    else:
        _close_items_for_post(post, moderator, action, except_id=item.id)
        entry = _apply_post_action(moderator, post, action, rule, text)
    _queue_event("queue_item_decided", item, moderator.id, outcome=action)
    db.session.flush()
    return entry


def moderate_post(
    moderator: User, post: Post, action: str, rule_id=None, text: str = ""
) -> AuditEntry:
    """Act on a post directly (from its moderation page); uses its open item if it has one."""
    if not permissions.can_moderate_topic(moderator, post.topic):
        raise PermissionDenied(_("This post is outside the areas you moderate."))
    if action not in POST_ACTIONS:
        raise InvalidInput(action=_("That action is not possible for this post."))
    open_items = list(
        db.session.scalars(
            select(QueueItem).where(
                QueueItem.post_id == post.id,
                QueueItem.status == "open",
                QueueItem.kind.in_(("post", "flag")),
            )
        )
    )
    for item in open_items:
        if action in ITEM_ACTIONS[item.kind]:
            return decide_item(moderator, item, action, rule_id, text)
    rule = get_rule(rule_id, required=action in RULE_REQUIRED)
    text = _clean_text(text)
    if post.state not in _FROM[action] or (action == "restore" and post.state != S.HIDDEN):
        raise Conflict(
            _(
                "A post that is %(state)s cannot be changed like that.",
                state=_state_label(post.state),
            )
        )
    if action == "approve":
        _check_not_suspended_for_approval(post)
    _lock_post(post, post.state)
    _close_items_for_post(post, moderator, action)
    entry = _apply_post_action(moderator, post, action, rule, text)
    db.session.flush()
    return entry


def _decide_proposal(
    moderator: User, item: QueueItem, action: str, rule: DebateRule | None, text: str
) -> AuditEntry:
    topic = item.topic
    accept = action == "accept"
    with _acting():
        forum_services.decide_topic_proposal(moderator, topic, accept)
    return audit(
        "proposal_accept" if accept else "proposal_decline",
        "topic",
        topic.id,
        actor=moderator,
        from_state=TopicStatus.PROPOSED.value,
        to_state=topic.status.value,
        rule=rule,
        text=text,
        topic=topic,
        subject_user_id=topic.author_id,
    )


def _reason_for_author(author_id: int | None, rule: DebateRule | None, text: str) -> str:
    """The rule (in the author's language) and the moderator's text, for a source to show."""
    author = db.session.get(User, author_id) if author_id else None
    title = rule.title(author.locale if author is not None else None) if rule else ""
    return ": ".join(part for part in (title, text) if part)


def _decide_source_item(
    moderator: User, item: QueueItem, action: str, rule: DebateRule | None, text: str
) -> AuditEntry:
    """Approve or reject a registered source's content: the source publishes or rejects it
    and tells its author; the decision is audited here (and can be appealed)."""
    source = source_for(item.kind)
    view = source_view(item.kind, item.target_id)
    approve = action == "approve"
    notification_id = source.decide(
        moderator, item.target_id, approve, _reason_for_author(view.author_id, rule, text)
    )
    return audit(
        action,
        item.kind,
        item.target_id,
        actor=moderator,
        from_state=view.state,
        to_state="published" if approve else "rejected",
        rule=rule,
        text=text,
        data=_source_data(item.kind, view),
        subject_user_id=view.author_id,
        notification_id=notification_id,
        area_id=item.area_id,
        committee_id=item.committee_id,
    )


def _decide_source_appeal(moderator: User, appeal: Appeal, granted: bool, text: str) -> AuditEntry:
    entry = appeal.entry
    source = source_for(entry.target_type)
    view = source_view(entry.target_type, entry.target_id)
    if granted and view.state != "published":
        source.reinstate(moderator, entry.target_id)
    appeal.status = "granted" if granted else "denied"
    appeal.decided_at = utcnow()
    appeal.decided_by_id = moderator.id
    appeal.outcome_text = text
    n = _notify(appeal.author_id, "moderation_appeal")
    return audit(
        "appeal_granted" if granted else "appeal_denied",
        entry.target_type,
        entry.target_id,
        actor=moderator,
        from_state=view.state,
        to_state="published" if granted else view.state,
        rule=entry.rule,
        text=text,
        data=_source_data(entry.target_type, view, appeal_id=appeal.id, entry_id=entry.id),
        subject_user_id=appeal.author_id,
        notification_id=n.id,
        area_id=entry.area_id,
        committee_id=entry.committee_id,
    )


def _decide_appeal(moderator: User, item: QueueItem, action: str, text: str) -> AuditEntry:
    appeal = item.appeal
    if appeal is None or appeal.status != "open":
        raise Conflict(_("This appeal has already been decided."))
    if appeal.post_id is None:
        return _decide_source_appeal(moderator, appeal, action == "grant", text)
    post = item.post
    old = post.state
    granted = action == "grant"
    if granted and old != S.PUBLISHED:
        if S.PUBLISHED not in ALLOWED[old]:
            raise Conflict(
                _("A post that is %(state)s cannot be changed like that.", state=_state_label(old))
            )
        with _acting():
            _move(post, S.PUBLISHED, moderator.id)
        _resolve_flags(post, "dismissed", moderator)
        _close_items_for_post(post, moderator, "appeal_granted", except_id=item.id)
    appeal.status = "granted" if granted else "denied"
    appeal.decided_at = utcnow()
    appeal.decided_by_id = moderator.id
    appeal.outcome_text = text
    n = _notify(appeal.author_id, "moderation_appeal", post)
    return audit(
        "appeal_granted" if granted else "appeal_denied",
        "post",
        post.id,
        actor=moderator,
        from_state=old.value,
        to_state=post.state.value,
        rule=appeal.entry.rule,
        text=text,
        data={"appeal_id": appeal.id, "entry_id": appeal.entry_id},
        post=post,
        subject_user_id=appeal.author_id,
        notification_id=n.id,
    )


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def bulk_decide(
    moderator: User, item_ids: list[int], action: str, rule_id=None, text: str = ""
) -> BulkResult:
    """Approve or reject a selection of held posts; each item succeeds or fails alone."""
    if action not in ("approve", "reject"):
        raise InvalidInput(bulk_action=_("Choose approve or reject."))
    if not item_ids:
        raise InvalidInput(ids=_("Select at least one item."))
    get_rule(rule_id, required=action == "reject")
    _clean_text(text)
    result = BulkResult()
    items = {
        i.id: i for i in db.session.scalars(select(QueueItem).where(QueueItem.id.in_(item_ids)))
    }
    for item_id in item_ids:
        item = items.get(item_id)
        if item is None:
            result.failed.append((item_id, _("No such queue item.")))
            continue
        if item.kind != "post" and item_actions(item.kind) != SOURCE_ACTIONS:
            result.failed.append((item_id, _("Only held posts can be decided in bulk.")))
            continue
        try:
            with db.session.begin_nested():
                decide_item(moderator, item, action, rule_id, text)
        except DomainError as exc:
            result.failed.append((item_id, exc.message or next(iter(exc.fields.values()), "")))
        else:
            result.done.append(item_id)
    return result


# --- flags -------------------------------------------------------------------------------


def reporter_weight(user: User) -> float:
    """How much a user's reports count: (upheld + 2) / (decided + 2), at least 0.1."""
    counts = dict(
        db.session.execute(
            select(Flag.status, func.count(Flag.id))
            .where(Flag.reporter_id == user.id, Flag.status.in_(("upheld", "dismissed")))
            .group_by(Flag.status)
        ).all()
    )
    upheld, dismissed = counts.get("upheld", 0), counts.get("dismissed", 0)
    return max(0.1, (upheld + 2) / (upheld + dismissed + 2))


def report_post(reporter: User, post: Post, reason: str, text: str = "") -> Flag:
    """Report a published post once. Enough weighted reports (or one by a moderator of
    the area) hide it until a moderator reviews it."""
    forum_services.check_restriction(reporter, "flag")  # suspensions, and other packages'

    if not forum_permissions.can_see_post(reporter, post):
        raise NotFound(_("No such post."))
    if post.author_id == reporter.id:
        raise InvalidInput(reason=_("You cannot report your own post."))
    if post.state != S.PUBLISHED:
        raise Conflict(_("Only published posts can be reported."))
    text = _clean_text(text, limit=500)
    if reason == "other":
        rule = None
        if not text:
            raise InvalidInput(text=_("Describe the problem when you choose “Other”."))
    else:
        rule = get_rule(reason, required=True, field="reason")
    already = db.session.scalar(
        select(Flag.id).where(Flag.post_id == post.id, Flag.reporter_id == reporter.id)
    )
    if already is not None:
        raise Conflict(_("You have already reported this post."))
    by_moderator = permissions.can_moderate_topic(reporter, post.topic)
    flag = Flag(
        post_id=post.id,
        reporter_id=reporter.id,
        post_author_id=post.author_id,
        rule_id=rule.id if rule else None,
        text=text,
        weight=1.0 if by_moderator else reporter_weight(reporter),
        status="open",
        created_at=utcnow(),
    )
    db.session.add(flag)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("You have already reported this post.")) from None
    _open_item("flag", "flags", post=post)
    audit(
        "flag",
        "post",
        post.id,
        actor=reporter,
        from_state=post.state.value,
        to_state=post.state.value,
        rule=rule,
        text=text,
        data={"weight": flag.weight},
        post=post,
        subject_user_id=post.author_id,
    )
    total = (
        db.session.scalar(
            select(func.coalesce(func.sum(Flag.weight), 0.0)).where(
                Flag.post_id == post.id, Flag.status == "open"
            )
        )
        or 0.0
    )
    threshold = current_app.config["MODERATION_FLAG_THRESHOLD"]
    if by_moderator or total + 1e-9 >= threshold:
        _hide_by_flags(post, reporter if by_moderator else None, rule, total)
    db.session.flush()
    return flag


def _hide_by_flags(
    post: Post, moderator: User | None, rule: DebateRule | None, total: float
) -> None:
    _lock_post(post, S.PUBLISHED)
    if moderator is None:
        # Cite the rule most reports named.
        top = db.session.execute(
            select(Flag.rule_id, func.count(Flag.id).label("n"))
            .where(Flag.post_id == post.id, Flag.status == "open", Flag.rule_id.is_not(None))
            .group_by(Flag.rule_id)
            .order_by(func.count(Flag.id).desc(), Flag.rule_id)
            .limit(1)
        ).first()
        rule = db.session.get(DebateRule, top[0]) if top else rule
    with _acting():
        _move(post, S.HIDDEN, moderator.id if moderator else None)
    _retract_notifications(post)
    n = _notify(post.author_id, "moderation_decision", post)
    audit(
        "flag_hide",
        "post",
        post.id,
        actor=moderator,
        from_state=S.PUBLISHED.value,
        to_state=S.HIDDEN.value,
        rule=rule,
        data={"weight": round(total, 2)},
        post=post,
        subject_user_id=post.author_id,
        notification_id=n.id,
    )


# --- appeals -------------------------------------------------------------------------------


def appealable_entry(entry: AuditEntry, post: Post | None) -> bool:
    """Is the decision still in force (the post, or a source's content, is still in the
    state the decision left it in)?"""
    if entry.action not in APPEALABLE:
        return False
    if post is not None:
        return post.state.value == entry.to_state
    if entry.post_id is None and entry.target_type in hooks.review_sources():
        view = (
            hooks.review_sources()[entry.target_type].views([entry.target_id]).get(entry.target_id)
        )
        return view is not None and view.state == entry.to_state
    return False


def appeal_decision(author: User, entry: AuditEntry | None, text: str) -> Appeal:
    """Appeal one decision against ``author``'s post, once; it goes to the queue."""
    if entry is None:
        raise NotFound(_("No such decision."))
    if entry.subject_user_id != author.id:
        raise PermissionDenied(
            _("This decision was not made against you, so you cannot appeal it.")
        )
    if entry.action not in APPEALABLE:
        raise InvalidInput(text=_("This decision cannot be appealed."))
    if db.session.scalar(select(Appeal.id).where(Appeal.entry_id == entry.id)) is not None:
        raise Conflict(_("You have already appealed this decision."))
    post = db.session.get(Post, entry.post_id) if entry.post_id else None
    if not appealable_entry(entry, post):
        raise Conflict(
            _("This decision no longer applies to your post, so there is nothing to appeal.")
        )
    text = _clean_text(text)
    if len(text) < 10:
        raise InvalidInput(
            text=_("Explain in at least %(n)d characters why the decision should be changed.", n=10)
        )
    state = post.state.value if post is not None else entry.to_state
    appeal = Appeal(
        entry_id=entry.id,
        author_id=author.id,
        post_id=post.id if post is not None else None,
        text=text,
        status="open",
        created_at=utcnow(),
    )
    db.session.add(appeal)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("You have already appealed this decision.")) from None
    _open_item(
        "appeal",
        "appeal",
        post=post,
        appeal=appeal,
        detail=entry.action,
        avoid_user_id=entry.actor_id,
        target_id=entry.target_id if post is None else None,
        area_id=entry.area_id,
        committee_id=entry.committee_id,
    )
    audit(
        "appeal",
        "appeal",
        appeal.id,
        actor=author,
        from_state=state,
        to_state=state,
        text=text,
        data={"entry_id": entry.id},
        post=post,
        subject_user_id=author.id,
        area_id=entry.area_id,
        committee_id=entry.committee_id,
    )
    db.session.flush()
    return appeal


# --- suspensions ---------------------------------------------------------------------------


def active_suspension(user_id: int, now: datetime | None = None) -> Suspension | None:
    now = now or utcnow()
    return db.session.scalar(
        select(Suspension)
        .where(
            Suspension.user_id == user_id,
            Suspension.lifted_at.is_(None),
            or_(Suspension.until.is_(None), Suspension.until > now),
        )
        .order_by(Suspension.until.is_(None).desc(), Suspension.until.desc())
        .limit(1)
    )


def restriction(user: User, action: str) -> str | None:
    """The forum's user-restriction hook: why ``user`` may not ``action`` now, or None."""
    if not enabled() or user is None or not getattr(user, "id", None):
        return None
    s = active_suspension(user.id)
    if s is None:
        return None
    return suspension_message(s)


def suspension_message(s: Suspension) -> str:
    """What a suspended user is told when they try to write."""
    if s.until is None:
        return _(
            "Your account is suspended until further notice: you can read, but not "
            "write, support, report, ask or vote. Reason: %(reason)s",
            reason=s.reason,
        )
    return _(
        "Your account is suspended until %(until)s: you can read, but not write, "
        "support, report, ask or vote. Reason: %(reason)s",
        until=_when(s.until),
        reason=s.reason,
    )


def _has_written_in(user: User, area_ids: set[int]) -> bool:
    """A post in, or a topic (or topic proposal) of, one of ``area_ids``."""
    return db.session.scalar(select(written_in_clause(user.id, area_ids)))


def written_in_clause(user_id, area_ids: set[int]):
    """SQL: the user ``user_id`` (a value or a column) has written in one of ``area_ids``."""
    post_there = (
        select(Post.id)
        .join(Topic, Topic.id == Post.topic_id)
        .where(Post.author_id == user_id, Topic.area_id.in_(area_ids))
        .exists()
    )
    topic_there = (
        select(Topic.id).where(Topic.author_id == user_id, Topic.area_id.in_(area_ids)).exists()
    )
    return or_(post_there, topic_there)


def user_in_scope(moderator: User, user: User) -> bool:
    """Is ``user`` in ``moderator``'s scope: may they see the user's moderation record (its
    suspensions and their reasons) and suspend them? Moderators acting everywhere and admins:
    everyone; a moderator scoped to areas: people who have written in those areas."""
    if not permissions.is_moderator(moderator):
        return False
    scope = permissions.moderated_area_ids(moderator)
    return scope is None or _has_written_in(user, scope)


def require_user_in_scope(moderator: User, user: User) -> None:
    """``PermissionDenied`` unless ``user`` is in ``moderator``'s scope (``user_in_scope``)."""
    if not permissions.is_moderator(moderator):
        raise PermissionDenied(_("Only moderators may see this."))
    if not user_in_scope(moderator, user):
        raise PermissionDenied(_("This user has not written in the areas you moderate."))


def suspend_user(
    moderator: User, user: User, reason: str, until: datetime | None = None, rule_id=None
) -> Suspension:
    """Suspend ``user`` until ``until`` (None: indefinitely). Scoped moderators may suspend
    only people who have written in their areas (``user_in_scope``)."""
    if not permissions.is_moderator(moderator):
        raise PermissionDenied(_("Only moderators may suspend users."))
    require_user_in_scope(moderator, user)
    if user.id == moderator.id:
        raise InvalidInput(reason=_("You cannot suspend yourself."))
    if permissions.is_moderator(user):
        raise InvalidInput(
            reason=_("Staff accounts cannot be suspended; an admin changes their role instead.")
        )
    reason = _clean_text(reason, "reason")
    if len(reason) < 3:
        raise InvalidInput(reason=_("Give the reason the user will see."))
    if until is not None and until <= utcnow():
        raise InvalidInput(until=_("The end of the suspension must be in the future."))
    rule = get_rule(rule_id, required=False)
    if active_suspension(user.id) is not None:
        raise Conflict(_("This user is already suspended."))
    s = Suspension(
        user_id=user.id,
        reason=reason,
        rule_id=rule.id if rule else None,
        created_at=utcnow(),
        until=until,
        created_by_id=moderator.id,
    )
    db.session.add(s)
    db.session.flush()
    n = _notify(user.id, "moderation_suspension")
    audit(
        "suspend",
        "user",
        user.id,
        actor=moderator,
        from_state="active",
        to_state="suspended",
        rule=rule,
        text=reason,
        data={"until": until.isoformat() if until else None, "suspension_id": s.id},
        subject_user_id=user.id,
        notification_id=n.id,
    )
    eventlog.record(
        "user_suspended",
        "user",
        user.id,
        f"user:{user.id}",
        {"until": until.isoformat() if until else None},
        moderator.id,
    )
    return s


def lift_suspension(admin: User, suspension: Suspension) -> None:
    if not permissions.can_lift_suspension(admin):
        raise PermissionDenied(_("Only admins may lift suspensions."))
    if not suspension.is_active(utcnow()):
        raise Conflict(_("This suspension is no longer in force."))
    suspension.lifted_at = utcnow()
    suspension.lifted_by_id = admin.id
    db.session.flush()
    n = _notify(suspension.user_id, "moderation_unsuspended")
    audit(
        "unsuspend",
        "user",
        suspension.user_id,
        actor=admin,
        from_state="suspended",
        to_state="active",
        data={"suspension_id": suspension.id},
        subject_user_id=suspension.user_id,
        notification_id=n.id,
    )
    eventlog.record(
        "user_unsuspended", "user", suspension.user_id, f"user:{suspension.user_id}", {}, admin.id
    )


# --- modes -----------------------------------------------------------------------------------


def set_mode(actor: User, target_type: str, target_id: int, mode: str | None) -> None:
    """Set a committee's, area's or topic's mode ("post"/"pre"); None: inherit/default."""
    model = {"committee": Committee, "area": Area, "topic": Topic}.get(target_type)
    if model is None:
        raise InvalidInput(target=_("Unknown kind of place."))
    target = db.session.get(model, target_id)
    if target is None:
        raise NotFound(_("No such place."))
    allowed = permissions.can_set_mode(
        actor,
        target_type,
        area_id=target.id if target_type == "area" else None,
        topic=target if target_type == "topic" else None,
    )
    if not allowed:
        raise PermissionDenied(_("You may not change the moderation mode here."))
    if mode in ("", "inherit"):
        mode = None
    if mode is not None and mode not in MODES:
        raise InvalidInput(mode=_("Unknown moderation mode."))
    column = getattr(ModerationMode, f"{target_type}_id")
    row = db.session.scalar(select(ModerationMode).where(column == target_id))
    old = row.mode if row else "inherit"
    if (mode or "inherit") == old:
        return
    if mode is None:
        db.session.delete(row)
    elif row is None:
        db.session.add(
            ModerationMode(
                **{f"{target_type}_id": target_id},
                mode=mode,
                updated_at=utcnow(),
                updated_by_id=actor.id,
            )
        )
    else:
        row.mode, row.updated_at, row.updated_by_id = mode, utcnow(), actor.id
    db.session.flush()
    audit(
        "mode_set",
        target_type,
        target_id,
        actor=actor,
        from_state=old,
        to_state=mode or "inherit",
        topic=target if target_type == "topic" else None,
    )


# --- watched words and debate rules ---------------------------------------------------------


def add_watched_word(
    admin: User, word: str, language: str, action: str, rule_id=None
) -> WatchedWord:
    if not permissions.can_edit_words(admin):
        raise PermissionDenied(_("Only admins may edit the watched words."))
    word = " ".join((word or "").casefold().split())
    if not 2 <= len(word.rstrip("*")) <= 100 or "*" in word.rstrip("*"):
        raise InvalidInput(
            word=_("Enter a word or phrase of 2–100 characters; a * is allowed only at the end.")
        )
    if language not in WORD_LANGUAGES:
        raise InvalidInput(language=_("Unknown language."))
    if action not in WORD_ACTIONS:
        raise InvalidInput(action=_("Unknown action."))
    rule = get_rule(rule_id, required=action == "reject")
    exists = db.session.scalar(
        select(WatchedWord.id).where(WatchedWord.word == word, WatchedWord.language == language)
    )
    if exists is not None:
        raise InvalidInput(word=_("This word is already on the list."))
    w = WatchedWord(
        word=word,
        language=language,
        action=action,
        rule_id=rule.id if rule else None,
        created_at=utcnow(),
        created_by_id=admin.id,
    )
    db.session.add(w)
    db.session.flush()
    audit(
        "word_add",
        "word",
        w.id,
        actor=admin,
        to_state=action,
        rule=rule,
        text=word,
        data={"language": language},
    )
    return w


def remove_watched_word(admin: User, word: WatchedWord) -> None:
    if not permissions.can_edit_words(admin):
        raise PermissionDenied(_("Only admins may edit the watched words."))
    audit(
        "word_remove",
        "word",
        word.id,
        actor=admin,
        from_state=word.action,
        rule=word.rule,
        text=word.word,
        data={"language": word.language},
    )
    db.session.delete(word)
    db.session.flush()


def _render_rule(rule: DebateRule) -> None:
    rule.body_da_html = str(render_markdown(rule.body_da)) if rule.body_da else ""
    rule.body_en_html = str(render_markdown(rule.body_en)) if rule.body_en else ""


def ensure_default_rules() -> int:
    """Insert the default debate rules that are missing (by code); returns how many.

    Safe to call repeatedly; ``seed-demo`` and ``flask moderation ensure-rules`` call it.
    """
    have = set(db.session.scalars(select(DebateRule.code)))
    added = 0
    for position, data in enumerate(DEFAULT_RULES, start=1):
        if data["code"] in have:
            continue
        rule = DebateRule(position=position * 10, active=True, updated_at=utcnow(), **data)
        _render_rule(rule)
        db.session.add(rule)
        added += 1
    db.session.flush()
    return added


def save_rule(
    admin: User,
    rule: DebateRule | None,
    *,
    code: str,
    title_da: str,
    title_en: str,
    body_da: str,
    body_en: str,
    position: int = 0,
    active: bool = True,
) -> DebateRule:
    """Create or edit a debate rule (admins). Codes are fixed once created."""
    if not permissions.can_edit_rules(admin):
        raise PermissionDenied(_("Only admins may edit the debate rules."))
    errors = {}
    title_da, title_en = " ".join((title_da or "").split()), " ".join((title_en or "").split())
    if not 2 <= len(title_da) <= 120:
        errors["title_da"] = _("Use between 2 and 120 characters.")
    if not 2 <= len(title_en) <= 120:
        errors["title_en"] = _("Use between 2 and 120 characters.")
    if rule is None:
        code = (code or "").strip().lower()
        if not code or len(code) > 40 or not all(c.isalnum() or c == "-" for c in code):
            errors["code"] = _("Use 1–40 lower-case letters, digits and hyphens.")
        elif db.session.scalar(select(DebateRule.id).where(DebateRule.code == code)):
            errors["code"] = _("A rule with this code exists.")
    if errors:
        raise InvalidInput(**errors)
    body_da = _clean_text(body_da, "body_da", 5000)
    body_en = _clean_text(body_en, "body_en", 5000)
    created = rule is None
    if created:
        rule = DebateRule(code=code)
        db.session.add(rule)
    before = {} if created else {"title_da": rule.title_da, "active": rule.active}
    rule.title_da, rule.title_en = title_da, title_en
    rule.body_da, rule.body_en = body_da, body_en
    rule.position, rule.active, rule.updated_at = position, active, utcnow()
    _render_rule(rule)
    db.session.flush()
    audit(
        "rule_add" if created else "rule_edit",
        "rule",
        rule.id,
        actor=admin,
        from_state=None if created else ("active" if before["active"] else "inactive"),
        to_state="active" if active else "inactive",
        rule=rule,
        text=title_da,
    )
    return rule


# --- access denials and reminders -----------------------------------------------------------


def record_denial(actor: User | None, where: str, message: str = "") -> AuditEntry:
    """An attempt by someone without permission: who, where, and what they were told."""
    return audit(
        "access_denied",
        "url",
        None,
        actor=actor,
        text=where[:300],
        data={"message": message[:300]} if message else None,
    )


def send_reminders(now: datetime | None = None) -> int:
    """Tell moderators in-app when items in their scope have waited longer than
    MODERATION_REMIND_AFTER_MINUTES (each item once). Returns how many were told."""
    from .queries import open_items_clause, queue_select

    now = now or utcnow()
    cutoff = now - timedelta(minutes=current_app.config["MODERATION_REMIND_AFTER_MINUTES"])
    overdue = db.session.execute(
        queue_select(QueueItem.id, QueueItem.area_id).where(
            open_items_clause(), QueueItem.created_at <= cutoff, QueueItem.reminded_at.is_(None)
        )
    ).all()
    if not overdue:
        return 0
    from sqlalchemy.orm import selectinload

    moderators = db.session.scalars(
        select(User)
        .options(selectinload(User.moderated_areas))
        .where(User.role.in_((Role.MODERATOR, Role.ADMIN)))
    ).all()
    told = 0
    for m in moderators:
        scope = permissions.moderated_area_ids(m)
        if any(scope is None or area in scope for _id, area in overdue):
            _notify(m.id, "moderation_reminder")
            told += 1
    ids = [i for i, _a in overdue]
    for start in range(0, len(ids), 500):
        db.session.execute(
            update(QueueItem)
            .where(QueueItem.id.in_(ids[start : start + 500]))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    return told
