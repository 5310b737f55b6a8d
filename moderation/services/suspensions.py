"""Suspensions: the one in force, what a suspended user is told, a moderator's scope over a
user, suspending and lifting."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select

from forum import eventlog
from forum.errors import Conflict, InvalidInput, PermissionDenied
from forum.extensions import db
from forum.models import Post, Topic, User, utcnow

from .. import permissions
from ..models import Suspension
from ._common import _clean_text, _notify, _when, audit, enabled, get_rule


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
