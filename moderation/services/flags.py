"""Flags: reporting a post, the reporter's weight, and hiding a post by weighted reports."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum import permissions as forum_permissions
from forum import services as forum_services
from forum.errors import Conflict, InvalidInput, NotFound
from forum.extensions import db
from forum.models import Post, User, utcnow

from .. import permissions
from ..models import DebateRule, Flag
from ._common import (
    S,
    _acting,
    _clean_text,
    _lock_post,
    _move,
    _notify,
    _retract_notifications,
    audit,
    get_rule,
)
from .queue import _open_item


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
