"""iCalendar (RFC 5545) for one live Q&A session, made with the ``icalendar`` library through
``forum.calendar`` (VTIMEZONE, escaping, folding, no control characters)."""

from __future__ import annotations

from forum.calendar import calendar, event, render

from .models import QASession, SessionState


def session_calendar(session: QASession, url: str, host: str = "borgerdialog.holbaek") -> str:
    place = (
        session.area.name if session.area else (session.committee.name if session.committee else "")
    )
    cancelled = session.state == SessionState.ENDED and session.started_at is None
    cal = calendar()
    cal.add_component(
        event(
            uid=f"qa-{session.id}@{host}",
            title=session.title,
            starts=session.starts_at,
            ends=session.ends_at,
            description=session.description_source + "\n\n" + url,
            location=place,
            url=url,
            cancelled=cancelled,
        )
    )
    return render(cal).decode("utf-8")
