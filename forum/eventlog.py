"""Writing the append-only event log (see DESIGN.md, "The write path").

``record`` adds an ``Event`` row to the current session, so it commits or rolls back
with the change it describes. Readers (live replay, the search indexer, notifications)
read the table by id; nothing ever updates or deletes a row.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .extensions import db
from .models import Event

_PENDING = "borgerdialog.pending_events"
_listeners: list[Callable[[list[dict]], None]] = []


def record(
    kind: str,
    subject_type: str,
    subject_id: int,
    room: str,
    payload: dict | None = None,
    actor_id: int | None = None,
) -> Event:
    """Append an event to the log in the current transaction and flush it (to get its id)."""
    ev = Event(
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        room=room,
        payload=payload or {},
        actor_id=actor_id,
    )
    db.session.add(ev)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(as_dict(ev))
    return ev


def record_many(specs: list[dict]) -> list[Event]:
    """Append several events (each a dict of ``record``'s arguments) with one flush.

    Fan-out (one event per notified user) would otherwise flush once per recipient.
    """
    events = [
        Event(
            kind=spec["kind"],
            subject_type=spec["subject_type"],
            subject_id=spec["subject_id"],
            room=spec["room"],
            payload=spec.get("payload") or {},
            actor_id=spec.get("actor_id"),
        )
        for spec in specs
    ]
    if not events:
        return events
    db.session.add_all(events)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).extend(as_dict(ev) for ev in events)
    return events


def as_dict(ev: Event) -> dict:
    """A plain copy of an event, safe to use after its session has committed."""
    return {
        "id": ev.id,
        "kind": ev.kind,
        "subject_type": ev.subject_type,
        "subject_id": ev.subject_id,
        "room": ev.room,
        "actor_id": ev.actor_id,
        "payload": dict(ev.payload or {}),
    }


def on_commit(listener: Callable[[list[dict]], None]) -> None:
    """Call ``listener`` with the events of each transaction once it has committed."""
    if listener not in _listeners:
        _listeners.append(listener)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # SQLAlchemy sends after_commit for a savepoint (begin_nested) too: pushing then would
    # tell clients about rows another connection cannot read yet (or ever, on rollback).
    if session.in_nested_transaction():
        return
    events = session.info.pop(_PENDING, None)
    if events:
        for listener in list(_listeners):
            listener(events)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back; the transaction and its events go on
    session.info.pop(_PENDING, None)
