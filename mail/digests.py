"""Building digests: the pending daily (weekly) items of each user become one mail per period.

A period starts at ``MAIL_DIGEST_HOUR`` local time (``BABEL_DEFAULT_TIMEZONE``) each day, or
each ``MAIL_WEEKLY_DIGEST_DAY`` (0 = Monday) for weekly digests. The digest's idempotency key
is ``digest:<user>:<mode>:<period start>``: building twice in one period (cron and the
embedded thread, or a crash and a rerun) makes one mail; items that arrive after a period's
digest was built wait for the next one. A digest holds what arrived before its period began:
a post at 10:00 is in the next morning's daily digest.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forum import uow
from forum.extensions import db
from forum.models import utcnow

from . import services
from .models import ItemStatus, MailItem, MailMessage, MessageKind, Mode

log = logging.getLogger("borgerdialog.mail")


def period_start(mode: Mode, now: datetime) -> datetime:
    """The start (local, naive) of the digest period ``now`` (UTC, naive) falls in."""
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = now.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    start = local.replace(
        hour=int(current_app.config["MAIL_DIGEST_HOUR"]), minute=0, second=0, microsecond=0
    )
    if mode == Mode.WEEKLY:
        weekday = int(current_app.config["MAIL_WEEKLY_DIGEST_DAY"])
        start -= timedelta(days=(local.weekday() - weekday) % 7)
        if start > local:
            start -= timedelta(days=7)
    elif start > local:
        start -= timedelta(days=1)
    return start


def period_start_utc(mode: Mode, now: datetime) -> datetime:
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = period_start(mode, now).replace(tzinfo=tz)
    return local.astimezone(UTC).replace(tzinfo=None)


def digest_key(user_id: int, mode: Mode, now: datetime) -> str:
    return f"digest:{user_id}:{mode.value}:{period_start(mode, now):%Y-%m-%d}"


def _build_one(user_id: int, mode: Mode, now: datetime) -> bool:
    """The digest of the period that started last, with what came before that start."""
    key = digest_key(user_id, mode, now)
    cutoff = period_start_utc(mode, now)
    if db.session.scalar(select(MailMessage.id).where(MailMessage.key == key)):
        return False  # this period's digest exists: the rest waits for the next one
    items = list(
        db.session.scalars(
            select(MailItem)
            .where(
                MailItem.user_id == user_id,
                MailItem.status == ItemStatus.PENDING,
                MailItem.mode == mode,
                MailItem.due_at < cutoff,
            )
            .order_by(MailItem.id)
        )
    )
    chosen = services.modes(user_id)
    keep = []
    for item in items:
        if chosen[item.kind] == Mode.OFF or (item.expires_at and item.expires_at <= now):
            item.status = ItemStatus.DROPPED
        else:
            keep.append(item)
    if keep:
        msg = MailMessage(
            key=key,
            kind=MessageKind.DIGEST,
            user_id=user_id,
            due_at=now,
            payload={"mode": mode.value, "period": key.rsplit(":", 1)[1]},
            created_at=now,
        )
        db.session.add(msg)
        for item in keep:
            item.message = msg
            item.status = ItemStatus.QUEUED
    uow.commit()
    return bool(keep)


def build_digests(now: datetime | None = None) -> int:
    """Build every digest that is due; commits per user (it is a job, like a command).
    Returns how many digests were made."""
    now = now or utcnow()
    with current_app.app_context():  # a session of its own, emptied per user
        try:
            return _build_all(now)
        finally:
            db.session.remove()


def _build_all(now: datetime) -> int:
    made = 0
    for mode in (Mode.DAILY, Mode.WEEKLY):
        user_ids = list(
            db.session.scalars(
                select(MailItem.user_id)
                .where(
                    MailItem.status == ItemStatus.PENDING,
                    MailItem.mode == mode,
                    MailItem.due_at < period_start_utc(mode, now),
                )
                .distinct()
            )
        )
        for uid in user_ids:
            try:
                made += _build_one(uid, mode, now)
            except IntegrityError:
                uow.rollback()  # another builder made this one at the same moment
                log.info("Digest %s for user %s was built by another process", mode, uid)
            db.session.expunge_all()
    return made
