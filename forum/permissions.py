"""Who may see and do what: the one place for the forum's rules.

Views, socket handlers, search, exports and templates all ask these functions. ``user``
may be Flask-Login's anonymous user or ``None``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, or_, true

from . import hooks
from .models import Post, PostState, Role, Topic, TopicStatus, User, utcnow

PUBLIC_POST_STATES = (PostState.PUBLISHED,)
# Shown as a placeholder (without its text) so replies keep their place in the tree.
PLACEHOLDER_POST_STATES = (PostState.DELETED, PostState.HIDDEN, PostState.REMOVED)
PUBLIC_TOPIC_STATES = (TopicStatus.OPEN, TopicStatus.CLOSED, TopicStatus.ARCHIVED)


def signed_in(user) -> User | None:
    """The signed-in person ``user`` is (a ``User`` or Flask-Login's ``current_user``), or
    None for nobody and anonymous visitors. Other packages ask this too."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def is_moderator(user) -> bool:
    u = signed_in(user)
    return u is not None and u.role in (Role.MODERATOR, Role.ADMIN)


def is_staff(user) -> bool:
    """A municipal employee (or an admin): runs processes such as meetings, outcomes and
    reports. Moderating is a separate role."""
    u = signed_in(user)
    return u is not None and u.role in (Role.STAFF, Role.ADMIN)


def moderated_area_ids(user) -> set[int] | None:
    """The areas a moderator is scoped to; ``None`` means everywhere."""
    u = signed_in(user)
    if u is None or u.role == Role.ADMIN:
        return None
    return {a.id for a in u.moderated_areas} or None


def write_block(user) -> str | None:
    """Why a signed-in ``user`` may write nothing now (a suspension), or None."""
    u = signed_in(user)
    return None if u is None else hooks.write_block(u)


def can_write(user) -> bool:
    """Signed in and not blocked from writing: pages show write controls only then."""
    return signed_in(user) is not None and write_block(user) is None


def can_moderate_area(user, area_id: int | None) -> bool:
    """Moderators act everywhere unless scoped to areas; scoped ones only there."""
    if not is_moderator(user):
        return False
    scope = moderated_area_ids(user)
    return scope is None or (area_id is not None and area_id in scope)


def can_moderate_topic(user, topic: Topic) -> bool:
    return can_moderate_area(user, topic.area_id)


def can_see_topic(user, topic: Topic) -> bool:
    if topic.status in PUBLIC_TOPIC_STATES:
        return True
    u = signed_in(user)
    return u is not None and (u.id == topic.author_id or can_moderate_topic(u, topic))


def can_see_post(user, post: Post, topic: Topic | None = None) -> bool:
    """May ``user`` read this post's text? (Placeholders are decided by the tree.)"""
    topic = topic or post.topic
    if not can_see_topic(user, topic):
        return False
    if post.state in PUBLIC_POST_STATES:
        return True
    if post.state == PostState.DELETED:
        return False
    u = signed_in(user)
    return u is not None and (u.id == post.author_id or can_moderate_topic(u, topic))


def visible_posts_clause(user, topic: Topic | None = None) -> ColumnElement[bool]:
    """A SQL condition on ``Post`` matching what ``can_see_post`` allows (plus placeholders).

    With ``topic`` given the moderator check is decided once for the page.
    """
    u = signed_in(user)
    shown = Post.state.in_(PUBLIC_POST_STATES + PLACEHOLDER_POST_STATES)
    if u is None:
        return shown
    if topic is not None:
        if can_moderate_topic(u, topic):
            return true()
        return or_(shown, Post.author_id == u.id)
    if is_moderator(u) and moderated_area_ids(u) is None:
        return true()
    return or_(shown, Post.author_id == u.id)


def visible_topics_clause(user) -> ColumnElement[bool]:
    u = signed_in(user)
    public = Topic.status.in_(PUBLIC_TOPIC_STATES)
    if u is None:
        return public
    if is_moderator(u):
        scope = moderated_area_ids(u)
        if scope is None:
            return true()
        return or_(public, Topic.author_id == u.id, Topic.area_id.in_(scope))
    return or_(public, Topic.author_id == u.id)


def can_open_topic(user, committee_id: int | None, area_id: int | None) -> bool:
    """Politicians in the committee, moderators (in scope), municipal staff and admins open
    topics directly (staff publish the municipality's own questions, e.g. through an API key)."""
    u = signed_in(user)
    if u is None or write_block(u) is not None:
        return False
    if u.role in (Role.ADMIN, Role.STAFF):
        return True
    if u.role == Role.MODERATOR:
        return moderated_area_ids(u) is None or can_moderate_area(u, area_id)
    if u.role == Role.POLITICIAN:
        return committee_id is not None and committee_id in {c.id for c in u.committees}
    return False


def can_propose_topic(user, area_id: int | None) -> bool:
    """Any signed-in user may propose a topic in a local area (it waits for a moderator)."""
    return can_write(user) and area_id is not None


def topic_accepts_posts(topic: Topic, now: datetime | None = None) -> bool:
    if topic.status != TopicStatus.OPEN:
        return False
    return topic.deadline is None or (now or utcnow()) < topic.deadline


def can_post(user, topic: Topic) -> bool:
    return (
        signed_in(user) is not None
        and topic_accepts_posts(topic)
        and can_see_topic(user, topic)
        and hooks.topic_guard(signed_in(user), topic, "post") is None
        and write_block(user) is None
    )


def can_edit_post(user, post: Post) -> bool:
    u = signed_in(user)
    return (
        u is not None
        and u.id == post.author_id
        and post.state not in (PostState.DELETED, PostState.REMOVED, PostState.REJECTED)
        and topic_accepts_posts(post.topic)
    )


def can_delete_post(user, post: Post) -> bool:
    u = signed_in(user)
    return u is not None and u.id == post.author_id and post.state != PostState.DELETED


def can_support(user, post: Post) -> bool:
    u = signed_in(user)
    return (
        u is not None
        and u.id != post.author_id
        and post.state == PostState.PUBLISHED
        and write_block(u) is None
    )


def can_manage_topic(user, topic: Topic) -> bool:
    """Close, reopen, archive or edit a topic: its opener if not a citizen, or a moderator."""
    u = signed_in(user)
    if u is None:
        return False
    if can_moderate_topic(u, topic):
        return True
    return u.id == topic.author_id and u.role == Role.POLITICIAN


__all__ = [
    "can_see_topic",
    "can_see_post",
    "visible_posts_clause",
    "visible_topics_clause",
    "can_open_topic",
    "can_propose_topic",
    "can_post",
    "can_edit_post",
    "can_delete_post",
    "can_support",
    "can_moderate_area",
    "can_moderate_topic",
    "can_manage_topic",
    "topic_accepts_posts",
    "is_moderator",
    "write_block",
    "can_write",
]
