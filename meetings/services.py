"""Meetings' write operations. Each checks permission, validates, writes its rows and an
event row (``forum.eventlog.record``) in the same transaction, and flushes; the edge commits
through ``forum.uow``.

Registration is race-safe: ``register`` and ``cancel_registration`` lock the meeting's row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway) before counting
seats, so concurrent requests for the last seat queue up and the second goes on the waiting
list; a unique (meeting, person) constraint keeps one row per person even when the same
form is sent twice at once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum import eventlog
from forum import permissions as fp
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import (
    Area,
    Committee,
    Follow,
    Notification,
    Role,
    Topic,
    User,
    enum_member,
    utcnow,
)
from forum.rendering import render_markdown

from . import permissions
from .models import (
    Meeting,
    MeetingCalendarToken,
    MeetingKind,
    MeetingRegistration,
    RegistrationStatus,
    meeting_contacts,
)

TITLE_MAX = 200
TEXT_MAX = 10_000
LINK_MAX = 500
QUESTION_MAX = 1000
CAPACITY_MAX = 100_000
LONGEST = timedelta(days=14)
# In-app notification kinds (and so mails of the mail package's ``meeting`` kind).
SEAT = "meeting_seat"  # you moved up from the waiting list
CHANGED = "meeting_changed"  # a meeting you registered for was moved
CANCELLED = "meeting_cancelled"  # … or cancelled
NEW = "meeting_new"  # a new meeting on a topic you follow
NOTIFICATION_KINDS = (SEAT, CHANGED, CANCELLED, NEW)


def meeting_path(meeting_id: int) -> str:
    """The meeting page's path (``meetings.meeting``), for mails built without a request."""
    return f"/moeder/{meeting_id}"


def _room(meeting: Meeting) -> str:
    return f"topic:{meeting.topic_id}" if meeting.topic_id else f"meeting:{meeting.id}"


# --- validation -------------------------------------------------------------------------------


def check_link(link: str | None) -> str | None:
    link = (link or "").strip()
    if not link:
        return None
    parts = urlsplit(link)
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
        or len(link) > LINK_MAX
        or any(c.isspace() for c in link)
    ):
        raise InvalidInput(
            online_link=_("Give a web address that starts with http:// or https://.")
        )
    return link


def _check_times(starts: datetime | None, ends: datetime | None, now: datetime) -> None:
    if starts is None:
        raise InvalidInput(starts_at=_("Give the start."))
    if ends is None:
        raise InvalidInput(ends_at=_("Give the end."))
    if ends <= starts:
        raise InvalidInput(ends_at=_("The meeting must end after it starts."))
    if ends - starts > LONGEST:
        raise InvalidInput(ends_at=_("A meeting lasts at most 14 days."))
    if starts < now:
        raise InvalidInput(starts_at=_("The meeting cannot start in the past."))


def _check_text(data: dict) -> None:
    title = " ".join((data.get("title") or "").split())
    if not 3 <= len(title) <= TITLE_MAX:
        raise InvalidInput(title=_("The title must be 3–200 characters."))
    data["title"] = title
    text = (data.get("description") or "").replace("\r\n", "\n").strip()
    if len(text) > TEXT_MAX:
        raise InvalidInput(description=_("The description has at most 10,000 characters."))
    data["description"] = text


def _kind(value) -> MeetingKind:
    return enum_member(MeetingKind, value, kind=_("Choose one of the options."))


def _places(data: dict, user: User) -> tuple[int | None, int | None, int | None]:
    committee_id = data.get("committee_id") or None
    area_id = data.get("area_id") or None
    topic_id = data.get("topic_id") or None
    if committee_id is not None and db.session.get(Committee, committee_id) is None:
        raise InvalidInput(committee_id=_("Choose one of the options."))
    if area_id is not None and db.session.get(Area, area_id) is None:
        raise InvalidInput(area_id=_("Choose one of the options."))
    if topic_id is not None:
        topic = db.session.get(Topic, topic_id)
        if topic is None or not topic.is_public or not fp.can_see_topic(user, topic):
            raise InvalidInput(topic_id=_("There is no open topic with that number."))
    return committee_id, area_id, topic_id


def _politicians(ids) -> list[User]:
    ids = sorted({int(i) for i in ids or ()})
    if not ids:
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(ids))))
    if len(users) != len(ids) or any(u.role != Role.POLITICIAN for u in users):
        raise InvalidInput(politician_ids=_("Only politicians can take part as politicians."))
    return users


