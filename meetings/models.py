"""Meeting tables (issue 16). Every table name starts with ``meeting``.

- ``Meeting``: a meeting out in the municipality (topmøde, udvalgsmøde i lokalområdet, …),
  start/end stored as naive UTC (shown in Europe/Copenhagen), a place or an online link, the
  committee/area/topic it belongs to, its organiser and the politicians taking part, an
  optional registration with capacity and deadline, a cancelled state and an iCalendar
  ``sequence`` bumped on every change people's calendars must see.
- ``MeetingRegistration``: one row per person and meeting (unique), ``confirmed``,
  ``waiting`` (with a position on the waiting list) or ``cancelled``; a question to the
  organiser that only organisers see.
- ``meeting_contacts``: local forum contacts, an area-scoped capacity (user <-> area, like
  moderators' areas) — not a role of its own.
- ``MeetingCalendarToken``: the secret of a person's personal calendar feed.
- ``MeetingInvitation``: a local area invites a committee or named politicians.
- ``MeetingContribution``: the provenance of a post entered from a meeting (offline).
- ``meeting_qa_sessions``: the live Q&A session held at a meeting (hybrid).
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models import Area, Committee, Topic, User, string_enum, utcnow


class MeetingKind(enum.StrEnum):
    SUMMIT = "summit"  # topmøde
    CONFERENCE = "conference"  # konference
    COMMITTEE_LOCAL = "committee_local"  # udvalgsmøde i lokalområdet
    STUDY_TRIP = "study_trip"  # fag-ekskursion
    LOCAL_DEBATE = "local_debate"  # lokalt debatmøde
    COUNCIL_THEME = "council_theme"  # temamøde i byrådet
    CITIZENS = "citizens"  # borgermøde


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    CANCELLED = "cancelled"


class InvitationStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


meeting_contacts = Table(
    "meeting_contacts",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True),
)

meeting_politicians = Table(
    "meeting_politicians",
    db.metadata,
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

# A live Q&A session held at a meeting (hybrid): one session per meeting and one meeting per
# session. ``forum.hooks.register_meeting_links`` lets live Q&A read and set it.
meeting_qa_sessions = Table(
    "meeting_qa_sessions",
    db.metadata,
    Column("meeting_id", ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "session_id",
        ForeignKey("qa_sessions.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
)

meeting_invitation_politicians = Table(
    "meeting_invitation_politicians",
    db.metadata,
    Column(
        "invitation_id", ForeignKey("meeting_invitations.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MeetingKind] = mapped_column(string_enum(MeetingKind, "meeting_kind"))
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")  # forum.rendering, on write
    starts_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    ends_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    address: Mapped[str] = mapped_column(String(300), default="")
    room: Mapped[str] = mapped_column(String(200), default="")
    accessibility: Mapped[str] = mapped_column(String(1000), default="")
    step_free: Mapped[bool] = mapped_column(Boolean, default=False)
    hearing_loop: Mapped[bool] = mapped_column(Boolean, default=False)
    child_care: Mapped[bool] = mapped_column(Boolean, default=False)
    interpretation: Mapped[bool] = mapped_column(Boolean, default=False)
    online_link: Mapped[str | None] = mapped_column(String(500))  # http(s) only
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Registration: off, or on with an optional capacity (None: unlimited) and deadline (UTC).
    registration: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    moved_at: Mapped[datetime | None] = mapped_column(DateTime)  # last change of the time
    # iCalendar SEQUENCE: bumped on every change a calendar must notice.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    minutes_source: Mapped[str] = mapped_column(Text, default="")
    minutes_html: Mapped[str] = mapped_column(Text, default="")
    minutes_published_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    committee: Mapped[Committee | None] = relationship()
    area: Mapped[Area | None] = relationship()
    topic: Mapped[Topic | None] = relationship()
    organiser: Mapped[User] = relationship()
    politicians: Mapped[list[User]] = relationship(
        secondary=meeting_politicians, order_by="User.display_name"
    )

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None


class MeetingRegistration(db.Model):
    __tablename__ = "meeting_registrations"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id", name="uq_meeting_registrations_person"),
        Index("ix_meeting_registrations_meeting_status", "meeting_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(
        string_enum(RegistrationStatus, "meeting_registration_status")
    )
    position: Mapped[int | None] = mapped_column(Integer)  # on the waiting list
    question: Mapped[str] = mapped_column(String(1000), default="")  # organisers only
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    user: Mapped[User] = relationship()


class MeetingCalendarToken(db.Model):
    """The secret of a person's personal calendar feed (long, random, resettable)."""

    __tablename__ = "meeting_calendar_tokens"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MeetingInvitation(db.Model):
    """A local area invites a committee or named politicians to a dialogue meeting."""

    __tablename__ = "meeting_invitations"
    __table_args__ = (Index("ix_meeting_invitations_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    inviter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"))
    subject: Mapped[str] = mapped_column(String(200))
    proposed_dates: Mapped[str] = mapped_column(String(500), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[InvitationStatus] = mapped_column(
        string_enum(InvitationStatus, "meeting_invitation_status"), default=InvitationStatus.OPEN
    )
    decline_reason: Mapped[str] = mapped_column(String(1000), default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    area: Mapped[Area] = relationship()
    inviter: Mapped[User] = relationship(foreign_keys=[inviter_id])
    committee: Mapped[Committee | None] = relationship()
    meeting: Mapped[Meeting | None] = relationship()
    politicians: Mapped[list[User]] = relationship(
        secondary=meeting_invitation_politicians, order_by="User.display_name"
    )


class MeetingContribution(db.Model):
    """A post entered from a meeting: what was said in the room, noted by staff."""

    __tablename__ = "meeting_contributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), unique=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    speaker_name: Mapped[str] = mapped_column(String(80), default="")  # only with consent
    noted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    noted_by: Mapped[User] = relationship()
