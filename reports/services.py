"""Report definitions: written by staff, read by the report pages and the CLI. Services check
permission, write the row and an event in the same transaction, and flush; the edge commits."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from forum import eventlog
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Committee, Topic, enum_member

from . import permissions
from .models import ReportDefinition, Scope

LOCALES = ("da", "en")


def _check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInput(
            _("The period ends before it starts."),
            period_end=_("Choose a date on or after the start."),
        )


def _target(scope: Scope, topic_id, committee_id) -> tuple[Topic | None, Committee | None]:
    if scope == Scope.TOPIC:
        topic = db.session.get(Topic, topic_id) if topic_id else None
        if topic is None or not topic.is_public:
            raise InvalidInput(_("Choose a topic."), topic=_("Choose a topic."))
        return topic, None
    if scope == Scope.COMMITTEE:
        committee = db.session.get(Committee, committee_id) if committee_id else None
        if committee is None:
            raise InvalidInput(_("Choose a committee."), committee=_("Choose a committee."))
        return None, committee
    return None, None


def create_definition(
    user,
    *,
    title: str,
    scope: str,
    topic_id: int | None = None,
    committee_id: int | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
    locale: str = "da",
) -> ReportDefinition:
    """A new report definition (staff, admins, moderators without an area scope)."""
    if not permissions.can_make_report(user):
        raise PermissionDenied(_("Only the municipality's staff make reports."))
    scope_value = enum_member(
        Scope, scope, _("Choose what the report covers."), scope=_("Choose one.")
    )
    if locale not in LOCALES:
        raise InvalidInput(_("Choose a language."), locale=_("Choose a language."))
    title = (title or "").strip()
    if not 3 <= len(title) <= 200:
        raise InvalidInput(
            _("Use between 3 and 200 characters."), title=_("Use between 3 and 200 characters.")
        )
    _check_period(period_start, period_end)
    topic, committee = _target(scope_value, topic_id, committee_id)
    d = ReportDefinition(
        title=title,
        scope=scope_value,
        topic_id=topic.id if topic else None,
        committee_id=committee.id if committee else None,
        period_start=period_start,
        period_end=period_end,
        locale=locale,
        created_by_id=user.id,
    )
    db.session.add(d)
    db.session.flush()
    eventlog.record(
        "report_defined",
        "report",
        d.id,
        "reports",
        {"scope": scope_value.value},
        actor_id=user.id,
    )
    return d


def definition(user, definition_id: int) -> ReportDefinition:
    """A report definition the user may make (NotFound otherwise: its existence is not
    told to others)."""
    if not permissions.can_make_report(user):
        raise PermissionDenied(_("Only the municipality's staff make reports."))
    d = db.session.get(ReportDefinition, definition_id)
    if d is None:
        raise NotFound(_("No such report."))
    return d


def definitions(user) -> list[ReportDefinition]:
    if not permissions.can_make_report(user):
        return []
    return list(
        db.session.scalars(
            select(ReportDefinition).order_by(ReportDefinition.created_at.desc())
        ).all()
    )
