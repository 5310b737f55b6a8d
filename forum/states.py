"""The post state machine: every change of ``Post.state`` goes through ``transition``."""

from __future__ import annotations

from .errors import Conflict
from .models import Post, PostState

S = PostState
ALLOWED: dict[PostState, frozenset[PostState]] = {
    S.PENDING: frozenset({S.PUBLISHED, S.REJECTED, S.DELETED}),
    S.PUBLISHED: frozenset({S.HIDDEN, S.REMOVED, S.DELETED, S.PENDING}),  # pending: edit re-held
    S.HIDDEN: frozenset({S.PUBLISHED, S.REMOVED, S.DELETED}),
    S.REJECTED: frozenset({S.PUBLISHED, S.DELETED}),  # published: an appeal upheld
    S.REMOVED: frozenset({S.PUBLISHED, S.DELETED}),  # published: an appeal upheld
    S.DELETED: frozenset(),
}


class IllegalTransition(Conflict):
    pass


def transition(post: Post, new: PostState) -> PostState:
    """Move ``post`` to ``new``, keep the topic's published count right, return the old state.

    Raises ``IllegalTransition`` (a 409) for a move the table does not allow. The caller
    writes the event row and, for moderation, the audit entry.
    """
    old = post.state
    if new not in ALLOWED[old]:
        raise IllegalTransition(f"A post cannot go from {old.value} to {new.value}.")
    post.state = new
    topic = post.topic
    if old == S.PUBLISHED and new != S.PUBLISHED:
        topic.post_count = max(0, (topic.post_count or 0) - 1)
    elif new == S.PUBLISHED and old != S.PUBLISHED:
        topic.post_count = (topic.post_count or 0) + 1
    return old
