"""The hooks live Q&A registers with the forum: a topic guard and a post-policy wrapper."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, g, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import select

from forum.extensions import db
from forum.hooks import PostDecision, PostPolicy
from forum.models import Post, PostState, Topic

# Set while this package's services write a post: "question", "answer" or "statement".
_writing: ContextVar[str | None] = ContextVar("qa_writing", default=None)
# Reasons a politician's answer stays held even so (see ``wrap``).
_KEEP_HOLDING = ("watched_word", "links")


@contextmanager
def writing(kind: str) -> Iterator[None]:
    token = _writing.set(kind)
    try:
        yield
    finally:
        _writing.reset(token)


def _read_only_request() -> bool:
    return has_request_context() and request.method in ("GET", "HEAD")


def session_topic_ids(fresh: bool = False) -> frozenset[int]:
    """Ids of every session's debate topic and related topic.

    Kept per process for ``QA_TOPIC_CACHE_SECONDS``: every topic page asks (is it a
    session's topic? does it list sessions?) and almost none are. Pages may show a session
    that was scheduled in another process a few seconds late; writes (``fresh``) always ask
    the database.
    """
    from .models import QASession

    state = current_app.extensions.setdefault("borgerdialog.qa_topic_ids", {})
    now = time.monotonic()
    ttl = float(current_app.config["QA_TOPIC_CACHE_SECONDS"])
    if fresh or "ids" not in state or now - state["at"] > ttl:
        ids: set[int] = set()
        for debate, related in db.session.execute(
            select(QASession.debate_topic_id, QASession.topic_id)
        ):
            ids.add(debate)
            if related:
                ids.add(related)
        state.update(ids=frozenset(ids), at=now)
    return state["ids"]


def forget_topic_ids() -> None:
    """A session was scheduled here: this process asks the database again next time."""
    current_app.extensions.get("borgerdialog.qa_topic_ids", {}).clear()


def session_id_for_topic(topic_id: int) -> int | None:
    """The session whose debate topic this is (memoised per request: pages ask often)."""
    from .models import QASession

    if topic_id not in session_topic_ids(fresh=not _read_only_request()):
        return None
    cache = g.setdefault("qa_topic_sessions", {}) if has_request_context() else {}
    if topic_id not in cache:
        cache[topic_id] = db.session.scalar(
            select(QASession.id).where(QASession.debate_topic_id == topic_id)
        )
    return cache[topic_id]


def topic_guard(user, topic: Topic, action: str) -> str | None:
    """Refuse the forum's own writes in a session's topic; ours pass (``writing``).

    On a page view (GET) the per-process list of session topics decides quickly; every
    write asks the database."""
    if _writing.get() is not None or topic.id is None:
        return None
    if session_id_for_topic(topic.id) is None:
        return None
    return _(
        "This debate belongs to a live Q&A session: ask, vote and answer on the session's page."
    )


def wrap(previous: PostPolicy | None) -> PostPolicy:
    """Publish answers and statements of the session's politicians at once.

    Only writes made by ``qa.services`` for a politician of the session get here marked
    "answer" or "statement"; a watched word or a link still holds (or rejects) them as the
    wrapped policy says. Everything else is the wrapped policy's decision.
    """

    def policy(post: Post, action: str) -> PostDecision:
        decision = previous(post, action) if previous else PostDecision(PostState.PUBLISHED)
        if _writing.get() not in ("answer", "statement") or action != "create":
            return decision
        if decision.state != PostState.PENDING:
            return decision
        codes = {part.partition("=")[0] for part in (decision.reason or "").split(";")}
        if codes & set(_KEEP_HOLDING):
            return decision
        if hasattr(post, "moderation_assessment"):
            post.moderation_assessment = None
        return PostDecision(PostState.PUBLISHED)

    return policy


def warm_topic_ids() -> None:
    """Refresh the list of session topics before a request needs it, when it has expired,
    so topic pages do not pay for it (a before_request hook; static files excluded)."""
    if request.endpoint in (None, "static"):
        return
    session_topic_ids()