def _registration(data: dict, starts: datetime, confirmed: int = 0):
    if not data.get("registration"):
        return False, None, None
    capacity = data.get("capacity")
    if capacity is not None:
        if not 1 <= capacity <= CAPACITY_MAX:
            raise InvalidInput(capacity=_("Give a number of seats from 1 to 100,000."))
        if capacity < confirmed:
            raise InvalidInput(
                capacity=_(
                    "%(n)d people have a seat already: the capacity cannot be lower.",
                    n=confirmed,
                )
            )
    deadline = data.get("registration_deadline")
    if deadline is not None and deadline > starts:
        raise InvalidInput(
            registration_deadline=_("The registration deadline must be before the start.")
        )
    return True, capacity, deadline


def _confirmed_count(meeting_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(MeetingRegistration)
        .where(
            MeetingRegistration.meeting_id == meeting_id,
            MeetingRegistration.status == RegistrationStatus.CONFIRMED,
        )
    )


# --- meetings ---------------------------------------------------------------------------------

FIELDS = (
    "address",
    "room",
    "accessibility",
    "step_free",
    "hearing_loop",
    "child_care",
    "interpretation",
)


def create_meeting(
    user: User, data: dict, now: datetime | None = None, organise_for_area: bool = False
) -> Meeting:
    """A new meeting from the form's ``data`` (times naive UTC). ``organise_for_area``: an
    accepted invitation (the invitee may organise in the inviting area)."""
    now = now or utcnow()
    if not permissions.can_organise(user) and not organise_for_area:
        raise PermissionDenied(
            _("Only staff, politicians and local forum contacts organise meetings.")
        )
    data = dict(data)
    _check_text(data)
    kind = _kind(data.get("kind"))
    _check_times(data.get("starts_at"), data.get("ends_at"), now)
    link = check_link(data.get("online_link"))
    committee_id, area_id, topic_id = _places(data, user)
    if not organise_for_area and not permissions.can_organise_in(user, area_id):
        raise InvalidInput(area_id=_("You organise meetings only in your own local areas."))
    politicians = _politicians(data.get("politician_ids"))
    registration, capacity, deadline = _registration(data, data["starts_at"])
    if deadline is not None and deadline < now:
        raise InvalidInput(
            registration_deadline=_("The registration deadline cannot be in the past.")
        )
    meeting = Meeting(
        kind=kind,
        title=data["title"],
        description_source=data["description"],
        description_html=str(render_markdown(data["description"])),
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        online_link=link,
        committee_id=committee_id,
        area_id=area_id,
        topic_id=topic_id,
        organiser_id=user.id,
        registration=registration,
        capacity=capacity,
        registration_deadline=deadline,
        sequence=0,
        created_at=now,
        updated_at=now,
        **{k: _field(data, k) for k in FIELDS},
    )
    meeting.politicians = politicians
    db.session.add(meeting)
    db.session.flush()
    eventlog.record(
        "meeting_created",
        "meeting",
        meeting.id,
        _room(meeting),
        _payload(meeting),
        user.id,
    )
    if topic_id is not None:
        _notify_followers(meeting, user)
    db.session.flush()
    return meeting


def _field(data: dict, key: str):
    value = data.get(key)
    if key in ("step_free", "hearing_loop", "child_care", "interpretation"):
        return bool(value)
    value = " ".join((value or "").split()) if key != "accessibility" else (value or "").strip()
    limit = {"address": 300, "room": 200, "accessibility": 1000}[key]
    if len(value) > limit:
        raise InvalidInput(**{key: _("Use at most %(n)d characters.", n=limit)})
    return value


def _payload(meeting: Meeting) -> dict:
    return {
        "meeting_id": meeting.id,
        "title": meeting.title,
        "starts_at": meeting.starts_at.isoformat(),
        "topic_id": meeting.topic_id,
        "committee_id": meeting.committee_id,
        "area_id": meeting.area_id,
        "cancelled": meeting.cancelled,
        "path": meeting_path(meeting.id),
    }


