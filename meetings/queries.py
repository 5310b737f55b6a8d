"""Reading meetings: lists for pages and feeds, attendees for organisers.

Meetings are public (a cancelled one shows as cancelled); what is private is who registered
and what they asked the organiser (``permissions.can_manage``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from forum.extensions import db
from forum.models import Follow, utcnow

from .models import Meeting, MeetingRegistration, RegistrationStatus


def _base():
    return select(Meeting).options(
        selectinload(Meeting.politicians),
        selectinload(Meeting.committee),
        selectinload(Meeting.area),
        selectinload(Meeting.topic),
    )


def upcoming(
    *,
    committee_id: int | None = None,
    area_id: int | None = None,
    topic_id: int | None = None,
    limit: int = 5,
    now: datetime | None = None,
) -> list[Meeting]:
    """Meetings not yet over (soonest first), for a place's page; cancelled ones too, marked."""
    now = now or utcnow()
    stmt = _base().where(Meeting.ends_at >= now)
    if committee_id is not None:
        stmt = stmt.where(Meeting.committee_id == committee_id)
    if area_id is not None:
        stmt = stmt.where(Meeting.area_id == area_id)
    if topic_id is not None:
        stmt = stmt.where(Meeting.topic_id == topic_id)
    return list(db.session.scalars(stmt.order_by(Meeting.starts_at, Meeting.id).limit(limit)))


def listing(now: datetime | None = None, past_limit: int = 20) -> tuple[list, list]:
    """(upcoming soonest first, past newest first)."""
    now = now or utcnow()
    coming = db.session.scalars(
        _base().where(Meeting.ends_at >= now).order_by(Meeting.starts_at, Meeting.id)
    )
    past = db.session.scalars(
        _base()
        .where(Meeting.ends_at < now)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .limit(past_limit)
    )
    return list(coming), list(past)


def for_feed(**where) -> list[Meeting]:
    """Every meeting of a committee/area/topic for its calendar feed (a year back on)."""
    from datetime import timedelta

    since = utcnow() - timedelta(days=366)
    stmt = _base().where(Meeting.starts_at >= since)
    for key, value in where.items():
        stmt = stmt.where(getattr(Meeting, key) == value)
    return list(db.session.scalars(stmt.order_by(Meeting.starts_at, Meeting.id)))


def personal(user_id: int) -> list[Meeting]:
    """A person's feed: meetings they registered for (seat or waiting) and meetings of the
    topics they follow."""
    from datetime import timedelta

    since = utcnow() - timedelta(days=366)
    registered = select(MeetingRegistration.meeting_id).where(
        MeetingRegistration.user_id == user_id,
        MeetingRegistration.status != RegistrationStatus.CANCELLED,
    )
    followed = select(Follow.topic_id).where(Follow.user_id == user_id)
    stmt = _base().where(
        Meeting.starts_at >= since,
        or_(Meeting.id.in_(registered), and_(Meeting.topic_id.in_(followed))),
    )
    return list(db.session.scalars(stmt.order_by(Meeting.starts_at, Meeting.id)))


def attendees(meeting_id: int) -> list[MeetingRegistration]:
    """Seats first (in order of registering), then the waiting list in order."""
    rows = db.session.scalars(
        select(MeetingRegistration)
        .options(selectinload(MeetingRegistration.user))
        .where(
            MeetingRegistration.meeting_id == meeting_id,
            MeetingRegistration.status != RegistrationStatus.CANCELLED,
        )
        .order_by(MeetingRegistration.created_at, MeetingRegistration.id)
    )
    rows = list(rows)
    seated = [r for r in rows if r.status == RegistrationStatus.CONFIRMED]
    waiting = sorted(
        (r for r in rows if r.status == RegistrationStatus.WAITING), key=lambda r: r.position or 0
    )
    return seated + waiting


def counts(meeting_id: int) -> tuple[int, int]:
    """(seats taken, people waiting)."""
    from sqlalchemy import func

    rows = db.session.execute(
        select(MeetingRegistration.status, func.count())
        .where(MeetingRegistration.meeting_id == meeting_id)
        .group_by(MeetingRegistration.status)
    ).all()
    by = {status: n for status, n in rows}
    return by.get(RegistrationStatus.CONFIRMED, 0), by.get(RegistrationStatus.WAITING, 0)
