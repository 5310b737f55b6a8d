"""A live Q&A session held at a meeting (hybrid, issue 16): the room asks through the
session's projector view, people at home online. The link lives in ``meeting_qa_sessions``;
live Q&A reaches it through ``forum.hooks.MeetingLinks`` (registered here) and this package
reads the session through ``forum.hooks.live_session`` — neither imports the other."""

from __future__ import annotations

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import selectinload

from forum import eventlog, hooks
from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import utcnow

from . import permissions
from .models import Meeting, meeting_qa_sessions
from .services import meeting_path


def _facts(m: Meeting) -> hooks.MeetingFacts:
    place = ", ".join(x for x in (m.address, m.room) if x)
    return hooks.MeetingFacts(
        id=m.id,
        title=m.title,
        url=meeting_path(m.id),
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        place=place,
        online_link=m.online_link,
        cancelled=m.cancelled,
        committee_id=m.committee_id,
        area_id=m.area_id,
        topic_id=m.topic_id,
        politician_ids=tuple(p.id for p in m.politicians),
    )


def session_of(meeting_id: int) -> int | None:
    return db.session.scalar(
        select(meeting_qa_sessions.c.session_id).where(
            meeting_qa_sessions.c.meeting_id == meeting_id
        )
    )


def meeting_of(session_id: int) -> Meeting | None:
    meeting_id = db.session.scalar(
        select(meeting_qa_sessions.c.meeting_id).where(
            meeting_qa_sessions.c.session_id == session_id
        )
    )
    return db.session.get(Meeting, meeting_id) if meeting_id is not None else None


class Links:
    """``forum.hooks.MeetingLinks`` for live Q&A."""

    def choices(self, user, session_id: int | None) -> list[tuple[int, str]]:
        now = utcnow()
        rows = db.session.scalars(
            select(Meeting)
            .options(selectinload(Meeting.politicians))
            .where(Meeting.ends_at >= now, Meeting.cancelled_at.is_(None))
            .order_by(Meeting.starts_at, Meeting.id)
            .limit(200)
        )
        taken = set(db.session.scalars(select(meeting_qa_sessions.c.meeting_id)))
        current = meeting_of(session_id) if session_id is not None else None
        out = [
            (m.id, f"{m.title} ({format_datetime(m.starts_at, 'short')})")
            for m in rows
            if permissions.can_manage(user, m)
            and (m.id not in taken or (current is not None and m.id == current.id))
        ]
        if current is not None and current.id not in {i for i, _label in out}:
            out.insert(0, (current.id, current.title))
        return out

    def facts(self, meeting_id: int) -> hooks.MeetingFacts | None:
        m = db.session.get(Meeting, meeting_id)
        return _facts(m) if m is not None else None

    def of_session(self, session_id: int) -> hooks.MeetingFacts | None:
        m = meeting_of(session_id)
        return _facts(m) if m is not None else None

    def link(self, user, session_id: int, meeting_id: int | None) -> bool:
        current = meeting_of(session_id)
        if (current.id if current else None) == meeting_id:
            return False
        if current is not None and not permissions.can_manage(user, current):
            raise InvalidInput(
                meeting_id=_("Only the meeting's organisers move its live Q&A elsewhere.")
            )
        meeting = db.session.get(Meeting, meeting_id) if meeting_id is not None else None
        if meeting_id is not None:
            if meeting is None or not permissions.can_manage(user, meeting):
                raise InvalidInput(meeting_id=_("Choose one of your own meetings."))
            if meeting.cancelled:
                raise InvalidInput(meeting_id=_("The meeting is cancelled."))
            if meeting.ends_at < utcnow():
                raise InvalidInput(meeting_id=_("The meeting is over."))
            if session_of(meeting.id) is not None:
                raise InvalidInput(meeting_id=_("The meeting has a live Q&A session already."))
        db.session.execute(
            delete(meeting_qa_sessions).where(meeting_qa_sessions.c.session_id == session_id)
        )
        if meeting is not None:
            db.session.execute(
                insert(meeting_qa_sessions).values(meeting_id=meeting.id, session_id=session_id)
            )
        for m in (current, meeting):
            if m is None:
                continue
            eventlog.record(
                "meeting_changed",
                "meeting",
                m.id,
                f"topic:{m.topic_id}" if m.topic_id else f"meeting:{m.id}",
                {
                    "meeting_id": m.id,
                    "title": m.title,
                    "path": meeting_path(m.id),
                    "changed": ["qa_session"],
                    "qa_session_id": session_id if m is meeting else None,
                },
                user.id,
            )
        db.session.flush()
        return True


def live_session_of(meeting: Meeting) -> hooks.SessionFacts | None:
    """The live Q&A session held at ``meeting`` (for its page), if any."""
    session_id = session_of(meeting.id)
    return hooks.live_session(session_id) if session_id is not None else None
