"""iCalendar (RFC 5545) for meetings and live Q&A sessions, made with the ``icalendar``
library: a VTIMEZONE for Europe/Copenhagen, times in local time with TZID, a UID that stays
the same across edits, SEQUENCE (bumped on every change), STATUS:CANCELLED on cancel."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vText

from forum.models import utcnow
from forum.text import drop_controls

ZONE = "Europe/Copenhagen"
PRODID = "-//Holbaek Kommune//Borgerdialog//DA"


def _local(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(ZoneInfo(ZONE))


def _clean(value: str) -> str:
    return drop_controls(value or "")


def calendar(name: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", _clean(name))
        cal.add("x-wr-timezone", ZONE)
    return cal


def event(
    *,
    uid: str,
    title: str,
    starts: datetime,
    ends: datetime,
    description: str = "",
    location: str = "",
    url: str = "",
    sequence: int = 0,
    cancelled: bool = False,
    updated: datetime | None = None,
) -> Event:
    """One VEVENT; ``starts``/``ends``/``updated`` are naive UTC as the database stores them."""
    ev = Event()
    ev.add("uid", uid)
    ev.add("dtstamp", (updated or utcnow()).replace(tzinfo=UTC))
    ev.add("dtstart", _local(starts))
    ev.add("dtend", _local(ends))
    ev.add("summary", vText(_clean(title)))
    if description:
        ev.add("description", vText(_clean(description)))
    if location:
        ev.add("location", vText(_clean(location)))
    if url:
        ev.add("url", url)
    ev.add("sequence", int(sequence))
    ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return ev


def render(cal: Calendar) -> bytes:
    """The calendar with the VTIMEZONE of every TZID it uses, as bytes (CRLF, folded)."""
    cal.add_missing_timezones()
    return cal.to_ical()


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
