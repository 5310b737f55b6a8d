"""Words shared by the synthesis page, the report and its CSV appendix."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _

from .synthesis import STANCES, Contribution


def stance_name(stance: str) -> str:
    return {
        "for": _("For"),
        "against": _("Against"),
        "question": _("Question"),
        "none": _("No stance"),
    }[stance]


def stance_names() -> list[str]:
    return [stance_name(s) for s in STANCES]


def week_label(monday: date) -> str:
    """»Week 47, 2026« (ISO week)."""
    year, week, _day = monday.isocalendar()
    return _("Week %(week)d, %(year)d", week=week, year=year)


def area_label(area_id: int, names: dict[int, str]) -> str:
    return names.get(area_id) or _("Area not known")


def speaker(c: Contribution, names: dict[int, str], named: set[int]) -> str:
    """Who said it, as a report may print it: politicians and people who agreed to be named
    by name; everyone else as »a citizen from <area>«."""
    if c.politician:
        return f"{c.author_name} ({c.party})" if c.party else c.author_name
    if c.author_id in named and c.author_name:
        return c.author_name
    if names.get(c.area_id):
        return _("a citizen from %(area)s", area=names[c.area_id])
    return _("a citizen")


def date_label(d) -> str:
    return format_date(d, "long") if d else ""


def moderation_name(key: str) -> str:
    return {
        "published": _("Published after review"),
        "held": _("Held for review"),
        "rejected": _("Rejected"),
        "hidden": _("Hidden"),
        "removed": _("Removed"),
        "restored_on_appeal": _("Restored on appeal"),
    }.get(key, key)


def scope_name(scope) -> str:
    value = getattr(scope, "value", scope)
    return {
        "topic": _("A topic"),
        "committee": _("A committee"),
        "platform": _("The whole platform"),
    }.get(value, value)
