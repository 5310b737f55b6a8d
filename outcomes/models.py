"""Outcome tables. A topic has at most one ``Outcome``; its timeline is a list of dated
``OutcomeUpdate``s (like a case file), each with a status, the words of the decision, the
body that decided and a link to the agenda item or minutes. The outcome's own status,
body and date are those of its latest update (kept by the services for list pages).

``OutcomeCitation`` is "what we heard → what we did": an update cites contributions by
``kind`` + ``target_id`` (``"post"`` of the debate itself; ``"answer"``, ``"idea"``,
``"offline"`` owned by other packages, see ``CitationKind``) with a short note each. Every
table name starts with ``outcome``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models import Topic, User, string_enum, utcnow


class OutcomeStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"  # under behandling
    DECIDED = "decided"  # besluttet
    POSTPONED = "postponed"  # udsat
    REJECTED = "rejected"  # afvist
    REFERRED = "referred"  # sendt videre (til byrådet eller et andet organ)


class DecidingBody(enum.StrEnum):
    COMMITTEE = "committee"
    CITY_COUNCIL = "city_council"
    ADMINISTRATION = "administration"


class CitationKind(enum.StrEnum):
    POST = "post"  # a post of the outcome's own debate
    # Other packages' contributions (``forum.hooks.register_citable_source``):
    ANSWER = "answer"  # a live Q&A answer (a post in the session's topic)
    IDEA = "idea"  # a citizen-budget idea
    OFFLINE = "offline"  # a contribution from a meeting (a post in the meeting's topic)


class Outcome(db.Model):
    __tablename__ = "outcomes"
    __table_args__ = (Index("ix_outcomes_status_updated", "status", "updated_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), unique=True)
    # The latest update's status, body and date (the timeline's head), for list pages.
    status: Mapped[OutcomeStatus] = mapped_column(string_enum(OutcomeStatus, "outcome_status"))
    body: Mapped[DecidingBody] = mapped_column(string_enum(DecidingBody, "outcome_body"))
    updated_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    topic: Mapped[Topic] = relationship()
    created_by: Mapped[User] = relationship()
    updates: Mapped[list[OutcomeUpdate]] = relationship(
        back_populates="outcome",
        order_by="(OutcomeUpdate.decided_on.desc(), OutcomeUpdate.id.desc())",
        cascade="all, delete-orphan",
    )


class OutcomeUpdate(db.Model):
    __tablename__ = "outcome_updates"
    __table_args__ = (
        UniqueConstraint("author_id", "client_nonce", name="uq_outcome_updates_author_nonce"),
        Index("ix_outcome_updates_outcome_date", "outcome_id", "decided_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcomes.id", ondelete="CASCADE"))
    status: Mapped[OutcomeStatus] = mapped_column(string_enum(OutcomeStatus, "outcome_status"))
    body: Mapped[DecidingBody] = mapped_column(string_enum(DecidingBody, "outcome_body"))
    text_source: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str] = mapped_column(Text)  # through forum.rendering, on write
    decided_on: Mapped[date] = mapped_column(Date)
    link: Mapped[str | None] = mapped_column(String(500))  # http(s) only
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A per-form random value: a double-submitted form finds its first update.
    client_nonce: Mapped[str | None] = mapped_column(String(64))

    outcome: Mapped[Outcome] = relationship(back_populates="updates")
    author: Mapped[User] = relationship()
    citations: Mapped[list[OutcomeCitation]] = relationship(
        back_populates="update", order_by="OutcomeCitation.id", cascade="all, delete-orphan"
    )


class OutcomeCitation(db.Model):
    __tablename__ = "outcome_citations"
    __table_args__ = (
        UniqueConstraint("update_id", "kind", "target_id", name="uq_outcome_citations_target"),
        Index("ix_outcome_citations_kind_target", "kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("outcome_updates.id", ondelete="CASCADE"))
    kind: Mapped[CitationKind] = mapped_column(string_enum(CitationKind, "outcome_citation_kind"))
    target_id: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")

    update: Mapped[OutcomeUpdate] = relationship(back_populates="citations")

    @property
    def key(self) -> tuple[str, int]:
        return (CitationKind(self.kind).value, self.target_id)
