"""Live Q&A tables. Questions, answers and statements are forum ``Post`` rows (see the
package docstring); these tables hold only what is particular to a session: its schedule
and state, its politicians, each post's role in it, votes, and reminder sign-ups. Every
table name starts with ``qa_``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models import Area, Committee, Post, Topic, User, string_enum, utcnow


class SessionState(enum.StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"


class EntryKind(enum.StrEnum):
    QUESTION = "question"
    ANSWER = "answer"
    STATEMENT = "statement"


class QuestionStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"
    MERGED = "merged"


session_politicians = Table(
    "qa_session_politicians",
    db.metadata,
    Column("session_id", ForeignKey("qa_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class QASession(db.Model):
    __tablename__ = "qa_sessions"
    __table_args__ = (Index("ix_qa_sessions_state_starts", "state", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # The debate topic the session was scheduled for (optional; links both ways).
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    # The forum topic made for the session: its questions, answers and statements are posts
    # there, so moderation, search and profiles treat them like every other contribution.
    debate_topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), unique=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[SessionState] = mapped_column(
        string_enum(SessionState, "qa_session_state"), default=SessionState.SCHEDULED
    )
    premoderated: Mapped[bool] = mapped_column(Boolean, default=True)
    advance_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    pinned_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)

    committee: Mapped[Committee | None] = relationship()
    area: Mapped[Area | None] = relationship()
    topic: Mapped[Topic | None] = relationship(foreign_keys=[topic_id])
    debate_topic: Mapped[Topic] = relationship(foreign_keys=[debate_topic_id])
    pinned_post: Mapped[Post | None] = relationship(foreign_keys=[pinned_post_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    politicians: Mapped[list[User]] = relationship(
        secondary=session_politicians, order_by="User.display_name"
    )

    @property
    def room(self) -> str:
        return f"qa:{self.id}"


class QAEntry(db.Model):
    """A post's role in a session; for questions also their votes and status."""

    __tablename__ = "qa_entries"
    __table_args__ = (Index("ix_qa_entries_session_kind", "session_id", "kind"),)

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[int] = mapped_column(ForeignKey("qa_sessions.id", ondelete="CASCADE"))
    kind: Mapped[EntryKind] = mapped_column(string_enum(EntryKind, "qa_entry_kind"))
    status: Mapped[QuestionStatus] = mapped_column(
        string_enum(QuestionStatus, "qa_question_status"), default=QuestionStatus.OPEN
    )
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    # A duplicate merged into another question points at it (always the surviving one).
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    post: Mapped[Post] = relationship(foreign_keys=[post_id])
    session: Mapped[QASession] = relationship()


class QAVote(db.Model):
    __tablename__ = "qa_votes"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QASignup(db.Model):
    """A citizen's "remind me" on a scheduled session (the mail package sends it)."""

    __tablename__ = "qa_signups"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("qa_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
