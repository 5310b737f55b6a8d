"""Access denials (audited) and reminders to moderators of items that waited too long (the
schedule that calls ``send_reminders`` is ``moderation/reminders.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from forum.extensions import db
from forum.models import Role, User, utcnow

from .. import permissions
from ..models import AuditEntry, QueueItem
from ._common import _notify, audit


def record_denial(actor: User | None, where: str, message: str = "") -> AuditEntry:
    """An attempt by someone without permission: who, where, and what they were told."""
    return audit(
        "access_denied",
        "url",
        None,
        actor=actor,
        text=where[:300],
        data={"message": message[:300]} if message else None,
    )


def send_reminders(now: datetime | None = None) -> int:
    """Tell moderators in-app when items in their scope have waited longer than
    MODERATION_REMIND_AFTER_MINUTES (each item once). Returns how many were told."""
    from ..queries import open_items_clause, queue_select

    now = now or utcnow()
    cutoff = now - timedelta(minutes=current_app.config["MODERATION_REMIND_AFTER_MINUTES"])
    overdue = db.session.execute(
        queue_select(QueueItem.id, QueueItem.area_id).where(
            open_items_clause(), QueueItem.created_at <= cutoff, QueueItem.reminded_at.is_(None)
        )
    ).all()
    if not overdue:
        return 0
    from sqlalchemy.orm import selectinload

    moderators = db.session.scalars(
        select(User)
        .options(selectinload(User.moderated_areas))
        .where(User.role.in_((Role.MODERATOR, Role.ADMIN)))
    ).all()
    told = 0
    for m in moderators:
        scope = permissions.moderated_area_ids(m)
        if any(scope is None or area in scope for _id, area in overdue):
            _notify(m.id, "moderation_reminder")
            told += 1
    ids = [i for i, _a in overdue]
    for start in range(0, len(ids), 500):
        db.session.execute(
            update(QueueItem)
            .where(QueueItem.id.in_(ids[start : start + 500]))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    return told
