"""iCalendar (RFC 5545) for one session, written by hand: one VEVENT, CRLF line ends,
TEXT values escaped (backslash, semicolon, comma, newline) and without control characters,
lines folded at 75 octets."""

from __future__ import annotations

from datetime import datetime

from forum.models import utcnow
from forum.text import drop_controls

from .models import QASession, SessionState


def escape_text(value: str) -> str:
    # RFC 5545 forbids control characters in TEXT: typed input drops them already
    # (forum/text.py); rows stored before that are cleaned here.
    return (
        drop_controls(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into 75-octet pieces (continuations start with a space), never
    splitting a UTF-8 character."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)


def _utc(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def session_calendar(session: QASession, url: str, host: str = "borgerdialog.holbaek") -> str:
    place = (
        session.area.name if session.area else (session.committee.name if session.committee else "")
    )
    status = (
        "CANCELLED"
        if session.state == SessionState.ENDED and session.started_at is None
        else "CONFIRMED"
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Holbaek Kommune//Borgerdialog//DA",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:qa-{session.id}@{host}",
        f"DTSTAMP:{_utc(utcnow())}",
        f"DTSTART:{_utc(session.starts_at)}",
        f"DTEND:{_utc(session.ends_at)}",
        f"SUMMARY:{escape_text(session.title)}",
        f"DESCRIPTION:{escape_text(session.description_source + chr(10) + chr(10) + url)}",
        f"URL:{url}",
        f"STATUS:{status}",
    ]
    if place:
        lines.append(f"LOCATION:{escape_text(place)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
