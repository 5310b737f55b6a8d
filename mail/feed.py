"""Queueing notification mails in the transaction that records their event.

Why in the transaction, not from a cursor over the event log (as the search indexer does):
a ``before_flush`` listener sees each ``Event`` row as it is flushed and adds the
``MailItem`` (and, for "immediate", its ``MailMessage``) to the same flush. They commit or
roll back together, savepoints included, so a mail is never queued for a change that did not
happen and never missed for one that did; a unique ``event_id`` means an event is never
queued twice. A cursor would need the indexer's gap handling (PostgreSQL hands out ids before
commit, so a reader can pass an id whose transaction commits later) and a second writer
process; here there is nothing to resume.

Which events: ``notification`` (room ``user:<id>``, payload ``kind`` as in
``models.NOTIFICATION_KINDS``), and for live Q&A reminders the contract below, which the
live Q&A code records in its own transactions:

``qa_signup``   subject ("qa", session id), room ``user:<id>``, payload
                ``{"starts_at": ISO-8601 UTC, "title": str, "path": "/..."}``: remind this
                user ``MAIL_QA_REMINDER_MINUTES`` before the start.
``qa_signoff``  subject ("qa", id), room ``user:<id>``: no reminder for this user.
``qa_changed``  subject ("qa", id), room ``qa:<id>``, payload ``{"starts_at": ...}`` or
                ``{"cancelled": true}``: move or cancel every reminder not yet sent.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import and_, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from forum.models import Event, User, utcnow

from .models import (
    DEFAULT_MODES,
    NOTIFICATION_KINDS,
    ItemStatus,
    Kind,
    MailItem,
    MailMessage,
    MailPreference,
    MessageKind,
    MessageStatus,
    Mode,
)

log = logging.getLogger("borgerdialog.mail")

WAKE = "borgerdialog.mail.wake"
_KEEP = ("post_id", "topic_id", "saved_search_id", "title", "starts_at", "path")


def _room_user(room: str) -> int | None:
    prefix, _, rest = room.partition(":")
    return int(rest) if prefix == "user" and rest.isdigit() else None


def _parse_time(raw) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw.removesuffix("Z"))
    except ValueError:
        return None
    if value.tzinfo is not None:
        from datetime import UTC

        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _mode(session: Session, user_id: int | None, kind: Kind) -> Mode | None:
    """How ``user_id`` wants ``kind`` mailed, or None for no mail (no such account, address
    not confirmed, or turned off). One query: this runs for every follower of a topic."""
    if user_id is None:
        return None
    row = session.execute(
        select(User.email_verified_at, MailPreference.mode)
        .outerjoin(
            MailPreference,
            and_(MailPreference.user_id == User.id, MailPreference.kind == kind),
        )
        .where(User.id == user_id)
    ).first()
    if row is None:
        return None
    verified_at, mode = row
    if verified_at is None and current_app.config["MAIL_REQUIRE_VERIFICATION"]:
        return None
    mode = mode or DEFAULT_MODES[kind]
    return None if mode == Mode.OFF else mode


def _item(session: Session, ev: Event, user_id: int | None, kind: Kind,
          **fields) -> MailItem | None:
    mode = _mode(session, user_id, kind)
    if mode is None:
        return None
    payload = {k: v for k, v in (ev.payload or {}).items() if k in _KEEP}
    now = utcnow()
    item = MailItem(
        user_id=user_id,
        kind=kind,
        event=ev,
        payload=payload,
        mode=mode,
        status=ItemStatus.PENDING,
        created_at=now,
        due_at=now,
        **fields,
    )
    if mode == Mode.IMMEDIATE:
        delay = timedelta(seconds=current_app.config["MAIL_IMMEDIATE_DELAY_SECONDS"])
        item.status = ItemStatus.QUEUED
        item.message = MailMessage(
            key=f"{MessageKind.NOTIFICATION.value}:{user_id}:{secrets.token_hex(8)}",
            kind=MessageKind.NOTIFICATION,
            user_id=user_id,
            payload={},
            status=MessageStatus.QUEUED,
            due_at=max(item.due_at, now + delay) if kind != Kind.QA_REMINDER else item.due_at,
            created_at=now,
        )
        session.info[WAKE] = True
    session.add(item)
    return item


def _on_notification(session: Session, ev: Event) -> None:
    payload = ev.payload or {}
    source = payload.get("kind")
    kind = NOTIFICATION_KINDS.get(source)
    if kind is None:
        return
    _item(
        session,
        ev,
        _room_user(ev.room),
        kind,
        source=source,
        post_id=payload.get("post_id"),
        topic_id=payload.get("topic_id"),
    )


def _on_qa_signup(session: Session, ev: Event) -> None:
    starts = _parse_time((ev.payload or {}).get("starts_at"))
    if starts is None or starts <= utcnow():
        return
    lead = timedelta(minutes=current_app.config["MAIL_QA_REMINDER_MINUTES"])
    item = _item(
        session, ev, _room_user(ev.room), Kind.QA_REMINDER,
        source=ev.kind, subject_id=ev.subject_id, expires_at=starts,
    )
    if item is not None and item.message is not None:
        item.message.due_at = max(utcnow(), starts - lead)


def _unsent_reminders(session: Session, qa_id: int, user_id: int | None = None):
    stmt = select(MailItem).where(
        MailItem.kind == Kind.QA_REMINDER,
        MailItem.subject_id == qa_id,
        MailItem.status.in_((ItemStatus.PENDING, ItemStatus.QUEUED)),
    )
    if user_id is not None:
        stmt = stmt.where(MailItem.user_id == user_id)
    for item in session.scalars(stmt):
        msg = item.message
        if msg is None or msg.status == MessageStatus.QUEUED:
            yield item


def _drop(item: MailItem) -> None:
    item.status = ItemStatus.DROPPED
    if item.message is not None and item.message.kind == MessageKind.NOTIFICATION:
        item.message.status = MessageStatus.SKIPPED
        item.message.last_error = "cancelled before it was sent"


def _on_qa_signoff(session: Session, ev: Event) -> None:
    for item in list(_unsent_reminders(session, ev.subject_id, _room_user(ev.room))):
        _drop(item)


def _on_qa_changed(session: Session, ev: Event) -> None:
    payload = ev.payload or {}
    starts = _parse_time(payload.get("starts_at"))
    lead = timedelta(minutes=current_app.config["MAIL_QA_REMINDER_MINUTES"])
    for item in list(_unsent_reminders(session, ev.subject_id)):
        if payload.get("cancelled") or starts is None:
            _drop(item)
            continue
        item.expires_at = starts
        item.payload = {**(item.payload or {}), "starts_at": payload["starts_at"]}
        for key in ("title", "path"):
            if key in payload:
                item.payload[key] = payload[key]
        if item.message is not None and item.message.kind == MessageKind.NOTIFICATION:
            item.message.due_at = max(utcnow(), starts - lead)


_HANDLERS = {
    "notification": _on_notification,
    "qa_signup": _on_qa_signup,
    "qa_signoff": _on_qa_signoff,
    "qa_changed": _on_qa_changed,
}


def _before_flush(session: Session, _flush_context, _instances) -> None:
    if not has_app_context() or "mail" not in current_app.extensions:
        return
    for obj in list(session.new):
        if isinstance(obj, MailMessage):
            session.info[WAKE] = True
        elif isinstance(obj, Event) and obj.kind in _HANDLERS:
            _HANDLERS[obj.kind](session, obj)


_installed = False


def install() -> None:
    """Once per process (SQLAlchemy session events are global; the handler checks the app)."""
    global _installed
    if _installed:
        return
    _installed = True
    sa_event.listen(Session, "before_flush", _before_flush)
    sa_event.listen(Session, "after_commit", _after_commit)
    sa_event.listen(Session, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    if session.info.pop(WAKE, None):
        from .sender import wake_threads

        wake_threads()


def _after_rollback(session: Session) -> None:
    session.info.pop(WAKE, None)