def edit_meeting(user: User, meeting: Meeting, data: dict, now: datetime | None = None) -> bool:
    """Change a meeting; True when something changed. A new time tells everybody registered
    and bumps the iCalendar sequence."""
    now = now or utcnow()
    if not permissions.can_manage(user, meeting):
        raise PermissionDenied(_("Only the meeting's organisers change it."))
    if meeting.cancelled:
        raise Conflict(_("A cancelled meeting cannot be changed."))
    meeting = _locked(meeting.id)
    data = dict(data)
    _check_text(data)
    kind = _kind(data.get("kind"))
    starts, ends = data.get("starts_at"), data.get("ends_at")
    moved = (starts, ends) != (meeting.starts_at, meeting.ends_at)
    if moved:
        _check_times(starts, ends, now)
    link = check_link(data.get("online_link"))
    committee_id, area_id, topic_id = _places(data, user)
    if area_id != meeting.area_id and not permissions.can_organise_in(user, area_id):
        raise InvalidInput(area_id=_("You organise meetings only in your own local areas."))
    politicians = _politicians(data.get("politician_ids"))
    registration, capacity, deadline = _registration(data, starts, _confirmed_count(meeting.id))
    if deadline is not None and deadline != meeting.registration_deadline and deadline < now:
        raise InvalidInput(
            registration_deadline=_("The registration deadline cannot be in the past.")
        )
    if not registration and _confirmed_count(meeting.id):
        raise InvalidInput(
            registration=_("People have registered: registration cannot be turned off.")
        )
    values = {
        "kind": kind,
        "title": data["title"],
        "description_source": data["description"],
        "starts_at": starts,
        "ends_at": ends,
        "online_link": link,
        "committee_id": committee_id,
        "area_id": area_id,
        "topic_id": topic_id,
        "registration": registration,
        "capacity": capacity,
        "registration_deadline": deadline,
        **{k: _field(data, k) for k in FIELDS},
    }
    changed = {k for k, v in values.items() if getattr(meeting, k) != v}
    if {p.id for p in politicians} != {p.id for p in meeting.politicians}:
        changed.add("politicians")
    if not changed:
        return False
    for key, value in values.items():
        setattr(meeting, key, value)
    meeting.description_html = str(render_markdown(meeting.description_source))
    meeting.politicians = politicians
    meeting.sequence += 1
    meeting.updated_at = now
    if moved:
        meeting.moved_at = now
    db.session.flush()
    _promote(meeting)
    eventlog.record(
        "meeting_changed",
        "meeting",
        meeting.id,
        _room(meeting),
        {**_payload(meeting), "moved": moved, "changed": sorted(changed)},
        user.id,
    )
    if moved:
        _notify_registered(meeting, CHANGED, user)
    db.session.flush()
    return True


def cancel_meeting(user: User, meeting: Meeting, reason: str, now: datetime | None = None):
    """Cancel a meeting; everybody registered is told."""
    now = now or utcnow()
    if not permissions.can_manage(user, meeting):
        raise PermissionDenied(_("Only the meeting's organisers change it."))
    meeting = _locked(meeting.id)
    if meeting.cancelled:
        raise Conflict(_("The meeting is cancelled already."))
    reason = " ".join((reason or "").split())
    if len(reason) > 500:
        raise InvalidInput(reason=_("Use at most %(n)d characters.", n=500))
    meeting.cancelled_at = now
    meeting.cancel_reason = reason
    meeting.sequence += 1
    meeting.updated_at = now
    eventlog.record(
        "meeting_cancelled", "meeting", meeting.id, _room(meeting), _payload(meeting), user.id
    )
    _notify_registered(meeting, CANCELLED, user)
    db.session.flush()
    return meeting


