"""Writing the append-only event log (docs/ARCHITECTURE.md, "The write path").

``record`` adds an ``Event`` row to the current session, so it commits or rolls back
with the change it describes. The unit of work (forum/uow.py) hands the transaction's new
rows to the handlers registered for their kinds, in it and after its commit. Readers (live
replay, the search indexer, notifications) read the table by id; nothing ever updates or
deletes a row.
"""

from __future__ import annotations

from .extensions import db
from .models import Event
from .uow import as_dict

__all__ = ["as_dict", "record", "record_many"]


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
    return events
