"""iCalendar for meetings (through ``forum.calendar``): a UID that stays the same across
edits, SEQUENCE bumped on every change, STATUS:CANCELLED on cancel."""

from __future__ import annotations

from icalendar import Event

from forum.calendar import calendar, event, render


def meeting_location(meeting) -> str:
    parts = [meeting.address, meeting.room]
    if meeting.online_link:
        parts.append(meeting.online_link)
    return ", ".join(p for p in parts if p)


def meeting_event(meeting, url: str, host: str) -> Event:
    return event(
        uid=f"meeting-{meeting.id}@{host}",
        title=meeting.title,
        starts=meeting.starts_at,
        ends=meeting.ends_at,
        description=(meeting.description_source + "\n\n" + url).strip(),
        location=meeting_location(meeting),
        url=url,
        sequence=meeting.sequence,
        cancelled=meeting.cancelled,
        updated=meeting.updated_at,
    )


def meetings_calendar(meetings, url_for_meeting, host: str, name: str | None = None) -> bytes:
    cal = calendar(name)
    for meeting in meetings:
        cal.add_component(meeting_event(meeting, url_for_meeting(meeting), host))
    return render(cal)