def _locked(meeting_id: int) -> Meeting:
    """The meeting's row, locked until the transaction ends (PostgreSQL: FOR UPDATE)."""
    meeting = db.session.scalar(
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if meeting is None:
        raise NotFound(_("No such meeting."))
    return meeting


# --- registration -----------------------------------------------------------------------------


def registration_of(user, meeting_id: int) -> MeetingRegistration | None:
    u = fp.signed_in(user)
    if u is None:
        return None
    return db.session.scalar(
        select(MeetingRegistration).where(
            MeetingRegistration.meeting_id == meeting_id, MeetingRegistration.user_id == u.id
        )
    )


def registration_closed(meeting: Meeting, now: datetime | None = None) -> str | None:
    """Why nobody can register now, or None."""
    now = now or utcnow()
    if not meeting.registration:
        return _("This meeting takes no registrations: just come.")
    if meeting.cancelled:
        return _("The meeting is cancelled.")
    if meeting.starts_at <= now:
        return _("The meeting has started: registration is closed.")
    if meeting.registration_deadline is not None and meeting.registration_deadline < now:
        return _("The registration deadline has passed.")
    return None


def register(
    user: User, meeting_id: int, question: str = "", now: datetime | None = None
) -> MeetingRegistration:
    """A seat for ``user``, or a place on the waiting list when the meeting is full."""
    now = now or utcnow()
    if not permissions.can_register(user):
        raise PermissionDenied(_("Log in to register."))
    meeting = _locked(meeting_id)
    closed = registration_closed(meeting, now)
    if closed:
        raise Conflict(closed)
    question = (question or "").replace("\r\n", "\n").strip()
    if len(question) > QUESTION_MAX:
        raise InvalidInput(question=_("Use at most %(n)d characters.", n=QUESTION_MAX))
    row = registration_of(user, meeting.id)
    if row is not None and row.status != RegistrationStatus.CANCELLED:
        raise Conflict(_("You are registered for this meeting already."))
    full = meeting.capacity is not None and _confirmed_count(meeting.id) >= meeting.capacity
    status = RegistrationStatus.WAITING if full else RegistrationStatus.CONFIRMED
    position = _next_position(meeting.id) if full else None
    try:
        with db.session.begin_nested():
            if row is None:
                row = MeetingRegistration(meeting_id=meeting.id, user_id=user.id, created_at=now)
                db.session.add(row)
            row.status, row.position, row.question, row.updated_at = status, position, question, now
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("You are registered for this meeting already.")) from None
    eventlog.record(
        "meeting_registered",
        "meeting",
        meeting.id,
        f"user:{user.id}",
        {"meeting_id": meeting.id, "status": status.value},
        user.id,
    )
    return row


def _next_position(meeting_id: int) -> int:
    top = db.session.scalar(
        select(func.max(MeetingRegistration.position)).where(
            MeetingRegistration.meeting_id == meeting_id,
            MeetingRegistration.status == RegistrationStatus.WAITING,
        )
    )
    return (top or 0) + 1


def cancel_registration(user: User, registration_id: int, now: datetime | None = None) -> None:
    """Give up one's own seat (or waiting-list place); the first on the waiting list moves
    up and is told by mail."""
    now = now or utcnow()
    u = fp.signed_in(user)
    row = db.session.get(MeetingRegistration, registration_id)
    if u is None or row is None or row.user_id != u.id:
        # Someone else's registration is answered like one that does not exist.
        raise NotFound(_("You have no such registration."))
    meeting = _locked(row.meeting_id)
    db.session.refresh(row)
    if row.status == RegistrationStatus.CANCELLED:
        raise Conflict(_("You are not registered for this meeting."))
    if meeting.starts_at <= now:
        raise Conflict(_("The meeting has started: registration is closed."))
    row.status, row.position, row.updated_at = RegistrationStatus.CANCELLED, None, now
    db.session.flush()
    eventlog.record(
        "meeting_unregistered",
        "meeting",
        meeting.id,
        f"user:{u.id}",
        {"meeting_id": meeting.id},
        u.id,
    )
    _promote(meeting)


def _promote(meeting: Meeting) -> list[MeetingRegistration]:
    """Fill free seats from the waiting list, first come first served; each is told."""
    if meeting.cancelled or not meeting.registration:
        return []
    free = None if meeting.capacity is None else meeting.capacity - _confirmed_count(meeting.id)
    waiting = select(MeetingRegistration).where(
        MeetingRegistration.meeting_id == meeting.id,
        MeetingRegistration.status == RegistrationStatus.WAITING,
    )
    waiting = waiting.order_by(MeetingRegistration.position, MeetingRegistration.id)
    if free is not None:
        if free <= 0:
            return []
        waiting = waiting.limit(free)
    moved = list(db.session.scalars(waiting))
    for row in moved:
        row.status, row.position, row.updated_at = RegistrationStatus.CONFIRMED, None, utcnow()
    db.session.flush()
    _notify([row.user_id for row in moved], meeting, SEAT, None)
    return moved


# --- notifications ----------------------------------------------------------------------------


