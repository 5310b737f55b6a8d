"""Who may organise, edit and see the inside of meetings: one place, used by services, views
and templates.

Organisers: staff (``forum.permissions.is_staff``: municipal employees and admins),
politicians, and local forum contacts for meetings in their own areas (``meeting_contacts``,
an area-scoped capacity set by admins). A meeting's organiser, staff, its committee's
politicians, the politicians taking part and the contacts of its area manage it and see its
attendee list and the questions to the organiser; nobody else does.
"""

from __future__ import annotations

from sqlalchemy import select

from forum import permissions as fp
from forum.extensions import db
from forum.models import Role

from .models import Meeting, meeting_contacts


def contact_area_ids(user) -> set[int]:
    """The areas ``user`` is a local forum contact for (empty for anyone else)."""
    u = fp.signed_in(user)
    if u is None:
        return set()
    cache = getattr(u, "_meeting_contact_areas", None)
    if cache is None:
        cache = set(
            db.session.scalars(
                select(meeting_contacts.c.area_id).where(meeting_contacts.c.user_id == u.id)
            )
        )
        u._meeting_contact_areas = cache
    return cache


def _active(user):
    u = fp.signed_in(user)
    if u is None or fp.write_block(u) is not None:
        return None
    return u


def can_organise(user) -> bool:
    """May ``user`` create meetings at all (staff, politicians, local forum contacts)?"""
    u = _active(user)
    if u is None:
        return False
    return fp.is_staff(u) or u.role == Role.POLITICIAN or bool(contact_area_ids(u))


def can_organise_in(user, area_id: int | None) -> bool:
    """May ``user`` create a meeting in ``area_id`` (None: no area)? Contacts only in theirs."""
    u = _active(user)
    if u is None:
        return False
    if fp.is_staff(u) or u.role == Role.POLITICIAN:
        return True
    return area_id is not None and area_id in contact_area_ids(u)


def can_manage(user, meeting: Meeting) -> bool:
    """Edit, cancel, see the attendees and the questions to the organiser."""
    u = _active(user)
    if u is None:
        return False
    if fp.is_staff(u) or u.id == meeting.organiser_id:
        return True
    if u.role == Role.POLITICIAN:
        if meeting.committee_id is not None and meeting.committee_id in {
            c.id for c in u.committees
        }:
            return True
        if u.id in {p.id for p in meeting.politicians}:
            return True
    return meeting.area_id is not None and meeting.area_id in contact_area_ids(u)


def can_register(user) -> bool:
    return _active(user) is not None


def can_see_topic_link(user, meeting: Meeting) -> bool:
    """The meeting's topic is linked only for those who may see the topic."""
    return meeting.topic is not None and fp.can_see_topic(user, meeting.topic)
