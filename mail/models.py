"""Mail's tables: preferences per user and kind, items waiting to be mailed, and the outbox.

``MailItem`` is one thing someone should hear about by mail (a reply, a post in a followed
topic, ...), queued in the transaction that wrote its ``notification`` event. An immediate
item gets its own ``MailMessage`` at once; a digest item waits until ``flask mail digests``
puts it, with the others of its period, into one digest message.

``MailMessage`` is the outbox: one row per e-mail, with a unique idempotency ``key``, rendered
at send time (so the recipient's language, preferences and permissions are those of that
moment) and moved through ``MessageStatus`` by the sender.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models import Event, User, string_enum, utcnow


class Kind(enum.StrEnum):
    """What a notification mail is about; the unit of preferences and unsubscribing."""

    REPLY = "reply"
    FOLLOWED_TOPIC = "followed_topic"
    SAVED_SEARCH = "saved_search"
    MODERATION = "moderation"
    QA_REMINDER = "qa_reminder"
    OUTCOME = "outcome"  # a new update of the outcome of a debate one took part in
    MEETING = "meeting"  # a seat from the waiting list, a meeting moved or cancelled, …


class Mode(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


DEFAULT_MODES: dict[Kind, Mode] = {
    Kind.REPLY: Mode.IMMEDIATE,
    Kind.FOLLOWED_TOPIC: Mode.DAILY,
    Kind.SAVED_SEARCH: Mode.DAILY,
    Kind.MODERATION: Mode.IMMEDIATE,
    Kind.QA_REMINDER: Mode.IMMEDIATE,
    Kind.OUTCOME: Mode.IMMEDIATE,
    Kind.MEETING: Mode.IMMEDIATE,
}

# The in-app notification kinds (``Notification.kind``, the ``kind`` in a notification
# event's payload) that are mailed, and the mail kind each belongs to.
NOTIFICATION_KINDS: dict[str, Kind] = {
    "reply": Kind.REPLY,
    "followed_topic": Kind.FOLLOWED_TOPIC,
    "saved_search": Kind.SAVED_SEARCH,
    "moderation_decision": Kind.MODERATION,
    "moderation_appeal": Kind.MODERATION,
    "moderation_suspension": Kind.MODERATION,
    "moderation_unsuspended": Kind.MODERATION,
    "topic_accepted": Kind.MODERATION,
    "topic_declined": Kind.MODERATION,
    # Decisions on other contributions: a live Q&A question merged, a citizen-budget idea
    # published, rejected, found (not) feasible or merged.
    "qa_merged": Kind.MODERATION,
    "budget_idea_approved": Kind.MODERATION,
    "budget_idea_rejected": Kind.MODERATION,
    "budget_idea_feasible": Kind.MODERATION,
    "budget_idea_infeasible": Kind.MODERATION,
    "budget_idea_merged": Kind.MODERATION,
    # The outcomes package: a new update of the outcome of a debate the user took part in
    # (the event's payload carries ``topic_id``, ``title`` and ``path``).
    "outcome_update": Kind.OUTCOME,
    # The meetings package: a seat freed up from the waiting list, a meeting one registered
    # for moved or cancelled, a new meeting on a followed topic (payload: ``title``, ``path``).
    "meeting_seat": Kind.MEETING,
    "meeting_changed": Kind.MEETING,
    "meeting_cancelled": Kind.MEETING,
    "meeting_new": Kind.MEETING,
    # … and invitations from local areas: invited, reminded, answered (to the inviter).
    "meeting_invitation": Kind.MEETING,
    "meeting_invitation_reminder": Kind.MEETING,
    "meeting_invitation_answered": Kind.MEETING,
}


class MessageKind(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGE = "email_change"  # to the new address: confirm it
    EMAIL_CHANGED = "email_changed"  # to the old address: it was changed
    ACCOUNT_EXISTS = "account_exists"  # someone tried to register with the address
    # Another package's mail (forum.hooks.queue_mail): the payload's "kind" names its composer
    OTHER = "other"
    NOTIFICATION = "notification"
    DIGEST = "digest"


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for ``due_at``
    SENDING = "sending"  # claimed by a sender; not yet handed to the SMTP server
    # Being delivered (SMTP DATA, or the outbox file written); after a crash here recovery
    # looks for the file, or resends over SMTP (at most one duplicate; mail/sender.py).
    HANDED_OVER = "handed_over"
    SENT = "sent"
    FAILED = "failed"  # gave up (permanent refusal, or too many attempts)
    SKIPPED = "skipped"  # nothing left to say (content hidden, kind turned off, ...)


class ItemStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a digest
    QUEUED = "queued"  # in a message
    DROPPED = "dropped"  # the kind was turned off, or it expired, before a digest took it


class MailPreference(db.Model):
    """A user's choice for one kind; no row means ``DEFAULT_MODES``."""

    __tablename__ = "mail_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[Kind] = mapped_column(string_enum(Kind, "mail_kind"), primary_key=True)
    mode: Mapped[Mode] = mapped_column(string_enum(Mode, "mail_mode"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MailMessage(db.Model):
    __tablename__ = "mail_messages"
    __table_args__ = (
        Index("ix_mail_messages_status_due", "status", "due_at"),
        Index("ix_mail_messages_user_kind_created", "user_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One e-mail per key, ever: a digest is "digest:<user>:<mode>:<period>", account mails
    # and immediate notifications carry a random part. Also the Message-ID's left side.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[MessageKind] = mapped_column(string_enum(MessageKind, "mail_message_kind"))
    # None: a mail to an address with no account yet (another package's, e.g. an invitation)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Fixed for account mails (the new or the old address); None: the user's address when sent.
    to_addr: Mapped[str | None] = mapped_column(String(254))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[MessageStatus] = mapped_column(
        string_enum(MessageStatus, "mail_message_status"), default=MessageStatus.QUEUED
    )
    due_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User | None] = relationship()
    items: Mapped[list[MailItem]] = relationship(back_populates="message", order_by="MailItem.id")


class MailItem(db.Model):
    __tablename__ = "mail_items"
    __table_args__ = (Index("ix_mail_items_user_status_mode", "user_id", "status", "mode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[Kind] = mapped_column(string_enum(Kind, "mail_kind"))
    # The notification kind (``reply``, ``moderation_decision``, ...) or ``qa_signup``.
    source: Mapped[str] = mapped_column(String(40))
    # The event that caused it: unique, so an event is never mailed twice.
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), unique=True)
    topic_id: Mapped[int | None] = mapped_column(Integer)
    post_id: Mapped[int | None] = mapped_column(Integer)
    subject_id: Mapped[int | None] = mapped_column(Integer)  # e.g. the Q&A session's id
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    mode: Mapped[Mode] = mapped_column(string_enum(Mode, "mail_mode"))
    status: Mapped[ItemStatus] = mapped_column(
        string_enum(ItemStatus, "mail_item_status"), default=ItemStatus.PENDING
    )
    due_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_messages.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    event: Mapped[Event] = relationship()
    message: Mapped[MailMessage | None] = relationship(back_populates="items")