def _notify(user_ids, meeting: Meeting, kind: str, actor: User | None) -> int:
    users = sorted(set(user_ids) - ({actor.id} if actor else set()))
    if not users:
        return 0
    db.session.add_all(
        Notification(
            user_id=uid,
            kind=kind,
            topic_id=meeting.topic_id,
            actor_id=actor.id if actor else None,
        )
        for uid in users
    )
    eventlog.record_many(
        [
            {
                "kind": "notification",
                "subject_type": "user",
                "subject_id": uid,
                "room": f"user:{uid}",
                "payload": {
                    "kind": kind,
                    "meeting_id": meeting.id,
                    "topic_id": meeting.topic_id,
                    "title": meeting.title,
                    "starts_at": meeting.starts_at.isoformat(),
                    "path": meeting_path(meeting.id),
                },
            }
            for uid in users
        ]
    )
    return len(users)


def _notify_registered(meeting: Meeting, kind: str, actor: User) -> int:
    ids = db.session.scalars(
        select(MeetingRegistration.user_id).where(
            MeetingRegistration.meeting_id == meeting.id,
            MeetingRegistration.status != RegistrationStatus.CANCELLED,
        )
    )
    return _notify(ids, meeting, kind, actor)


def _notify_followers(meeting: Meeting, actor: User) -> int:
    ids = db.session.scalars(select(Follow.user_id).where(Follow.topic_id == meeting.topic_id))
    return _notify(ids, meeting, NEW, actor)


# --- local forum contacts ---------------------------------------------------------------------


def set_contact(admin: User | None, user: User, area: Area, on: bool) -> bool:
    """Make ``user`` a local forum contact for ``area`` (or not); admins only (None: the CLI).
    True when something changed."""
    if admin is not None and not fp.signed_in(admin) or (admin is not None and not admin.is_admin):
        raise PermissionDenied(_("Only admins name local forum contacts."))
    table = meeting_contacts
    exists = db.session.execute(
        select(table.c.user_id).where(table.c.user_id == user.id, table.c.area_id == area.id)
    ).first()
    if bool(exists) == on:
        return False
    if on:
        db.session.execute(table.insert().values(user_id=user.id, area_id=area.id))
    else:
        db.session.execute(
            table.delete().where(table.c.user_id == user.id, table.c.area_id == area.id)
        )
    if hasattr(user, "_meeting_contact_areas"):
        del user._meeting_contact_areas
    eventlog.record(
        "meeting_contact_set",
        "user",
        user.id,
        f"user:{user.id}",
        {"area_id": area.id, "on": on},
        admin.id if admin else None,
    )
    return True


def contact_areas(user: User) -> set[int]:
    """The areas ``user`` is a local forum contact for (read fresh, for administration)."""
    return set(
        db.session.scalars(
            select(meeting_contacts.c.area_id).where(meeting_contacts.c.user_id == user.id)
        )
    )


def set_contact_areas(admin: User, user: User, area_ids: set[int]) -> bool:
    """``user`` is a local forum contact for exactly ``area_ids`` from now on (admins only;
    admin's person page through ``forum.hooks.register_area_capacity``). True when
    something changed; each area added or removed is an event like ``set_contact``'s."""
    if not getattr(admin, "is_admin", False):
        raise PermissionDenied(_("Only admins name local forum contacts."))
    now = contact_areas(user)
    wanted = set(area_ids)
    areas = {a.id: a for a in db.session.scalars(select(Area).where(Area.id.in_(now ^ wanted)))}
    changed = False
    for area_id in sorted(now ^ wanted):
        changed |= set_contact(admin, user, areas[area_id], area_id in wanted)
    return changed


# --- personal calendar ------------------------------------------------------------------------


def calendar_token(user: User, reset: bool = False) -> str:
    """The secret of ``user``'s personal calendar feed (made on first use; ``reset``: a new
    one, and the old address stops working)."""
    row = db.session.get(MeetingCalendarToken, user.id)
    if row is None:
        row = MeetingCalendarToken(user_id=user.id, token=secrets.token_urlsafe(32))
        db.session.add(row)
    elif reset:
        row.token = secrets.token_urlsafe(32)
        row.created_at = utcnow()
    else:
        return row.token
    db.session.flush()
    return row.token


def existing_calendar_token(user: User) -> str | None:
    row = db.session.get(MeetingCalendarToken, user.id)
    return row.token if row is not None else None


def user_for_token(token: str) -> User | None:
    if not token or len(token) < 40 or len(token) > 64:
        return None
    row = db.session.scalar(select(MeetingCalendarToken).where(MeetingCalendarToken.token == token))
    if row is None or not secrets.compare_digest(row.token, token):
        return None
    user = db.session.get(User, row.user_id)
    return user if user is not None and user.deleted_at is None and user.is_active else None
