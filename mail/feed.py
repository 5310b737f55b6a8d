"""Queueing notification mails in the transaction that records their event.

Why in the transaction, not from a cursor over the event log (as the search indexer does):
the unit of work's ``mail.queue`` handler (forum/uow.py, phase "flush") sees each ``Event``
row of its kinds as it is flushed and adds the
``MailItem`` (and, for "immediate", its ``MailMessage``) to the same flush. They commit or
roll back together, savepoints included, so a mail is never queued for a change that did not
happen and never missed for one that did; a unique ``event_id`` means an event is never
queued twice. A cursor would need the indexer's gap handling (PostgreSQL hands out ids before
commit, so a reader can pass an id whose transaction commits later) and a second writer
process; here there is nothing to resume.

Which events: ``notification`` (room ``user:<id>``, payload ``kind`` as in
``models.NOTIFICATION_KINDS``, ``post_id``, ``topic_id``). For moderation kinds the in-app
``Notification`` row flushed just before its event (moderation's ``_notify``) is remembered,
and its id kept in the item's payload: at send time the mail finds the audit entry behind it
(the debate rule, the moderator's text, whether it can be appealed).

Live Q&A reminders: the live Q&A code records these events with ``forum.eventlog.record`` in
the same transaction as its own change (the ``QASignup`` row, the session's new time):

``qa_signup``   ``record("qa_signup", "qa", session_id, f"user:{user_id}",
                {"starts_at": ..., "title": str, "path": "/..."}, user_id)``: remind this
                user before the start. Recording it again for the same session (a second
                click) changes nothing: one reminder per person and session.
``qa_signoff``  ``record("qa_signoff", "qa", session_id, f"user:{user_id}", {}, user_id)``:
                no reminder for this user.
``qa_changed``  ``record("qa_changed", "qa", session_id, f"qa:{session_id}", payload)`` with
                ``{"starts_at": ...}`` (moved; "title"/"path" may come along),
                ``{"title": ...}`` alone (renamed: the time stays), or
                ``{"cancelled": true}``: applied to every reminder not yet sent. A reminder
                already sent is not sent again for a new time.

``starts_at`` is ISO-8601: with an offset or "Z", or naive meaning UTC (the forum stores
naive UTC, so ``session.starts_at.isoformat()`` is right). A start in the past, or a value
that is not a time, queues nothing (and in ``qa_changed`` leaves reminders as they were).

When a reminder goes out follows the user's choice for ``qa_reminder``: "immediately" (the
default) ``MAIL_QA_REMINDER_MINUTES`` before the start (at once when signing up later than
that); "daily digest" in the last daily digest before the start, "weekly digest" in the last
weekly one (a sign-up too late for it gets no reminder); "off": none. A reminder whose
session has started by the time it would go out is dropped, never sent late.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from forum import uow
from forum.models import Event, Notification, User, utcnow

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
# (user_id, kind, post_id, topic_id) -> the newest such moderation Notification of this
# transaction, so its event's mail item can name it (see the module docstring).
NOTES = "borgerdialog.mail.notifications"
_MODERATION_SOURCES = frozenset(k for k, v in NOTIFICATION_KINDS.items() if v == Kind.MODERATION)
_KEEP = ("post_id", "topic_id", "saved_search_id", "idea_id", "title", "starts_at", "path")


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


_MODES = "borgerdialog.mail.modes"  # (user_id, kind) -> Mode | None, read for a whole flush


def _prefetch_modes(session: Session, events: list[Event]) -> None:
    """Read every notification recipient's mode in two queries (a fan-out flush carries
    hundreds of notification events; one query each would be the worker's main cost)."""
    pairs = set()
    for ev in events:
        if ev.kind == "notification":
            kind = NOTIFICATION_KINDS.get((ev.payload or {}).get("kind"))
            user_id = _room_user(ev.room)
            if kind is not None and user_id is not None:
                pairs.add((user_id, kind))
    if len(pairs) < 2:
        return
    user_ids = sorted({u for u, _ in pairs})
    verified = dict(
        session.execute(select(User.id, User.email_verified_at).where(User.id.in_(user_ids))).all()
    )
    chosen = {
        (u, k): m
        for u, k, m in session.execute(
            select(MailPreference.user_id, MailPreference.kind, MailPreference.mode).where(
                MailPreference.user_id.in_(user_ids),
                MailPreference.kind.in_({k for _, k in pairs}),
            )
        )
    }
    need_verified = current_app.config["MAIL_REQUIRE_VERIFICATION"]
    modes = uow.state(session).setdefault(_MODES, {})
    for user_id, kind in pairs:
        if user_id not in verified or (need_verified and verified[user_id] is None):
            modes[(user_id, kind)] = None
            continue
        mode = chosen.get((user_id, kind)) or DEFAULT_MODES[kind]
        modes[(user_id, kind)] = None if mode == Mode.OFF else mode


def _item(
    session: Session,
    ev: Event,
    user_id: int | None,
    kind: Kind,
    mode: Mode | None = None,
    due_at: datetime | None = None,
    **fields,
) -> MailItem | None:
    """Queue ``ev`` for ``user_id``; ``due_at``: when it may go out (immediately) or which
    digest takes it (the first whose period starts after it). Default: now (immediate
    notifications wait ``MAIL_IMMEDIATE_DELAY_SECONDS``)."""
    if mode is None:
        known = uow.state(session).get(_MODES, {})
        mode = known[(user_id, kind)] if (user_id, kind) in known else _mode(session, user_id, kind)
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
        due_at=due_at or now,
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
            due_at=item.due_at if due_at is not None else now + delay,
            created_at=now,
        )
        uow.state(session)[WAKE] = True
    session.add(item)
    return item


