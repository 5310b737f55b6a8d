"""Decisions: a queue item or a post decided (with its flags, notifications and audit entry),
proposals, registered sources' content, appeals, and bulk decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from forum import services as forum_services
from forum.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import Area, Post, Role, TopicStatus, User, utcnow
from forum.states import ALLOWED

from .. import permissions
from ..models import CORE_ITEM_KINDS, Appeal, AuditEntry, DebateRule, Flag, QueueItem
from ._common import (
    _FROM,
    _TARGET,
    ITEM_ACTIONS,
    POST_ACTIONS,
    RULE_REQUIRED,
    SOURCE_ACTIONS,
    S,
    _acting,
    _clean_text,
    _lock_post,
    _move,
    _notify,
    _queue_event,
    _resolve_flags,
    _retract_notifications,
    _source_data,
    _state_label,
    audit,
    get_rule,
    item_actions,
    source_for,
    source_view,
)
from .queue import _close_items_for_post, _item_conflict, _open_item, _take_item
from .suspensions import active_suspension


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
