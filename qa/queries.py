"""Reading live Q&A: lists of sessions, and one session as a viewer may see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from forum import permissions as fp
from forum.extensions import db
from forum.models import Post, PostState, User, utcnow

from .models import EntryKind, QAEntry, QASession, QASignup, QAVote, QuestionStatus, SessionState

S = SessionState


def sessions(state: SessionState, limit: int = 50, **where) -> list[QASession]:
    stmt = select(QASession).where(QASession.state == state)
    for key, value in where.items():
        stmt = stmt.where(getattr(QASession, key) == value)
    order = QASession.starts_at.desc() if state == S.ENDED else QASession.starts_at
    return list(
        db.session.scalars(
            stmt.order_by(order).limit(limit).options(selectinload(QASession.politicians))
        )
    )


def index_lists() -> dict[str, list[QASession]]:
    return {"live": sessions(S.LIVE), "upcoming": sessions(S.SCHEDULED), "past": sessions(S.ENDED)}


def debate_topic_ids():
    """The ids of the topics sessions write to (a SELECT, for the forum)."""
    return select(QASession.debate_topic_id)


def sessions_for_page(kind: str, obj=None) -> dict[str, list[QASession]]:
    """Sessions for the home page (``kind`` "home"), a committee, an area or a topic page:
    live and upcoming, plus the latest past ones (an archive linked from its place)."""
    if kind == "home":
        cond = True
    elif kind == "committee":
        cond = QASession.committee_id == obj.id
    elif kind == "area":
        cond = QASession.area_id == obj.id
    elif kind == "topic":
        from .policy import session_topic_ids

        if obj.id not in session_topic_ids():
            return {"current": [], "past": []}  # most topics: no query
        cond = or_(QASession.topic_id == obj.id, QASession.debate_topic_id == obj.id)
    else:
        return {"current": [], "past": []}
    rows = list(
        db.session.scalars(
            select(QASession)
            .where(cond, QASession.state != S.ENDED)
            .order_by(QASession.state.desc(), QASession.starts_at)
            .limit(5)
        )
    )
    past = (
        []
        if kind == "home"
        else list(
            db.session.scalars(
                select(QASession)
                .where(cond, QASession.state == S.ENDED)
                .order_by(QASession.starts_at.desc())
                .limit(3)
            )
        )
    )
    return {"current": rows, "past": past}


def is_signed_up(user, session: QASession) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(QASignup, (session.id, user.id)) is not None


@dataclass
class Item:
    entry: QAEntry
    post: Post
    answers: list[Item] = field(default_factory=list)
    co_askers: list[User] = field(default_factory=list)
    voted: bool = False
    mine: bool = False


@dataclass
class View:
    session: QASession
    questions: list[Item]
    statements: list[Item]
    by_id: dict[int, Item]
    pinned: Item | None
    moderator: bool
    politician: bool


def _visible(user, session: QASession, moderator: bool):
    """Which of the session's posts ``user`` may see (published; own; held for moderators)."""
    u = fp.signed_in(user)
    conds = [Post.state == PostState.PUBLISHED]
    if u is not None:
        conds.append(and_(Post.author_id == u.id, Post.state != PostState.DELETED))
    if moderator:
        conds.append(Post.state == PostState.PENDING)
    return or_(*conds)


def _arrange(by_id: dict[int, Item]) -> tuple[list[Item], list[Item]]:
    """Answers under their questions, merged duplicates' askers on their targets."""
    questions, statements = [], []
    for item in by_id.values():
        kind = item.entry.kind
        if kind == EntryKind.ANSWER:
            parent = by_id.get(item.post.parent_id)
            if parent is not None:
                parent.answers.append(item)
        elif kind == EntryKind.STATEMENT:
            statements.append(item)
        elif item.entry.status != QuestionStatus.MERGED:
            questions.append(item)
        else:
            target = by_id.get(item.entry.merged_into_id or 0)
            if target is not None and item.post.state == PostState.PUBLISHED:
                target.co_askers.append(item.post.author)
    return questions, statements


def load(
    session: QASession,
    user,
    sort: str = "votes",
    post_ids: list[int] | None = None,
) -> View:
    """The session as ``user`` sees it (one query for the posts, a few for the rest)."""
    moderator = fp.can_moderate_topic(user, session.debate_topic)
    u = fp.signed_in(user)
    politician = u is not None and any(p.id == u.id for p in session.politicians)
    stmt = (
        select(QAEntry, Post)
        .join(Post, Post.id == QAEntry.post_id)
        .where(QAEntry.session_id == session.id, _visible(user, session, moderator))
        .options(selectinload(Post.author))
    )
    if post_ids is not None:
        stmt = stmt.where(
            or_(
                Post.id.in_(post_ids),
                Post.parent_id.in_(post_ids),
                QAEntry.merged_into_id.in_(post_ids),
            )
        )
    by_id = {
        post.id: Item(entry, post, mine=u is not None and post.author_id == u.id)
        for entry, post in db.session.execute(stmt).all()
    }
    questions, statements = _arrange(by_id)
    if u is not None and questions:
        voted = set(
            db.session.scalars(
                select(QAVote.post_id).where(
                    QAVote.user_id == u.id, QAVote.post_id.in_([q.post.id for q in questions])
                )
            )
        )
        for q in questions:
            q.voted = q.post.id in voted
    for item in by_id.values():
        item.answers.sort(key=lambda a: a.post.created_at)
    questions.sort(key=lambda q: q.post.id, reverse=True)
    if sort != "newest":
        # Pending first for those who see them (they wait for a decision), then by votes.
        questions.sort(
            key=lambda q: (q.post.state == PostState.PUBLISHED, -q.entry.vote_count, q.post.id)
        )
    statements.sort(key=lambda s: s.post.created_at, reverse=True)
    pinned = by_id.get(session.pinned_post_id or 0)
    return View(session, questions, statements, by_id, pinned, moderator, politician)


def waiting(view: View, limit: int) -> list[Item]:
    """The top published open questions not pinned (the projector's list)."""
    out = [
        q
        for q in view.questions
        if q.post.state == PostState.PUBLISHED
        and q.entry.status == QuestionStatus.OPEN
        and (view.pinned is None or q.post.id != view.pinned.post.id)
    ]
    out.sort(key=lambda q: (-q.entry.vote_count, q.post.id))
    return out[:limit]


def countdown(session: QASession) -> timedelta | None:
    if session.state != S.SCHEDULED:
        return None
    left = session.starts_at - utcnow()
    return left if left.total_seconds() > 0 else timedelta(0)