def _note_key(user_id, kind, post_id, topic_id) -> tuple:
    return (user_id, kind, post_id, topic_id)


def _on_notification(session: Session, ev: Event) -> None:
    payload = ev.payload or {}
    source = payload.get("kind")
    kind = NOTIFICATION_KINDS.get(source)
    if kind is None:
        return
    user_id = _room_user(ev.room)
    item = _item(
        session,
        ev,
        user_id,
        kind,
        source=source,
        post_id=payload.get("post_id"),
        topic_id=payload.get("topic_id"),
    )
    if item is not None and source in _MODERATION_SOURCES:
        key = _note_key(user_id, source, payload.get("post_id"), payload.get("topic_id"))
        note = uow.state(session).get(NOTES, {}).get(key)
        if note is not None and note.id is not None:
            item.payload = {**item.payload, "notification_id": note.id}


def _reminder_due(mode: Mode, starts: datetime) -> datetime:
    """When a reminder in ``mode`` is due: its mail's send time, or the moment after which
    the next digest takes it (that digest is the last of its kind before the start)."""
    if mode == Mode.IMMEDIATE:
        lead = timedelta(minutes=current_app.config["MAIL_QA_REMINDER_MINUTES"])
        return max(utcnow(), starts - lead)
    return starts - (timedelta(days=7) if mode == Mode.WEEKLY else timedelta(days=1))


def _reschedule(item: MailItem, starts: datetime) -> None:
    item.expires_at = starts
    item.due_at = _reminder_due(item.mode, starts)
    if item.message is not None and item.message.kind == MessageKind.NOTIFICATION:
        item.message.due_at = item.due_at


def _on_qa_signup(session: Session, ev: Event) -> None:
    starts = _parse_time((ev.payload or {}).get("starts_at"))
    user_id = _room_user(ev.room)
    if starts is None or starts <= utcnow() or user_id is None:
        return
    waiting = list(_unsent_reminders(session, ev.subject_id, user_id))
    if waiting:  # signed up twice: still one reminder, at the time now announced
        for item in waiting:
            item.payload = {
                **(item.payload or {}),
                **{k: v for k, v in (ev.payload or {}).items() if k in _KEEP},
            }
            _reschedule(item, starts)
        return
    already = session.scalar(
        select(MailItem.id)
        .join(MailMessage)
        .where(
            MailItem.kind == Kind.QA_REMINDER,
            MailItem.subject_id == ev.subject_id,
            MailItem.user_id == user_id,
            MailItem.expires_at == starts,
            MailMessage.status.in_(
                (MessageStatus.SENDING, MessageStatus.HANDED_OVER, MessageStatus.SENT)
            ),
        )
        .limit(1)
    )
    if already is not None:
        return  # signed off and on again after the reminder went out: not twice
    mode = _mode(session, user_id, Kind.QA_REMINDER)
    if mode is None:
        return
    _item(
        session,
        ev,
        user_id,
        Kind.QA_REMINDER,
        mode=mode,
        due_at=_reminder_due(mode, starts),
        source=ev.kind,
        subject_id=ev.subject_id,
        expires_at=starts,
    )


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
    cancelled = payload.get("cancelled") is True
    moved = "starts_at" in payload
    starts = _parse_time(payload.get("starts_at"))
    if moved and starts is None and not cancelled:
        log.warning(
            "qa_changed event %s: starts_at %r is not a time; reminders unchanged",
            ev.id,
            payload.get("starts_at"),
        )
        moved = False
    for item in list(_unsent_reminders(session, ev.subject_id)):
        if cancelled or (moved and starts <= utcnow()):
            _drop(item)
            continue
        item.payload = {**(item.payload or {})}
        for key in ("title", "path"):
            if isinstance(payload.get(key), str):
                item.payload[key] = payload[key]
        if moved:
            item.payload["starts_at"] = payload["starts_at"]
            _reschedule(item, starts)


_HANDLERS = {
    "notification": _on_notification,
    "qa_signup": _on_qa_signup,
    "qa_signoff": _on_qa_signoff,
    "qa_changed": _on_qa_changed,
}


def watch(unit: uow.Unit, _events) -> None:
    """In the flush: a new mail message wakes the sender after the commit; a moderation
    notification is remembered for its event's mail item (see the module docstring)."""
    for obj in list(unit.session.new):
        if isinstance(obj, MailMessage):
            unit.state[WAKE] = True
        elif isinstance(obj, Notification) and obj.kind in _MODERATION_SOURCES:
            key = _note_key(obj.user_id, obj.kind, obj.post_id, obj.topic_id)
            unit.state.setdefault(NOTES, {})[key] = obj


def queue(unit: uow.Unit, events: list[Event]) -> None:
    """In the flush: the mail items of notification and Q&A events, in the same flush."""
    _prefetch_modes(unit.session, events)
    try:
        for ev in events:
            _HANDLERS[ev.kind](unit.session, ev)
    finally:
        unit.state.pop(_MODES, None)  # preferences may change before the next flush


def wake(unit: uow.Unit, _events) -> None:
    """After the commit: the sender thread looks at its queue now if a mail was queued."""
    if unit.state.get(WAKE):
        from .sender import wake_threads

        wake_threads()


def install(app: Flask) -> None:
    """Register the queueing and the sender's wake-up with the app's unit of work."""
    uow.register(app, "mail.watch", watch)
    uow.register(app, "mail.queue", queue, kinds=_HANDLERS)
    uow.register(app, "mail.wake", wake)
