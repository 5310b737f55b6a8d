"""Opinion map tables (issue 17). A topic may have statements rounds (``OpinionRound``): a
question, an end date and whether people may take part without an account. People take part
as ``OpinionParticipant``s: an account, an anonymous signed cookie id, or a pseudonymous
Pol.is participant (imported). ``OpinionStatement``s are short plain-text statements (seed
statements from staff, participants' statements held for moderation, debate posts proposed
by a moderator, or imported ones); ``OpinionVote``s are one per participant and statement,
changeable. The computed map (and the state that keeps groups stable between computations)
is cached on the round. Every table name starts with ``opinion``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models import Topic, string_enum, utcnow

STATEMENT_MAX = 140


class StatementState(enum.StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"


class OpinionRound(db.Model):
    __tablename__ = "opinion_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(300))
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # "polis" for an imported conversation (its participants are pseudonymous).
    source: Mapped[str] = mapped_column(String(10), default="local")
    # Bumped by every vote; the map is recomputed when it differs from map_version.
    vote_version: Mapped[int] = mapped_column(Integer, default=0)
    map_version: Mapped[int] = mapped_column(Integer, default=-1)
    map_json: Mapped[str | None] = mapped_column(Text)  # the last computed map (JSON)
    map_state: Mapped[str | None] = mapped_column(Text)  # mapmath.MapState as JSON
    map_computed_at: Mapped[datetime | None] = mapped_column(DateTime)

    topic: Mapped[Topic] = relationship()

    def is_open(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) < self.ends_at


class OpinionParticipant(db.Model):
    __tablename__ = "opinion_participants"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id", name="uq_opinion_participant_user"),
        UniqueConstraint("round_id", "anon_key", name="uq_opinion_participant_anon"),
        UniqueConstraint("round_id", "external_id", name="uq_opinion_participant_external"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("opinion_rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    anon_key: Mapped[str | None] = mapped_column(String(64))  # from the signed cookie
    external_id: Mapped[int | None] = mapped_column(Integer)  # a Pol.is participant id
    external_group: Mapped[int | None] = mapped_column(Integer)  # Pol.is's own group-id
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OpinionStatement(db.Model):
    __tablename__ = "opinion_statements"
    __table_args__ = (
        UniqueConstraint("round_id", "external_id", name="uq_opinion_statement_external"),
        Index("ix_opinion_statements_round_state", "round_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("opinion_rounds.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)  # plain text (≤ 140 characters when written here)
    state: Mapped[StatementState] = mapped_column(
        string_enum(StatementState, "opinion_statement_state"), default=StatementState.PENDING
    )
    author_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("opinion_participants.id", ondelete="SET NULL")
    )
    seed: Mapped[bool] = mapped_column(Boolean, default=False)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    external_id: Mapped[int | None] = mapped_column(Integer)  # the Pol.is comment id
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OpinionVote(db.Model):
    __tablename__ = "opinion_votes"
    __table_args__ = (
        UniqueConstraint("statement_id", "participant_id", name="uq_opinion_vote"),
        Index("ix_opinion_votes_round", "round_id"),
        Index("ix_opinion_votes_participant", "participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("opinion_rounds.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("opinion_statements.id", ondelete="CASCADE")
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("opinion_participants.id", ondelete="CASCADE")
    )
    value: Mapped[int] = mapped_column(SmallInteger)  # 1 agree, -1 disagree, 0 pass
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
