"""Who may do what with statements rounds."""

from __future__ import annotations

from forum import permissions as fp
from forum.models import Topic


def can_open_round(user, topic: Topic) -> bool:
    """Staff, or a politician on the topic's committee."""
    if not getattr(user, "is_authenticated", False):
        return False
    if fp.is_staff(user):
        return True
    return bool(
        user.is_politician
        and topic.committee_id is not None
        and any(c.id == topic.committee_id for c in user.committees)
    )


def can_moderate_round(user, topic: Topic) -> bool:
    return fp.can_moderate_topic(user, topic)


def can_see_round(user, topic: Topic) -> bool:
    return fp.can_see_topic(user, topic)


def can_export_round(user) -> bool:
    """Download a round's data (Pol.is format): municipal staff and admins."""
    return fp.is_staff(user)
