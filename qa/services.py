"""Live Q&A's write operations. Each checks permission, validates, writes rows and an event
row, and flushes; the caller (view, socket handler, CLI) commits once. Bad input raises a
``DomainError`` before anything is written (the rate limit is counted last).

Questions, answers and statements are written through ``forum.services.create_post``
inside ``policy.writing(...)`` (the forum's topic guard lets only those through), and
approved or rejected through ``moderation.services.moderate_post``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from forum import eventlog, hooks
from forum import permissions as forum_permissions
from forum import services as forum_services
from forum.converters import ID_MAX
from forum.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db, limiter
from forum.models import (
    Area,
    Committee,
    Notification,
    Post,
    PostState,
    Role,
    Topic,
    TopicStatus,
    User,
    utcnow,
)
from forum.rendering import render_markdown

from . import permissions
from .models import (
    EntryKind,
    QAEntry,
    QASession,
    QASignup,
    QAVote,
    QuestionStatus,
    SessionState,
)
from .policy import forget_topic_ids, writing

S = SessionState
Q = QuestionStatus
TITLE_MIN, TITLE_MAX = 5, 200
DESCRIPTION_MAX = 5000
STATEMENT_MAX = 1000
MAX_DURATION = timedelta(hours=12)


class RateLimited(DomainError):
    status = 429


def path_of(session: QASession) -> str:
    """The session page's path (services know no request; the blueprint mounts here)."""
    return f"/spoergetid/{session.id}"


def _event(kind: str, session: QASession, actor_id: int | None, **payload) -> None:
    eventlog.record(
        kind, "qa", session.id, session.room, {"session_id": session.id, **payload}, actor_id
    )


def _rate(name: str, user: User) -> None:
    """Count one ``name`` (ask/vote) against the user's limit; raise when it is spent."""
    cfg = current_app.config
    if not cfg.get("RATELIMIT_ENABLED", True):
        return
    from limits import parse_many

    for item in parse_many(cfg[f"QA_{name.upper()}_RATE"]):
        if not limiter.limiter.hit(item, "qa", name, str(user.id)):
            if name == "ask":
                raise RateLimited(_("You are asking too fast. Wait a little and try again."))
            raise RateLimited(_("You are voting too fast. Wait a little and try again."))


def _int_id(value, field: str = "post_id") -> int:
    if isinstance(value, bool):
        raise InvalidInput(**{field: _("Not a valid id.")})
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(**{field: _("Not a valid id.")}) from None
    if not 0 < out <= ID_MAX:  # PostgreSQL's integer: a larger id is a database error
        raise InvalidInput(**{field: _("Not a valid id.")})
    return out


def get_session(session_id) -> QASession:
    session = db.session.get(QASession, _int_id(session_id, "session_id"))
    if session is None:
        raise NotFound(_("No such Q&A session."))
    return session


def _entry(
    session: QASession, post_id, kind: EntryKind = EntryKind.QUESTION, field: str = "post_id"
) -> QAEntry:
    entry = db.session.get(QAEntry, _int_id(post_id, field))
    if entry is None or entry.session_id != session.id or entry.kind != kind:
        raise NotFound(_("No such question in this session."))
    return entry


