"""Holding: what the forum's signals bring to the queue (held posts, edits held again, topic
proposals), what they audit, and items following a moved topic."""

from __future__ import annotations

from sqlalchemy import select, update

from forum.extensions import db
from forum.models import Post, PostState, Topic, TopicStatus, User, utcnow

from .. import policy
from ..models import Appeal, QueueItem, WatchedWord
from ._common import S, _acting, _is_acting, _move, _notify, _queue_event, audit, enabled
from .queue import _close_items_for_post, _open_item, _take_item


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
