"""Moderation's Socket.IO surface: who may join the ``moderators`` room, and what its
events become.

Join (client -> server, see ``forum.events``): ``{"rooms": ["moderators"], ...}``. Only
moderators and admins; a moderator acting everywhere enters ``moderators``, a scoped one
``moderators:area:<id>`` for each of their areas. A refused join answers an ``error`` event
and lands in the audit log, which the forum cannot write (it never imports moderation) —
but only the first refusal of a connection, and at most ``MODERATION_LIVE_REFUSAL_AUDITS``
per client address (per minute by default): the rest are counted, and the count is written
with the next entry that address gets. A connection that keeps trying is disconnected by the
forum after ``LIVE_MAX_REFUSALS`` refusals.

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

import logging
import threading

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import insert

from forum import events as forum_events
from forum import live
from forum.extensions import db, limiter
from forum.models import User, utcnow

from . import permissions, queries
from .models import AuditEntry

log = logging.getLogger(__name__)

_AUDIT_LIMITER_KEY = "borgerdialog.live_refusal_audits"
_UNAUDITED_KEY = "borgerdialog.live_refusals_unaudited"
_MAX_ADDRESSES = 10_000  # unaudited counts kept per address (a flood from many addresses)
_unaudited_lock = threading.Lock()


def _address_limiter():
    """Flask-Limiter's strategy when rate limits are on (its storage: Redis, shared by the
    instances, in production); otherwise one in memory for this app, so the audit log stays
    protected with rate limits switched off."""
    if current_app.config.get("RATELIMIT_ENABLED", True):
        return limiter.limiter
    own = current_app.extensions.get(_AUDIT_LIMITER_KEY)
    if own is None:
        own = current_app.extensions[_AUDIT_LIMITER_KEY] = FixedWindowRateLimiter(MemoryStorage())
    return own


def _worth_auditing(address: str, sid: str | None) -> bool:
    """The first refusal of a connection, within its address's budget of audit entries."""
    if sid is not None and forum_events.refusals_so_far(sid) > 0:
        return False
    strategy = _address_limiter()
    items = parse_many(current_app.config["MODERATION_LIVE_REFUSAL_AUDITS"])
    return all(strategy.hit(item, "live-refusal-audit", address) for item in items)


def _record_refusal(user: User | None, what: str) -> None:
    """Audit a refused join, in a transaction of its own (the handler rolls its session back
    on refusal) — or only count it (see the module docstring)."""
    address = (request.remote_addr if has_request_context() else None) or "unknown"
    sid = getattr(request, "sid", None) if has_request_context() else None
    # address -> refusals not written since the address's last entry (this app's)
    _unaudited: dict[str, int] = current_app.extensions.setdefault(_UNAUDITED_KEY, {})
    with _unaudited_lock:
        if not _worth_auditing(address, sid):
            if address in _unaudited or len(_unaudited) < _MAX_ADDRESSES:
                _unaudited[address] = _unaudited.get(address, 0) + 1
            return
        unaudited = _unaudited.pop(address, 0)
    if unaudited:
        log.info("live: %d refused joins from %s were counted, not audited", unaudited, address)
    with db.engine.begin() as conn:
        conn.execute(
            insert(AuditEntry).values(
                created_at=utcnow(),
                actor_id=user.id if user is not None else None,
                action="access_denied",
                target_type="socket",
                text=what[:300],
                # Not the address: the audit log keeps no client addresses (as HTTP denials).
                data={"unaudited_before": unaudited} if unaudited else {},
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
    msg = live.small_message(ev)
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
