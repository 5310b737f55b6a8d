"""Moderation's tables: modes, debate rules, watched words, flags, the queue, appeals,
suspensions and the append-only audit log.

The forum's tables are referenced, never changed: a post's state lives on ``Post.state``
and moves only through ``forum.states.transition``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models import Area, Committee, Post, Topic, User, utcnow

# Values of the string columns below (kept as plain strings so migrations stay simple).
MODES = ("post", "pre")  # post-moderation (publish at once) / pre-moderation (hold)
WORD_ACTIONS = ("hold", "reject")
WORD_LANGUAGES = ("any", "da", "en")
FLAG_STATUSES = ("open", "upheld", "dismissed")
ITEM_KINDS = ("post", "flag", "proposal", "appeal")  # and the kinds of registered sources
CORE_ITEM_KINDS = ITEM_KINDS
ITEM_STATUSES = ("open", "decided", "closed")  # closed: withdrawn (e.g. the author deleted)
APPEAL_STATUSES = ("open", "granted", "denied", "withdrawn")


class ModerationMode(db.Model):
    """A committee's, area's or topic's mode; a topic without a row inherits (see policy)."""

    __tablename__ = "moderation_modes"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN committee_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN area_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN topic_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int | None] = mapped_column(
        ForeignKey("committees.id", ondelete="CASCADE"), unique=True
    )
    area_id: Mapped[int | None] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), unique=True
    )
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), unique=True
    )
    mode: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DebateRule(db.Model):
    """One of the debate rules (debatregler), in Danish and English; admins edit them.

    Rules are deactivated, never deleted: decisions and reports cite them.
    """

    __tablename__ = "moderation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title_da: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120))
    body_da: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    # Rendered on write by forum.rendering.render_markdown.
    body_da_html: Mapped[str] = mapped_column(Text, default="")
    body_en_html: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def title(self, lang: str | None) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_da

    def body_html(self, lang: str | None) -> str:
        return self.body_en_html if lang == "en" and self.body_en_html else self.body_da_html


class WatchedWord(db.Model):
    """A word (or ``prefix*``) that holds or rejects a post; matched whole-word, inflected."""

    __tablename__ = "moderation_watched_words"
    __table_args__ = (UniqueConstraint("word", "language", name="uq_moderation_words_word_lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(5), default="any")
    action: Mapped[str] = mapped_column(String(10), default="hold")
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("moderation_rules.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    rule: Mapped[DebateRule | None] = relationship()


class Flag(db.Model):
    """A user's report of a published post. One per user and post, ever."""

    __tablename__ = "moderation_flags"
    __table_args__ = (
        UniqueConstraint("post_id", "reporter_id", name="uq_moderation_flags_post_reporter"),
        Index("ix_moderation_flags_post_status", "post_id", "status"),
        Index("ix_moderation_flags_reporter_status", "reporter_id", "status"),
        Index("ix_moderation_flags_post_author", "post_author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Copied from the post so "flags received" by an author needs no join.
    post_author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("moderation_rules.id"))  # None: other
    text: Mapped[str] = mapped_column(String(500), default="")
    # The reporter's accuracy when reporting: a mostly-dismissed reporter weighs less.
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    rule: Mapped[DebateRule | None] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])


class QueueItem(db.Model):
    """Something waiting for a moderator: a held post, a flagged post, a topic proposal, an
    appeal, or content another package owns (``kind`` is then that source's kind, e.g.
    "idea", and ``target_id`` its id; see ``forum.hooks.ReviewSource``). ``open_key`` is set
    only while open, so one item per subject and kind can be open at a time (a unique column
    with NULLs allowed works on SQLite and PostgreSQL).
    """

    __tablename__ = "moderation_queue"
    __table_args__ = (
        Index("ix_moderation_queue_status_created", "status", "created_at", "id"),
        Index("ix_moderation_queue_status_area", "status", "area_id", "created_at"),
        Index("ix_moderation_queue_status_committee", "status", "committee_id", "created_at"),
        Index("ix_moderation_queue_status_reason", "status", "reason", "created_at"),
        Index("ix_moderation_queue_post_status", "post_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")
    open_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), index=True
    )
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("moderation_appeals.id"))
    # The id of a registered source's content (kind = the source's kind); None otherwise.
    target_id: Mapped[int | None] = mapped_column(Integer)
    # Copied from the topic so filters and moderator scopes need no join.
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    reason: Mapped[str] = mapped_column(String(30))  # the main reason, for the filter
    detail: Mapped[str] = mapped_column(String(500), default="")  # all reasons, matched words
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    # Appeals: the moderator who made the appealed decision decides only if nobody else can.
    avoid_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)

    post: Mapped[Post | None] = relationship()
    topic: Mapped[Topic | None] = relationship()
    appeal: Mapped[Appeal | None] = relationship()
    committee: Mapped[Committee | None] = relationship()
    area: Mapped[Area | None] = relationship()
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def claimed_by_other(self, user_id: int, now: datetime) -> bool:
        return (
            self.claimed_by_id is not None
            and self.claimed_by_id != user_id
            and self.claimed_until is not None
            and self.claimed_until > now
        )


class Appeal(db.Model):
    """An author's appeal of one decision against them (one per decision)."""

    __tablename__ = "moderation_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("moderation_audit.id"), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome_text: Mapped[str] = mapped_column(Text, default="")

    entry: Mapped[AuditEntry] = relationship(foreign_keys=[entry_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])


class Suspension(db.Model):
    """A user may read but not write while suspended; ``until`` None means indefinitely."""

    __tablename__ = "moderation_suspensions"
    __table_args__ = (Index("ix_moderation_suspensions_user_lifted", "user_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("moderation_rules.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    until: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    rule: Mapped[DebateRule | None] = relationship()

    def is_active(self, now: datetime) -> bool:
        return self.lifted_at is None and (self.until is None or self.until > now)


class AuditEntry(db.Model):
    """One moderation action: who, what, target, from-state, to-state, rule, text, when.

    Append-only: rows are inserted and never updated or deleted (enforced below for every
    ORM path). ``area_id``/``committee_id`` scope the entry for area moderators;
    ``subject_user_id`` is the person the action was about (the post's author).
    """

    __tablename__ = "moderation_audit"
    __table_args__ = (
        Index("ix_moderation_audit_action_created", "action", "created_at"),
        Index("ix_moderation_audit_area_id", "area_id", "id"),
        Index("ix_moderation_audit_subject_id", "subject_user_id", "id"),
        Index("ix_moderation_audit_post_id", "post_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    action: Mapped[str] = mapped_column(String(30))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int | None] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("moderation_rules.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    post_id: Mapped[int | None] = mapped_column(Integer)
    topic_id: Mapped[int | None] = mapped_column(Integer)
    subject_user_id: Mapped[int | None] = mapped_column(Integer)
    area_id: Mapped[int | None] = mapped_column(Integer)
    committee_id: Mapped[int | None] = mapped_column(Integer)
    # The in-app notification that told the subject about this action, if any.
    notification_id: Mapped[int | None] = mapped_column(Integer, index=True)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    rule: Mapped[DebateRule | None] = relationship()


class AppendOnlyViolation(RuntimeError):
    """Raised when code tries to change or delete an audit entry."""
