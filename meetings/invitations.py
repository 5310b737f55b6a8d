"""Invitations from local areas (issue 16): a local forum contact (or staff) invites a
committee or named politicians to a dialogue meeting with a subject, proposed dates and a
message. An invitee (a named politician, a politician of the invited committee, or staff)
accepts with a date — the invitation becomes a meeting — or declines with a reason. All
states are public on the area's page; staff see how long open ones have waited; invitees who
have not answered after ``MEETINGS_INVITATION_REMINDER_DAYS`` (7) days are reminded once a
week (``remind``: a periodic job, or ``flask meetings remind`` from cron)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from forum import eventlog
from forum import permissions as fp
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Area, Committee, Notification, Role, User, utcnow

from . import permissions, services
from .models import InvitationStatus, MeetingInvitation, MeetingKind

INVITED = "meeting_invitation"
REMINDER = "meeting_invitation_reminder"
ANSWERED = "meeting_invitation_answered"


def invitation_path(invitation_id: int) -> str:
    return f"/moeder/invitationer/{invitation_id}"


def invitee_ids(inv: MeetingInvitation) -> set[int]:
    ids = {p.id for p in inv.politicians}
    if inv.committee is not None:
        ids |= {p.id for p in inv.committee.politicians}
    return ids


def can_invite(user, area_id: int | None) -> bool:
    u = fp.signed_in(user)
    if u is None or fp.write_block(u) is not None or area_id is None:
        return False
    return fp.is_staff(u) or area_id in permissions.contact_area_ids(u)


def can_answer(user, inv: MeetingInvitation) -> bool:
    u = fp.signed_in(user)
    if u is None or fp.write_block(u) is not None or inv.status != InvitationStatus.OPEN:
        return False
    return fp.is_staff(u) or u.id in invitee_ids(inv)


def invite(
    user: User,
    area_id: int | None,
    *,
    subject: str,
    proposed_dates: str = "",
    message: str = "",
    committee_id: int | None = None,
    politician_ids=(),
) -> MeetingInvitation:
    area = db.session.get(Area, area_id) if area_id else None
    if area is None:
        raise InvalidInput(area_id=_("Choose one of the options."))
    if not can_invite(user, area.id):
        raise PermissionDenied(_("Only the area's local forum contacts and staff invite."))
    subject = " ".join((subject or "").split())
    if not 3 <= len(subject) <= 200:
        raise InvalidInput(subject=_("The subject must be 3–200 characters."))
    proposed_dates = (proposed_dates or "").strip()
    if len(proposed_dates) > 500:
        raise InvalidInput(proposed_dates=_("Use at most %(n)d characters.", n=500))
    message = (message or "").replace("\r\n", "\n").strip()
    if len(message) > 5000:
        raise InvalidInput(message=_("Use at most %(n)d characters.", n=5000))
    committee = db.session.get(Committee, committee_id) if committee_id else None
    if committee_id and committee is None:
        raise InvalidInput(committee_id=_("Choose one of the options."))
    ids = sorted({int(i) for i in politician_ids or ()})
    politicians = list(db.session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    if len(politicians) != len(ids) or any(p.role != Role.POLITICIAN for p in politicians):
        raise InvalidInput(politician_ids=_("Only politicians can be invited."))
    if committee is None and not politicians:
        raise InvalidInput(committee_id=_("Invite a committee or at least one politician."))
    inv = MeetingInvitation(
        area_id=area.id,
        inviter_id=user.id,
        committee_id=committee.id if committee else None,
        subject=subject,
        proposed_dates=proposed_dates,
        message=message,
        status=InvitationStatus.OPEN,
        created_at=utcnow(),
    )
    inv.politicians = politicians
    inv.committee = committee
    db.session.add(inv)
    db.session.flush()
    eventlog.record(
        "meeting_invitation",
        "meeting_invitation",
        inv.id,
        f"area:{area.id}",
        {"area_id": area.id, "subject": subject},
        user.id,
    )
    _notify(inv, invitee_ids(inv), INVITED, user)
    return inv


def _notify(inv: MeetingInvitation, user_ids, kind: str, actor: User | None) -> int:
    users = sorted(set(user_ids) - ({actor.id} if actor else set()))
    if not users:
        return 0
    db.session.add_all(
        Notification(user_id=uid, kind=kind, actor_id=actor.id if actor else None) for uid in users
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
                    "invitation_id": inv.id,
                    "title": inv.subject,
                    "path": invitation_path(inv.id),
                },
            }
            for uid in users
        ]
    )
    return len(users)


def _open(user: User, invitation_id: int) -> MeetingInvitation:
    inv = db.session.scalar(
        select(MeetingInvitation).where(MeetingInvitation.id == invitation_id).with_for_update()
    )
    if inv is None:
        raise NotFound(_("No such invitation."))
    if inv.status != InvitationStatus.OPEN:
        raise Conflict(_("The invitation has been answered already."))
    if not can_answer(user, inv):
        raise PermissionDenied(_("Only those invited answer an invitation."))
    return inv


def accept(
    user: User,
    invitation_id: int,
    starts_at: datetime | None,
    ends_at: datetime | None,
    address: str = "",
    now: datetime | None = None,
):
    """Accept with a date: the invitation becomes a meeting in the area, organised by the
    one who accepts, with the invited politicians taking part."""
    inv = _open(user, invitation_id)
    data = {
        "kind": MeetingKind.COMMITTEE_LOCAL.value
        if inv.committee_id
        else MeetingKind.LOCAL_DEBATE.value,
        "title": inv.subject,
        "description": inv.message,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "address": address,
        "committee_id": inv.committee_id,
        "area_id": inv.area_id,
        "politician_ids": [p.id for p in inv.politicians]
        + ([user.id] if user.role == Role.POLITICIAN else []),
    }
    meeting = services.create_meeting(user, data, now=now, organise_for_area=True)
    inv.status = InvitationStatus.ACCEPTED
    inv.meeting_id = meeting.id
    inv.answered_by_id, inv.answered_at = user.id, now or utcnow()
    eventlog.record(
        ANSWERED,
        "meeting_invitation",
        inv.id,
        f"area:{inv.area_id}",
        {"status": "accepted", "meeting_id": meeting.id},
        user.id,
    )
    _notify(inv, {inv.inviter_id}, ANSWERED, user)
    db.session.flush()
    return meeting


def decline(user: User, invitation_id: int, reason: str, now: datetime | None = None):
    inv = _open(user, invitation_id)
    reason = " ".join((reason or "").split())
    if not 3 <= len(reason) <= 1000:
        raise InvalidInput(reason=_("Give a reason (3–1,000 characters)."))
    inv.status = InvitationStatus.DECLINED
    inv.decline_reason = reason
    inv.answered_by_id, inv.answered_at = user.id, now or utcnow()
    eventlog.record(
        ANSWERED,
        "meeting_invitation",
        inv.id,
        f"area:{inv.area_id}",
        {"status": "declined"},
        user.id,
    )
    _notify(inv, {inv.inviter_id}, ANSWERED, user)
    db.session.flush()
    return inv


def remind(now: datetime | None = None) -> int:
    """Remind the invitees of invitations open for more than the set number of days (once a
    week at most); the number of invitations reminded."""
    now = now or utcnow()
    days = timedelta(days=int(current_app.config.get("MEETINGS_INVITATION_REMINDER_DAYS", 7)))
    due = db.session.scalars(
        select(MeetingInvitation)
        .options(selectinload(MeetingInvitation.politicians))
        .where(
            MeetingInvitation.status == InvitationStatus.OPEN,
            MeetingInvitation.created_at <= now - days,
            or_(
                MeetingInvitation.reminded_at.is_(None),
                MeetingInvitation.reminded_at <= now - days,
            ),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for inv in due:
        inv.reminded_at = now
        _notify(inv, invitee_ids(inv), REMINDER, None)
    db.session.flush()
    return len(due)


def for_area(area_id: int) -> list[MeetingInvitation]:
    return list(
        db.session.scalars(
            select(MeetingInvitation)
            .options(selectinload(MeetingInvitation.politicians))
            .where(MeetingInvitation.area_id == area_id)
            .order_by(MeetingInvitation.created_at.desc())
        )
    )


def overview() -> list[MeetingInvitation]:
    """Every invitation, open ones first (longest waiting first)."""
    rows = list(
        db.session.scalars(
            select(MeetingInvitation)
            .options(selectinload(MeetingInvitation.politicians))
            .order_by(MeetingInvitation.created_at)
        )
    )
    return [r for r in rows if r.status == InvitationStatus.OPEN] + sorted(
        (r for r in rows if r.status != InvitationStatus.OPEN),
        key=lambda r: r.answered_at or r.created_at,
        reverse=True,
    )
