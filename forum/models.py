"""The forum's tables: people, places, debates, notifications and the event log."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TypeVar

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .errors import InvalidInput
from .extensions import db

E = TypeVar("E", bound=enum.Enum)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def string_enum(cls: type[enum.Enum], name: str) -> Enum:
    """A column type for ``cls`` stored as its values in plain strings (no native enum type:
    migrations stay simple). Feature packages use it for their own enums."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def enum_member(cls: type[E], value, message: str = "", **fields: str) -> E:
    """The member of ``cls`` whose value a form or a request sent; ``InvalidInput(message,
    **fields)`` when ``value`` names none, so the caller's form shows the error (not a 500)."""
    try:
        return cls(value)
    except ValueError:
        raise InvalidInput(message, **fields) from None


class Role(enum.StrEnum):
    CITIZEN = "citizen"
    POLITICIAN = "politician"
    MODERATOR = "moderator"
    STAFF = "staff"  # a municipal employee: runs processes (meetings, outcomes, reports)
    ADMIN = "admin"


class TopicStatus(enum.StrEnum):
    PROPOSED = "proposed"  # a citizen's proposal, invisible until a moderator accepts it
    DECLINED = "declined"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class PostState(enum.StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    HIDDEN = "hidden"
    REMOVED = "removed"
    DELETED = "deleted"  # by its author


class Stance(enum.StrEnum):
    FOR = "for"
    AGAINST = "against"
    QUESTION = "question"


politician_committees = Table(
    "politician_committees",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("committee_id", ForeignKey("committees.id", ondelete="CASCADE"), primary_key=True),
)

moderator_areas = Table(
    "moderator_areas",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(string_enum(Role, "role"), default=Role.CITIZEN)
    party: Mapped[str | None] = mapped_column(String(80))
    locale: Mapped[str | None] = mapped_column(String(5))
    # Bumped on logout-everywhere and password change: old session cookies stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Set when the owner followed a link mailed to ``email`` (see the mail package); until
    # then the account may read and follow but not write (when MAIL_REQUIRE_VERIFICATION).
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A new address waiting for its owner to follow the link mailed to it.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when the account was deleted (privacy package): the row stays so contributions keep
    # an author, shown as a former participant without a profile.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set by an admin (admin package): a deactivated account cannot log in and its logins
    # have ended; None means active.
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime)

    committees: Mapped[list[Committee]] = relationship(
        secondary=politician_committees, back_populates="politicians", order_by="Committee.name"
    )
    moderated_areas: Mapped[list[Area]] = relationship(
        secondary=moderator_areas, order_by="Area.name"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_politician(self) -> bool:
        return self.role == Role.POLITICIAN

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated account cannot log in
        return self.deactivated_at is None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserSession(db.Model):
    """One signed-in browser (a login), identified by a random key in its cookies.

    The session cookie and the remember-me cookie carry ``<user id>:<key>``; only the key's
    SHA-256 is stored. Logging out deletes the row, so a copy of that cookie stops working
    while the user's other logins go on; logging out everywhere (and a new password) bumps
    ``User.session_version``, which every row must match (forum/sessions.py).
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Committee(db.Model):
    """A council committee (fagudvalg)."""

    __tablename__ = "committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Rendered on write by forum.rendering.render_markdown (the admin pages edit it).
    description_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Lists show places by position (then name); admins reorder them.
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An archived place keeps its page and topics but is not offered for new topics.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)

    # The committee's chair: one of its politicians (admins set it), or None.
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    politicians: Mapped[list[User]] = relationship(
        secondary=politician_committees, back_populates="committees", order_by="User.display_name"
    )
    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id])


class Area(db.Model):
    """A local area (lokalområde): one of the municipality's towns."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Rendered on write by forum.rendering.render_markdown (the admin pages edit it).
    description_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Lists show places by position (then name); admins reorder them.
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An archived place keeps its page and topics but is not offered for new topics.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)


class SlugHistory(db.Model):
    """A slug a committee or area had before: its old URLs redirect (301) to the new one."""

    __tablename__ = "slug_history"
    __table_args__ = (UniqueConstraint("kind", "old_slug", name="uq_slug_history_kind_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "committee" or "area"
    old_slug: Mapped[str] = mapped_column(String(120))
    target_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Topic(db.Model):
    __tablename__ = "topics"
    __table_args__ = (Index("ix_topics_status_activity", "status", "last_activity_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    intro_source: Mapped[str] = mapped_column(Text)
    intro_html: Mapped[str] = mapped_column(Text)
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[TopicStatus] = mapped_column(
        string_enum(TopicStatus, "topic_status"), default=TopicStatus.OPEN
    )
    deadline: Mapped[datetime | None] = mapped_column(DateTime)  # høringsfrist, UTC
    # Set by an admin: the home page shows featured topics first (newest feature first).
    featured_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Published posts only; kept by the services so list pages need no counting query.
    post_count: Mapped[int] = mapped_column(Integer, default=0)

    committee: Mapped[Committee | None] = relationship()
    area: Mapped[Area | None] = relationship()
    author: Mapped[User] = relationship()

    @property
    def is_public(self) -> bool:
        return self.status in (TopicStatus.OPEN, TopicStatus.CLOSED, TopicStatus.ARCHIVED)


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("author_id", "client_nonce", name="uq_posts_author_nonce"),
        Index("ix_posts_topic_state", "topic_id", "state"),
        Index("ix_posts_author_created", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    stance: Mapped[Stance | None] = mapped_column(string_enum(Stance, "stance"))
    state: Mapped[PostState] = mapped_column(string_enum(PostState, "post_state"))
    # Why the moderation policy held the post (shown to the author and moderators).
    held_reason: Mapped[str | None] = mapped_column(String(200))
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A per-form random value: a double-submitted form finds its first post instead of
    # creating a second one.
    client_nonce: Mapped[str | None] = mapped_column(String(64))

    topic: Mapped[Topic] = relationship()
    author: Mapped[User] = relationship()
    parent: Mapped[Post | None] = relationship(remote_side=[id])


class PostRevision(db.Model):
    """An earlier text of a post; every edit keeps the text it replaced."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)  # when this text was written


class Support(db.Model):
    """A user's "enig" on a post."""

    __tablename__ = "supports"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Follow(db.Model):
    __tablename__ = "follows"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# The kinds the fan-out worker writes (forum/fanout.py): one per post and recipient, at most.
POST_FANOUT_KINDS = ("reply", "followed_topic")
_FANOUT_WHERE = text("kind IN ('reply', 'followed_topic') AND post_id IS NOT NULL")


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        # A follower or the parent's author hears of a newly public post once, however often
        # the fan-out runs (a worker that died mid-batch, a post approved again after an edit).
        Index(
            "uq_notifications_post_recipient",
            "post_id",
            "user_id",
            unique=True,
            sqlite_where=_FANOUT_WHERE,
            postgresql_where=_FANOUT_WHERE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # reply, followed_topic, topic_accepted, ...
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    topic: Mapped[Topic | None] = relationship()
    post: Mapped[Post | None] = relationship()
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class FanoutJob(db.Model):
    """A newly public post whose notifications are still to be written (forum/fanout.py).

    Added in the transaction that publishes the post (the ``forum.fanout`` flush handler, one
    row whatever the number of followers); the fan-out worker writes the notifications in
    batches after the commit, moving ``recipient_after`` in the same transaction as each
    batch. ``version`` makes two workers on one job refuse each other's stale batch.
    """

    __tablename__ = "notification_fanout"
    __table_args__ = (Index("ix_notification_fanout_pending", "done_at", "event_id"),)

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    # -1: nobody told yet (the parent's author comes first); then the last follower's user id.
    recipient_after: Mapped[int] = mapped_column(Integer, default=-1)
    told: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[str | None] = mapped_column(String(40))  # why nobody was told
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)

    event: Mapped[Event] = relationship()
    __mapper_args__ = {"version_id_col": version}


class Event(db.Model):
    """The append-only event log, written in the same transaction as the change it records.

    Live clients replay from it, the search indexer follows it with its own cursor, and
    notifications fan out from it. ``room`` names the Socket.IO room the event belongs to;
    ``visibility`` is "public" or "restricted" (only the author and moderators may see it).
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_room_id", "room", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now()
    )
