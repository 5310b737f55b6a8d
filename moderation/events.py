"""Moderation's Socket.IO surface: who may join the ``moderators`` room, and what its
events become.

Join (client -> server, see ``forum.events``): ``{"rooms": ["moderators"], ...}``. Only
moderators and admins; a moderator acting everywhere enters ``moderators``, a scoped one
``moderators:area:<id>`` for each of their areas. A refused join answers an ``error`` event
and lands in the audit log, which the forum cannot write (it never imports moderation).

Server -> client (``live`` messages, after the commit): every event written to the
``moderators`` room (queue items added, claimed, released, decided; topic proposals; other
packages' held content) becomes one message per audience:

* to ``moderators``: ``{"id", "kind", "item_id", "item_kind", "area_id", "committee_id",
  "reason", "status", "outcome", "by", "claimed_by", "waiting"}`` where ``waiting`` is the
  number of items waiting everywhere;
* to ``moderators:area:<area_id>`` (the event's area only): the same with
  ``area_waiting``, the number waiting in that area (a scoped moderator's figure is the sum
  over their areas).

Ids, codes and counts only, never text: the queue page fetches an item's HTML from
``/moderation/items/<id>/row``, which checks the viewer's scope again.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import insert

from forum import live
from forum.extensions import db
from forum.models import User, utcnow

from . import permissions, queries
from .models import AuditEntry


def _record_refusal(user: User | None, what: str) -> None:
    """In a transaction of its own: the handler rolls its session back on refusal."""
    with db.engine.begin() as conn:
        conn.execute(
            insert(AuditEntry).values(
                created_at=utcnow(),
                actor_id=user.id if user is not None else None,
                action="access_denied",
                target_type="socket",
                text=what[:300],
                data={},
            )
        )


def resolve_moderators(user: User | None, key: str) -> list[str]:
    """Join ``moderators``: the socket rooms to enter, or ``LiveError`` (an ``error`` event
    to the client) plus an audit entry."""
    if key or not permissions.is_moderator(user):
        _record_refusal(user, f"join moderators{':' + key[:40] if key else ''}")
        raise live.LiveError("forbidden", _("Only moderators may join the moderators' room."))
    scope = permissions.moderated_area_ids(user)
    if scope is None:
        return ["moderators"]
    return [f"moderators:area:{a}" for a in sorted(scope)]


def read_counts(events: list[dict], session) -> queries.WaitingCounts:
    """The waiting counts, read inside the transaction that wrote ``events`` (or for a
    replay, now)."""
    return queries.waiting_counts(session)


# Payload fields of queue events a message carries besides forum.live's small fields.
_QUEUE_FIELDS = ("reason", "outcome", "claimed_by")


def route(ev: dict, facts: live.Facts) -> list[live.Out]:
    """An event of the ``moderators`` room -> messages for the moderator rooms."""
    p = ev["payload"]
    area = p.get("area_id")
    if not isinstance(area, int) or isinstance(area, bool):
        tf = facts.topics.get(p.get("topic_id"))
        area = tf.area_id if tf is not None else None
    msg = live._small(ev)
    if ev["subject_type"] == "queue_item":
        msg["item_kind"] = str(p.get("kind", ""))[:20]
        for key in _QUEUE_FIELDS:
            value = p.get(key)
            if (
                value is None
                or isinstance(value, int)
                or (isinstance(value, str) and len(value) <= 40)
            ):
                msg[key] = value
    if isinstance(ev.get("actor_id"), int):
        msg["by"] = ev["actor_id"]
    counts = facts.extra.get("moderators")
    if not isinstance(counts, queries.WaitingCounts):
        # Counts could not be read: the message alone (the page keeps its figures).
        return [(live.moderator_rooms(area), msg)]
    out: list[live.Out] = [(("moderators",), msg | {"waiting": counts.total})]
    if area:
        out.append(
            (
                (f"moderators:area:{area}",),
                msg | {"area_id": area, "area_waiting": counts.by_area.get(area, 0)},
            )
        )
    return out


def register() -> None:
    live.register_room("moderators", resolve_moderators, route, read_counts)
