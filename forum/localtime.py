"""Times as the reader sees them: stored times are naive UTC; forms and pages use the site's
time zone (``BABEL_DEFAULT_TIMEZONE``, Europe/Copenhagen) as ``zoneinfo``. Flask-Babel's
``get_timezone()`` is a pytz zone, and ``replace(tzinfo=<pytz zone>)`` takes the zone's first
historical offset (Copenhagen's local mean time, +0:53): deadlines came out 7 minutes off. Every
conversion goes through ``zone()`` here instead."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, dates
from flask_babel import format_datetime, get_locale, get_timezone


def zone() -> ZoneInfo:
    """The reader's time zone (the site's) as ``zoneinfo``."""
    return ZoneInfo(str(get_timezone()))


def to_utc(value: datetime | None) -> datetime | None:
    """A naive local datetime (from a form) as naive UTC, for storage."""
    if value is None:
        return None
    return value.replace(tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)


def to_local(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) datetime as naive local time (for a form)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(zone()).replace(tzinfo=None)


@lru_cache(maxsize=32)
def _datetime_patterns(locale: str, fmt: str):
    # Babel parses its patterns on every format_datetime call (about 0.1 ms); a topic page
    # formats hundreds of times, so parse them once per locale and format.
    # The time is always the short one (Danish "14.05", never "14.05.33"): seconds mean
    # nothing to a reader and Danish typography leaves them out. The date follows ``fmt``.
    loc = Locale.parse(locale)
    return (
        str(dates.get_datetime_format(fmt, locale=loc)),
        dates.parse_pattern(dates.get_date_format(fmt, locale=loc)),
        dates.parse_pattern(dates.get_time_format("short", locale=loc)),
        loc,
    )


def format_local(value: datetime, fmt: str = "medium") -> str:
    """Like flask_babel.format_datetime for naive UTC values, with cached patterns, and
    without seconds: "short", "medium" and "long" differ in the date only."""
    if fmt not in ("short", "medium", "long"):
        return format_datetime(value.replace(tzinfo=UTC), fmt)
    joined, date_pattern, time_pattern, loc = _datetime_patterns(str(get_locale() or "da"), fmt)
    local = value.replace(tzinfo=UTC).astimezone(get_timezone())
    return joined.replace("{1}", date_pattern.apply(local, loc)).replace(
        "{0}", time_pattern.apply(local, loc)
    )