def _clean(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").strip()


# --- sessions --------------------------------------------------------------------------------


def _politicians(ids) -> list[User]:
    try:
        wanted = sorted({int(i) for i in ids or []})
    except (TypeError, ValueError):
        raise InvalidInput(politician_ids=_("Unknown politician.")) from None
    if not wanted:
        raise InvalidInput(politician_ids=_("Choose at least one politician."))
    users = list(db.session.scalars(select(User).where(User.id.in_(wanted))))
    if len(users) != len(wanted) or any(u.role != Role.POLITICIAN for u in users):
        raise InvalidInput(politician_ids=_("Only politicians can take part."))
    return users


def _validate_session(
    title: str, description: str, starts_at: datetime | None, ends_at: datetime | None, *, new: bool
) -> tuple[str, str]:
    title = " ".join((title or "").split())
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise InvalidInput(
            title=_("The title must be %(lo)d–%(hi)d characters.", lo=TITLE_MIN, hi=TITLE_MAX)
        )
    description = _clean(description)
    if not 1 <= len(description) <= DESCRIPTION_MAX:
        raise InvalidInput(
            description=_("The text must be %(lo)d–%(hi)d characters.", lo=1, hi=DESCRIPTION_MAX)
        )
    if starts_at is None:
        raise InvalidInput(starts_at=_("Give the start time."))
    if ends_at is None:
        raise InvalidInput(ends_at=_("Give the end time."))
    if ends_at <= starts_at:
        raise InvalidInput(ends_at=_("The session must end after it starts."))
    if ends_at - starts_at > MAX_DURATION:
        raise InvalidInput(ends_at=_("A session lasts at most 12 hours."))
    if new and ends_at <= utcnow():
        raise InvalidInput(ends_at=_("The end time must be in the future."))
    return title, description


def _place(committee_id, area_id, topic_id) -> tuple[int | None, int | None, Topic | None]:
    committee_id = _int_id(committee_id, "committee_id") if committee_id else None
    area_id = _int_id(area_id, "area_id") if area_id else None
    topic = None
    if topic_id:
        topic = db.session.get(Topic, _int_id(topic_id, "topic_id"))
        if topic is None or not topic.is_public:
            raise InvalidInput(topic_id=_("Unknown topic."))
    if committee_id and db.session.get(Committee, committee_id) is None:
        raise InvalidInput(committee_id=_("Unknown committee."))
    if area_id and db.session.get(Area, area_id) is None:
        raise InvalidInput(area_id=_("Unknown local area."))
    if topic is not None and not committee_id and not area_id:
        committee_id, area_id = topic.committee_id, topic.area_id
    if not committee_id and not area_id:
        raise InvalidInput(committee_id=_("Choose a committee, a local area or a topic."))
    return committee_id, area_id, topic


def _set_mode(actor: User, topic: Topic, premoderated: bool) -> None:
    """Pre-moderation is moderation's per-topic mode (audited there)."""
    desk = hooks.moderator_desk()
    if desk is not None:
        desk.set_mode(actor, "topic", topic.id, "pre" if premoderated else None)


def schedule_session(
    actor: User,
    title: str,
    description: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    politician_ids,
    committee_id=None,
    area_id=None,
    topic_id=None,
    premoderated: bool = True,
    advance_questions: bool = True,
) -> QASession:
    """Schedule a session and open its debate topic (pre-moderated when asked)."""
    title, description = _validate_session(title, description, starts_at, ends_at, new=True)
    committee_id, area_id, related = _place(committee_id, area_id, topic_id)
    if not permissions.can_schedule(actor, area_id):
        raise PermissionDenied(_("Only staff may schedule Q&A sessions here."))
    politicians = _politicians(politician_ids)
    topic = forum_services.create_topic(
        actor, title, description, committee_id=committee_id, area_id=area_id
    )
    if topic.status != TopicStatus.OPEN:
        raise PermissionDenied(_("Only staff may schedule Q&A sessions here."))
    session = QASession(
        title=title,
        description_source=description,
        description_html=str(render_markdown(description)),
        committee_id=committee_id,
        area_id=area_id,
        topic_id=related.id if related else None,
        debate_topic_id=topic.id,
        starts_at=starts_at,
        ends_at=ends_at,
        state=S.SCHEDULED,
        premoderated=bool(premoderated),
        advance_questions=bool(advance_questions),
        created_by_id=actor.id,
        created_at=utcnow(),
        politicians=politicians,
    )
    db.session.add(session)
    db.session.flush()
    forget_topic_ids()
    if premoderated:
        _set_mode(actor, topic, True)
    _event("qa_scheduled", session, actor.id, state=session.state.value)
    return session


def edit_session(
    actor: User,
    session: QASession,
    title: str,
    description: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    politician_ids,
    premoderated: bool,
    advance_questions: bool,
) -> None:
    """Change a session that has not ended; a new start time moves the reminders."""
    if not permissions.can_manage(actor, session):
        raise PermissionDenied(_("Only staff may change this session."))
    if session.state == S.ENDED:
        raise Conflict(_("This session has ended and can no longer be changed."))
    title, description = _validate_session(
        title, description, starts_at, ends_at, new=session.state == S.SCHEDULED
    )
    politicians = _politicians(politician_ids)
    moved = starts_at != session.starts_at or title != session.title
    session.title = title
    session.description_source = description
    session.description_html = str(render_markdown(description))
    session.starts_at, session.ends_at = starts_at, ends_at
    session.advance_questions = bool(advance_questions)
    session.politicians = politicians
    if bool(premoderated) != session.premoderated:
        session.premoderated = bool(premoderated)
        _set_mode(actor, session.debate_topic, session.premoderated)
    db.session.flush()
    if moved and session.state == S.SCHEDULED:
        _event(
            "qa_changed",
            session,
            actor.id,
            starts_at=session.starts_at.isoformat() + "Z",
            title=session.title,
            path=path_of(session),
        )
    _event("qa_session", session, actor.id, state=session.state.value)


def start_session(actor: User, session: QASession) -> None:
    if not permissions.can_manage(actor, session):
        raise PermissionDenied(_("Only staff may start this session."))
    if session.state != S.SCHEDULED:
        raise Conflict(_("Only a scheduled session can be started."))
    session.state = S.LIVE
    session.started_at = utcnow()
    db.session.flush()
    _event("qa_session", session, actor.id, state=session.state.value)


def _close_topic(session: QASession, actor_id: int | None) -> None:
    topic = session.debate_topic
    if topic.status == TopicStatus.OPEN:
        topic.status = TopicStatus.CLOSED
        topic.updated_at = utcnow()
        eventlog.record(
            "topic_changed",
            "topic",
            topic.id,
            f"topic:{topic.id}",
            forum_services.topic_payload(topic),
            actor_id,
        )


def end_session(actor: User | None, session: QASession) -> None:
    """End a session (``actor`` None: it ended by itself); its page becomes the archive."""
    if actor is not None and not permissions.can_manage(actor, session):
        raise PermissionDenied(_("Only staff may end this session."))
    if session.state == S.ENDED:
        raise Conflict(_("This session has already ended."))
    was = session.state
    session.state = S.ENDED
    session.ended_at = utcnow()
    session.pinned_post_id = None
    _close_topic(session, actor.id if actor else None)
    db.session.flush()
    if was == S.SCHEDULED:  # it never took place: no reminders
        _event("qa_changed", session, actor.id if actor else None, cancelled=True)
    _event(
        "qa_session",
        session,
        actor.id if actor else None,
        state=session.state.value,
        pinned_post_id=None,
    )


def overdue_sessions(now: datetime | None = None) -> list[QASession]:
    now = now or utcnow()
    grace = timedelta(minutes=int(current_app.config["QA_AUTO_END_MINUTES"]))
    return list(
        db.session.scalars(
            select(QASession).where(QASession.state != S.ENDED, QASession.ends_at <= now - grace)
        )
    )


def tick(now: datetime | None = None) -> int:
    """End every session whose end time passed ``QA_AUTO_END_MINUTES`` ago; how many."""
    ended = 0
    for session in overdue_sessions(now):
        end_session(None, session)
        ended += 1
    return ended


def end_if_overdue(session: QASession, now: datetime | None = None) -> bool:
    """The lazy version of ``tick`` for one session (page views call it)."""
    now = now or utcnow()
    grace = timedelta(minutes=int(current_app.config["QA_AUTO_END_MINUTES"]))
    if session.state != S.ENDED and session.ends_at <= now - grace:
        end_session(None, session)
        return True
    return False


# --- questions ---------------------------------------------------------------------------------


def _accepts_questions(session: QASession) -> None:
    if session.state == S.ENDED:
        raise Conflict(_("This session has ended: it no longer takes questions."))
    if session.state == S.SCHEDULED and not session.advance_questions:
        raise Conflict(_("Questions can be asked when the session starts."))


def _validate_question(body: str) -> str:
    body = _clean(body)
    lo, hi = current_app.config["QA_QUESTION_MIN"], current_app.config["QA_QUESTION_MAX"]
    if not lo <= len(body) <= hi:
        raise InvalidInput(body=_("A question must be %(lo)d–%(hi)d characters.", lo=lo, hi=hi))
    return body


def ask(user: User, session: QASession, body: str, nonce: str | None = None) -> Post:
    """Ask a question (held for a moderator when the session is pre-moderated)."""
    if not permissions.can_ask(user):
        raise PermissionDenied(_("Log in to ask a question."))
    _accepts_questions(session)
    body = _validate_question(body)
    forum_services.check_restriction(user, "ask")
    if nonce:
        existing = db.session.scalar(
            select(Post).where(Post.author_id == user.id, Post.client_nonce == nonce)
        )
        if existing is not None:
            return existing
    _rate("ask", user)
    with writing("question"):
        post = forum_services.create_post(user, session.debate_topic, body, nonce=nonce)
    if db.session.get(QAEntry, post.id) is None:
        db.session.add(
            QAEntry(
                post_id=post.id,
                session_id=session.id,
                kind=EntryKind.QUESTION,
                status=Q.OPEN,
                vote_count=0,
            )
        )
        db.session.flush()
    return post


def askers(session: QASession, entry: QAEntry) -> set[int]:
    """The question's author and the authors of the duplicates merged into it."""
    ids = {entry.post.author_id}
    ids.update(
        db.session.scalars(
            select(Post.author_id)
            .join(QAEntry, QAEntry.post_id == Post.id)
            .where(QAEntry.merged_into_id == entry.post_id)
        )
    )
    return ids


def _votable(entry: QAEntry) -> None:
    if entry.post.state != PostState.PUBLISHED:
        raise Conflict(_("Only published questions can get votes."))
    if entry.status == Q.MERGED:
        raise Conflict(_("This question was merged into another one: vote there."))
    if entry.status == Q.CLOSED:
        raise Conflict(_("This question is closed."))


def set_vote(user: User, session: QASession, post_id, vote: bool) -> int:
    """Vote for a question (``vote`` True) or withdraw the vote; returns the new count."""
    if not permissions.can_ask(user):
        raise PermissionDenied(_("Log in to vote."))
    if not isinstance(vote, bool):
        raise InvalidInput(vote=_("Say whether you vote (true) or withdraw (false)."))
    entry = _entry(session, post_id)
    if entry.post.state != PostState.PUBLISHED and not forum_permissions.can_see_post(
        user, entry.post
    ):
        raise NotFound(_("No such question in this session."))
    if session.state == S.ENDED:
        raise Conflict(_("This session has ended: votes are closed."))
    _votable(entry)
    if user.id in askers(session, entry):
        raise PermissionDenied(_("You cannot vote for your own question."))
    forum_services.check_restriction(user, "vote")
    existing = db.session.get(QAVote, (entry.post_id, user.id))
    if vote and existing is not None:
        raise Conflict(_("You have already voted for this question."))
    if not vote and existing is None:
        raise Conflict(_("You have not voted for this question."))
    _rate("vote", user)
    if vote:
        db.session.add(QAVote(post_id=entry.post_id, user_id=user.id, created_at=utcnow()))
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:
            raise Conflict(_("You have already voted for this question.")) from None
    else:
        db.session.delete(existing)
        db.session.flush()
    db.session.execute(
        update(QAEntry)
        .where(QAEntry.post_id == entry.post_id)
        .values(vote_count=QAEntry.vote_count + (1 if vote else -1))
    )
    db.session.refresh(entry, ["vote_count"])
    _event("qa_votes", session, user.id, post_id=entry.post_id, votes=entry.vote_count)
    return entry.vote_count


def _manage(actor: User, session: QASession) -> None:
    if not permissions.can_manage(actor, session):
        raise PermissionDenied(_("Only moderators of this session may do that."))


def moderate_question(
    moderator: User, session: QASession, post_id, action: str, rule_id=None, text: str = ""
) -> None:
    """Approve or reject a held question through moderation (decision, audit, notice)."""
    _manage(moderator, session)
    if action not in ("approve", "reject"):
        raise InvalidInput(action=_("Choose approve or reject."))
    entry = _entry(session, post_id)
    if entry.post.state != PostState.PENDING:
        raise Conflict(_("This question is not awaiting moderation."))
    desk = hooks.moderator_desk()
    if desk is None:
        raise Conflict(_("Questions cannot be moderated: moderation is not available."))
    desk.moderate_post(moderator, entry.post, action, rule_id, text or "")


def merge(moderator: User, session: QASession, post_id, into_id) -> QAEntry:
    """Merge a duplicate into another question: votes and askers combine; askers are told."""
    _manage(moderator, session)
    if session.state == S.ENDED:
        raise Conflict(_("This session has ended."))
    dup = _entry(session, post_id)
    target = _entry(session, into_id, field="into_id")
    if dup.post_id == target.post_id:
        raise InvalidInput(into_id=_("A question cannot be merged into itself."))
    for e in (dup, target):
        if e.post.state != PostState.PUBLISHED:
            raise Conflict(_("Only published questions can be merged."))
        if e.status == Q.MERGED:
            raise Conflict(_("This question was already merged into another one."))
    target_askers = askers(session, target)
    dup_askers = askers(session, dup)
    combined = target_askers | dup_askers
    # Votes follow the duplicate unless the voter already voted for the target or now
    # counts as one of its askers; the duplicate's askers' votes for the target go too.
    already = set(
        db.session.scalars(select(QAVote.user_id).where(QAVote.post_id == target.post_id))
    )
    movers = [v for v in db.session.scalars(select(QAVote).where(QAVote.post_id == dup.post_id))]
    for v in movers:
        if v.user_id in already or v.user_id in combined:
            db.session.delete(v)
        else:
            db.session.add(
                QAVote(post_id=target.post_id, user_id=v.user_id, created_at=v.created_at)
            )
            db.session.delete(v)
    db.session.flush()
    db.session.execute(
        delete(QAVote).where(QAVote.post_id == target.post_id, QAVote.user_id.in_(combined))
    )
    db.session.execute(
        update(QAEntry)
        .where(QAEntry.merged_into_id == dup.post_id)
        .values(merged_into_id=target.post_id)
    )
    dup.status = Q.MERGED
    dup.merged_into_id = target.post_id
    dup.vote_count = 0
    target.vote_count = (
        db.session.scalar(
            select(func.count()).select_from(QAVote).where(QAVote.post_id == target.post_id)
        )
        or 0
    )
    unpinned = session.pinned_post_id == dup.post_id
    if unpinned:
        session.pinned_post_id = None
    db.session.flush()
    _tell_askers(moderator, session, dup_askers - target_askers, target.post_id)
    _event(
        "qa_merged",
        session,
        moderator.id,
        post_id=dup.post_id,
        merged_into=target.post_id,
        votes=target.vote_count,
        status=Q.MERGED.value,
    )
    if unpinned:
        _event("qa_pinned", session, moderator.id, pinned_post_id=None)
    return target


def _tell_askers(actor: User, session: QASession, user_ids: set[int], post_id: int) -> None:
    rows = [
        Notification(
            user_id=uid,
            kind="qa_merged",
            topic_id=session.debate_topic_id,
            post_id=post_id,
            actor_id=actor.id,
        )
        for uid in sorted(user_ids)
    ]
    if not rows:
        return
    db.session.add_all(rows)
    db.session.flush()
    eventlog.record_many(
        [
            {
                "kind": "notification",
                "subject_type": "user",
                "subject_id": row.user_id,
                "room": f"user:{row.user_id}",
                "payload": {
                    "kind": row.kind,
                    "post_id": post_id,
                    "topic_id": session.debate_topic_id,
                },
            }
            for row in rows
        ]
    )


def pin(moderator: User, session: QASession, post_id) -> None:
    """Pin the question being answered now (``post_id`` None: unpin)."""
    _manage(moderator, session)
    if session.state != S.LIVE:
        raise Conflict(_("Questions can be pinned while the session is live."))
    if post_id in (None, "", 0, "0"):
        session.pinned_post_id = None
    else:
        entry = _entry(session, post_id)
        if entry.post.state != PostState.PUBLISHED:
            raise Conflict(_("Only published questions can be pinned."))
        if entry.status in (Q.MERGED, Q.CLOSED):
            raise Conflict(_("A merged or closed question cannot be pinned."))
        session.pinned_post_id = entry.post_id
    db.session.flush()
    _event("qa_pinned", session, moderator.id, pinned_post_id=session.pinned_post_id)


def set_status(moderator: User, session: QASession, post_id, status: str) -> None:
    """Mark a question answered, close it, or open it again."""
    _manage(moderator, session)
    if session.state == S.ENDED:
        raise Conflict(_("This session has ended."))
    try:
        new = Q(status)
    except ValueError:
        raise InvalidInput(status=_("Unknown status.")) from None
    if new == Q.MERGED:
        raise InvalidInput(status=_("Merge a question with the merge form."))
    entry = _entry(session, post_id)
    if entry.post.state != PostState.PUBLISHED:
        raise Conflict(_("Only published questions can be marked."))
    if entry.status == Q.MERGED:
        raise Conflict(_("This question was merged into another one."))
    if entry.status == new:
        raise Conflict(_("The question already has this status."))
    entry.status = new
    entry.answered_at = utcnow() if new == Q.ANSWERED else entry.answered_at
    unpinned = new != Q.OPEN and session.pinned_post_id == entry.post_id
    if unpinned:
        session.pinned_post_id = None
    db.session.flush()
    _event(
        "qa_question",
        session,
        moderator.id,
        post_id=entry.post_id,
        status=new.value,
        votes=entry.vote_count,
    )
    if unpinned:
        _event("qa_pinned", session, moderator.id, pinned_post_id=None)


# --- answers and statements ---------------------------------------------------------------------


def _politician_writes(user: User, session: QASession, body: str, hi: int) -> str:
    if not permissions.can_answer(user, session):
        raise PermissionDenied(_("Only the politicians taking part in this session may answer."))
    if session.state != S.LIVE:
        raise Conflict(_("Answers and statements are given while the session is live."))
    body = _clean(body)
    if not 1 <= len(body) <= hi:
        raise InvalidInput(body=_("The text must be %(lo)d–%(hi)d characters.", lo=1, hi=hi))
    forum_services.check_restriction(user, "reply")
    return body


def answer(
    user: User, session: QASession, question_id, body: str, nonce: str | None = None
) -> Post:
    """A politician of the session answers a published question (several may)."""
    body = _politician_writes(user, session, body, int(current_app.config["QA_ANSWER_MAX"]))
    entry = _entry(session, question_id, field="question_id")
    if entry.post.state != PostState.PUBLISHED:
        raise Conflict(_("Only published questions can be answered."))
    if entry.status in (Q.MERGED, Q.CLOSED):
        raise Conflict(_("A merged or closed question cannot be answered."))
    with writing("answer"):
        post = forum_services.create_post(
            user, session.debate_topic, body, parent_id=entry.post_id, nonce=nonce
        )
    if db.session.get(QAEntry, post.id) is None:
        db.session.add(
            QAEntry(
                post_id=post.id,
                session_id=session.id,
                kind=EntryKind.ANSWER,
                status=Q.OPEN,
                vote_count=0,
            )
        )
        db.session.flush()
    return post


def statement(user: User, session: QASession, body: str, nonce: str | None = None) -> Post:
    """A short statement by one of the session's politicians."""
    body = _politician_writes(user, session, body, STATEMENT_MAX)
    with writing("statement"):
        post = forum_services.create_post(user, session.debate_topic, body, nonce=nonce)
    if db.session.get(QAEntry, post.id) is None:
        db.session.add(
            QAEntry(
                post_id=post.id,
                session_id=session.id,
                kind=EntryKind.STATEMENT,
                status=Q.OPEN,
                vote_count=0,
            )
        )
        db.session.flush()
    return post


# --- reminders -----------------------------------------------------------------------------------


def set_signup(user: User, session: QASession, on: bool) -> bool:
    """Ask for (or cancel) a mail reminder before a scheduled session; True if signed up."""
    if not permissions.can_ask(user):
        raise PermissionDenied(_("Log in to be reminded."))
    if session.state != S.SCHEDULED:
        raise Conflict(_("Reminders are for sessions that have not started."))
    existing = db.session.get(QASignup, (session.id, user.id))
    if on and existing is None:
        db.session.add(QASignup(session_id=session.id, user_id=user.id, created_at=utcnow()))
        db.session.flush()
        eventlog.record(
            "qa_signup",
            "qa",
            session.id,
            f"user:{user.id}",
            {
                "starts_at": session.starts_at.isoformat() + "Z",
                "title": session.title,
                "path": path_of(session),
            },
            user.id,
        )
    elif not on and existing is not None:
        db.session.delete(existing)
        db.session.flush()
        eventlog.record("qa_signoff", "qa", session.id, f"user:{user.id}", {}, user.id)
    return on


# --- held at a meeting (hybrid) -----------------------------------------------------------------
# The meetings package keeps the link (forum.hooks.register_meeting_links); without it these
# answer nothing and linking is refused.


def meeting_choices(user, session_id: int | None) -> list[tuple[int, str]]:
    """The meetings ``user`` may hold a session at (for the session form)."""
    links = hooks.meeting_links()
    if links is None or not getattr(user, "is_authenticated", False):
        return []
    return links.choices(user, session_id)


def meeting_facts(meeting_id: int):
    links = hooks.meeting_links()
    return links.facts(meeting_id) if links is not None else None


def meeting_of(session_id: int):
    """The meeting a session is held at (``forum.hooks.MeetingFacts``), or None."""
    links = hooks.meeting_links()
    return links.of_session(session_id) if links is not None else None


def hold_at_meeting(actor: User, session: QASession, meeting_id: int | None) -> bool:
    """Hold ``session`` at the meeting ``meeting_id`` (None: at none); the session's
    managers only, and the meeting's organisers (checked by the meetings package)."""
    if not permissions.can_manage(actor, session):
        raise PermissionDenied(_("Only staff may change this session."))
    links = hooks.meeting_links()
    if links is None:
        if meeting_id is not None:
            raise InvalidInput(meeting_id=_("Choose one of the options."))
        return False
    return links.link(actor, session.id, meeting_id)


def session_facts(session_id: int):
    """``forum.hooks.live_session``: a session's public facts for the meeting it is held at."""
    session = db.session.get(QASession, session_id)
    if session is None:
        return None
    return hooks.SessionFacts(
        id=session.id,
        title=session.title,
        url=f"/spoergetid/{session.id}",
        projector_url=f"/spoergetid/{session.id}/projektor",
        state=session.state.value,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
    )
