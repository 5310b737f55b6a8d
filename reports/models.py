"""A saved report definition: what a council report covers (a topic, a committee or the whole
platform, over a period, in a language). The report itself is made from it on demand, so it
always shows the content as it is now (a post hidden since drops out)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models import Committee, Topic, User, string_enum, utcnow


class Scope(enum.StrEnum):
    TOPIC = "topic"
    COMMITTEE = "committee"
    PLATFORM = "platform"


class ReportDefinition(db.Model):
    __tablename__ = "report_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    scope: Mapped[Scope] = mapped_column(string_enum(Scope, "report_scope"))
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), index=True
    )
    committee_id: Mapped[int | None] = mapped_column(
        ForeignKey("committees.id", ondelete="CASCADE"), index=True
    )
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)  # inclusive
    locale: Mapped[str] = mapped_column(String(5), default="da")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    topic: Mapped[Topic | None] = relationship()
    committee: Mapped[Committee | None] = relationship()
    created_by: Mapped[User | None] = relationship()
