"""Who may see and write outcomes: one place, used by services, views and templates."""

from __future__ import annotations

from forum import permissions as fp
from forum.models import Role, Topic


def can_see_outcome(user, topic: Topic) -> bool:
    """An outcome is visible exactly to those who may see its topic."""
    return fp.can_see_topic(user, topic)


def can_write_outcome(user, topic: Topic) -> bool:
    """Municipal staff (Role.STAFF, on topics they may see), moderators without an area
    scope, admins and the politicians of the topic's committee write a topic's outcome;
    nobody blocked from writing (suspended)."""
    u = fp.signed_in(user)
    if u is None or fp.write_block(u) is not None:
        return False
    if u.role == Role.ADMIN:
        return True
    if u.role == Role.STAFF:
        return fp.can_see_topic(u, topic)
    if u.role == Role.MODERATOR:
        return fp.moderated_area_ids(u) is None
    if u.role == Role.POLITICIAN:
        return topic.committee_id is not None and topic.committee_id in {c.id for c in u.committees}
    return False
