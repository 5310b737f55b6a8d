"""Who may do what in moderation. Builds on ``forum.permissions`` (scoped moderators)."""

from __future__ import annotations

from forum.models import Role, Topic, User
from forum.permissions import (
    can_moderate_area,
    can_moderate_topic,
    is_moderator,
    moderated_area_ids,
)

from .models import QueueItem

__all__ = [
    "can_moderate_area",
    "can_moderate_topic",
    "is_moderator",
    "moderated_area_ids",
    "can_use_queue",
    "can_decide_item",
    "is_admin",
    "can_set_mode",
    "can_lift_suspension",
    "can_edit_rules",
    "can_edit_words",
    "can_see_audit_entry_area",
]


def _user(user) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def is_admin(user) -> bool:
    u = _user(user)
    return u is not None and u.role == Role.ADMIN


def can_use_queue(user) -> bool:
    """Moderators and admins; scoped moderators see only their areas' items."""
    return is_moderator(user)


def can_decide_item(user, item: QueueItem) -> bool:
    return can_moderate_area(user, item.area_id)


def can_set_mode(
    user, target_type: str, area_id: int | None = None, topic: Topic | None = None
) -> bool:
    """Admins and moderators; a scoped moderator only for their areas and their topics."""
    if not is_moderator(user):
        return False
    if target_type == "committee":
        return moderated_area_ids(user) is None
    if target_type == "area":
        return can_moderate_area(user, area_id)
    return topic is not None and can_moderate_topic(user, topic)


def can_lift_suspension(user) -> bool:
    return is_admin(user)


def can_edit_rules(user) -> bool:
    return is_admin(user)


def can_edit_words(user) -> bool:
    return is_admin(user)


def can_see_audit_entry_area(user, area_id: int | None) -> bool:
    scope = moderated_area_ids(user)
    return is_moderator(user) and (scope is None or area_id in scope)
