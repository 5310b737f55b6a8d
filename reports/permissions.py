"""Who may read syntheses and make reports: one place, used by views, the CLI and templates.

The synthesis page ("what do citizens think?") is for those who brief or decide:
politicians, staff (municipal employees), moderators and admins; citizens read the debate
itself. Reports to the council are made by staff, admins and moderators without an area
scope (the demo's staff member). Both show only what everyone may read, so a moderator's
scope does not change the figures.
"""

from __future__ import annotations

from forum import permissions as fp
from forum.models import Role, Topic


def _user(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def can_see_synthesis(user, topic: Topic | None = None) -> bool:
    u = _user(user)
    if u is None or u.role not in (Role.POLITICIAN, Role.STAFF, Role.MODERATOR, Role.ADMIN):
        return False
    return topic is None or (topic.is_public and fp.can_see_topic(u, topic))


def can_make_report(user) -> bool:
    u = _user(user)
    if u is None:
        return False
    if fp.is_staff(u):
        return True
    return u.role == Role.MODERATOR and fp.moderated_area_ids(u) is None
