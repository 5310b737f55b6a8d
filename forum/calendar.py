"""iCalendar (RFC 5545) made with the ``icalendar`` library, for every package that offers
calendars (meetings, live Q&A): a VTIMEZONE for Europe/Copenhagen, times in local time with
TZID, TEXT values escaped and folded by the library and without control characters, a UID the
caller keeps stable across edits, SEQUENCE and STATUS (CANCELLED on cancel)."""

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
