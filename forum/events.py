"""Socket.IO handlers of the forum's live updates (the routing and replay are in live.py).

A connection is authenticated once, on connect, by the Flask-Login session; anonymous
readers may connect and join public rooms. A signed-in connection is also put in the room
``session:<user id>:<session version>``, which live.py closes when that session ends (a new
password, logging out everywhere), and in its login's room, closed when that login logs
out: its connections are disconnected in every instance, and reconnect as what their
cookie is worth then. Cross-origin handshakes never get here (the Origin check is
engine.io's, configured in ``live.socketio_options``).

Client -> server:
  ``join``  ``{"rooms": ["topic:12", "user:7"], "last_event_id": 345, "seen_ids": [...]}``
  ``leave`` ``{"rooms": ["topic:12"]}``
Server -> client:
  ``joined`` ``{"rooms": [...], "events": [...], "last_event_id": N}``: the join is done;
             ``events`` are the messages missed after ``last_event_id``, in order.
  ``reload`` ``{"reason": "too_old" | "too_many", "message": ...}``: the join is done but
             too much was missed; the page should be reloaded.
  ``left``   ``{"rooms": [...]}``: the leave is done.
  ``live``   one message (see live.py), pushed after the transaction that wrote it commits.
  ``error``  ``{"event": ..., "code": ..., "message": ...}``: the event was refused, nothing
             changed, the connection stays usable.
  ``resync`` ``{"within_ms": N, "since": M}``: this instance was cut off from the other
             instances (its Redis subscription came back after Redis restarted, or another
             instance went silent); the client joins its rooms again, at a random moment
             within N ms, with ``last_event_id`` at most M (when given; never before its
             page's cursor) to replay what it missed (forum/live.py ``_RedisManager``).

Every incoming event costs a token from a small per-connection bucket; an empty bucket
refuses the event (one ``error`` per burst, the rest are dropped). A connection whose joins
are refused as forbidden ``LIVE_MAX_REFUSALS`` times is disconnected (the last ``error`` has
the code ``too_many_refusals``): some refusals are audited by other packages (the moderators'
room), and a client that keeps trying learns nothing more.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass, field

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import disconnect, emit, join_room, leave_room

from . import live, sessions, uow
from .extensions import db, socketio
from .live import LiveError
from .models import User

log = logging.getLogger(__name__)

JOIN_FIELDS = frozenset({"rooms", "last_event_id", "seen_ids"})
LEAVE_FIELDS = frozenset({"rooms"})
MAX_ID = 2**63 - 1


@dataclass
class Connection:
    user_id: int | None
    session_version: int | None
    login: str | None  # the hash of the login's key (forum/sessions.py)
    tokens: float
    refilled: float
    throttled: bool = False
    refused: int = 0  # joins refused as forbidden
    rooms: dict[str, list[str]] = field(default_factory=dict)  # requested name -> socket rooms


# sid -> state, for the connections of this process.
_connections: dict[str, Connection] = {}


def _bad(message: str) -> LiveError:
    return LiveError("invalid", message)


def _take_token(conn: Connection) -> bool:
    cfg = current_app.config
    rate, burst = float(cfg["LIVE_RATE_PER_SECOND"]), float(cfg["LIVE_RATE_BURST"])
    now = time.monotonic()
    conn.tokens = min(burst, conn.tokens + (now - conn.refilled) * rate)
    conn.refilled = now
    if conn.tokens >= 1:
        conn.tokens -= 1
        conn.throttled = False
        return True
    return False


def _refuse(event: str, exc: LiveError) -> None:
    emit("error", {"event": event, "code": exc.code, "message": exc.message})


def handler(event: str):
    """Wrap a client event: rate limit, refuse bad input with an ``error`` event, never
    leave a transaction open, never let an exception end the connection."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args):
            conn = _connections.get(request.sid)
            if conn is None:  # connected before this process knew it; should not happen
                return
            if not _take_token(conn):
                if not conn.throttled:
                    conn.throttled = True
                    _refuse(
                        event,
                        LiveError(
                            "rate_limited", _("Too many messages. Wait a moment and try again.")
                        ),
                    )
                return
            try:
                fn(conn, *args)
            except LiveError as exc:
                uow.rollback()
                if exc.code == "forbidden":
                    conn.refused += 1
                    if conn.refused >= int(current_app.config["LIVE_MAX_REFUSALS"]):
                        log.info(
                            "live: %s refused %d times on one connection from %s; disconnected",
                            event,
                            conn.refused,
                            request.remote_addr,
                        )
                        _refuse(
                            event,
                            LiveError(
                                "too_many_refusals",
                                _("Too many refused requests. The connection is closed."),
                            ),
                        )
                        disconnect()
                        return
                _refuse(event, exc)
            except Exception:
                log.exception("live: %s failed", event)
                uow.rollback()
                _refuse(
                    event,
                    LiveError(
                        "server_error", _("Something went wrong on our side. Try again later.")
                    ),
                )

        return inner

    return wrap


def viewer(conn: Connection) -> User | None:
    """The connection's user, re-read; a session ended elsewhere (logout, new password)
    ends the connection's rights too."""
    if conn.user_id is None:
        return None
    user = db.session.get(User, conn.user_id)
    if (
        user is None
        or user.session_version != conn.session_version
        or (conn.login is not None and not sessions.login_exists(conn.login))
    ):
        raise LiveError("session_ended", _("Your session has ended. Reload the page."))
    return user


def message_object(args: tuple, fields: frozenset[str], required: tuple[str, ...]) -> dict:
    """The one object a client sent with a message, with only ``fields`` and all of
    ``required`` (a ``LiveError`` "invalid" otherwise). Public: other packages' handlers."""
    if len(args) != 1 or not isinstance(args[0], dict):
        raise _bad(
            _("Send one object with the fields: %(fields)s.", fields=", ".join(sorted(fields)))
        )
    data = args[0]
    extra = sorted(str(k)[:40] for k in data if k not in fields)
    if extra:
        raise _bad(_("Unknown field: %(name)s.", name=extra[0]))
    for name in required:
        if name not in data:
            raise _bad(_("The field %(name)s is missing.", name=name))
    return data


def _room_names(value) -> list[str]:
    most = int(current_app.config["LIVE_MAX_ROOMS"])
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= most
        or not all(isinstance(r, str) and 0 < len(r) <= 60 for r in value)
    ):
        raise _bad(_("rooms must be a list of 1 to %(n)d room names.", n=most))
    return list(dict.fromkeys(value))


def _event_id(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise _bad(_("last_event_id must be a whole number, 0 or more."))
    return value


def _seen_ids(value, last_id: int) -> set[int]:
    most = int(current_app.config["LIVE_MAX_SEEN_IDS"])
    if value is None:
        return set()
    if (
        not isinstance(value, list)
        or len(value) > most
        or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= last_id for i in value
        )
    ):
        raise _bad(
            _(
                "seen_ids must be a list of at most %(n)d event ids, none above last_event_id.",
                n=most,
            )
        )
    return set(value)


@socketio.on("connect")
def on_connect(auth=None):
    """A browser (or any client) connects. Sent by: Socket.IO itself on (re)connection.

    Nothing is joined yet; the client sends ``join``. Refused (engine.io answers 400)
    when the Origin is another site's.
    """
    g.pop("_login_user", None)  # a test client may share ``g`` with earlier requests
    user = current_user if current_user.is_authenticated else None
    now = time.monotonic()
    login = sessions.current_key_hash() if user is not None else None
    if user is not None:
        # Closed (and so disconnected) when this session ends: see live.SESSION_ROOM.
        join_room(live.SESSION_ROOM.format(user_id=user.id, version=user.session_version))
        if login is not None:  # ... and when this login logs out
            join_room(live.LOGIN_ROOM.format(user_id=user.id, key=live.live_room_key(login)))
    _connections[request.sid] = Connection(
        user_id=user.id if user else None,
        session_version=user.session_version if user else None,
        login=login,
        tokens=float(current_app.config["LIVE_RATE_BURST"]),
        refilled=now,
    )


@socketio.on("disconnect")
def on_disconnect(reason=None):
    _connections.pop(request.sid, None)


def connection_count() -> int:
    """Socket.IO connections open in this process (the ``/metrics`` gauge, ops/metrics.py)."""
    return len(_connections)


_JOIN_SLOTS = "live.join_slots"


def join_slots() -> threading.BoundedSemaphore:
    """This process's turns for joins (``LIVE_JOIN_CONCURRENCY``; gevent-aware when gevent
    has patched ``threading``). Measured in the topology bench: an instance killed under 500
    live clients sent ~250 joins with replays to the other at once; they held its 15 pooled
    connections, and joins and page requests waited 30 s for one and failed ("QueuePool
    limit ... reached"): the joined clients stayed connected, in no room, hearing nothing."""
    app = current_app._get_current_object()
    slots = app.extensions.get(_JOIN_SLOTS)
    if slots is None:
        size = max(1, int(app.config["LIVE_JOIN_CONCURRENCY"]))
        slots = app.extensions.setdefault(_JOIN_SLOTS, threading.BoundedSemaphore(size))
    return slots


@socketio.on("join")
@handler("join")
def on_join(conn: Connection, *args):
    """Join rooms and replay what was missed. Sent by: live.js on every (re)connection.

    Payload: ``rooms`` (1-8 names: ``topic:<id>``, ``user:<own id>``, ``moderators``,
    ``activity``), optional ``last_event_id`` (the newest event id the client has; without
    it nothing is replayed) and ``seen_ids`` (ids received recently, at most 200, none
    above ``last_event_id``). All rooms are joined or none. Answer: ``joined`` (or
    ``reload``) to this client only; nothing is broadcast.

    Joins take turns (``join_slots``): a reconnect storm waits for turns without holding
    database connections.
    """
    with join_slots():  # its database connection goes back when the event's context ends
        _join(conn, *args)


def _join(conn: Connection, *args):
    """``on_join``'s work, in a turn."""
    data = message_object(args, JOIN_FIELDS, ("rooms",))
    names = _room_names(data["rooms"])
    last_id = None
    seen: set[int] = set()
    if data.get("last_event_id") is not None:
        last_id = _event_id(data["last_event_id"])
        seen = _seen_ids(data.get("seen_ids"), last_id)
    elif data.get("seen_ids"):
        raise _bad(_("seen_ids needs last_event_id."))
    user = viewer(conn)
    resolved = live.resolve_rooms(user, names)
    newest = live.cursor()
    if last_id is not None and last_id > newest:
        raise _bad(_("last_event_id %(id)d is newer than the newest event.", id=last_id))
    for name, rooms in resolved.items():
        for room in rooms:
            join_room(room)
        conn.rooms[name] = rooms
    # Joined first, then read: an event committed in between arrives live and replayed,
    # and the client drops the second copy by its id.
    if last_id is None:
        emit("joined", {"rooms": names, "events": [], "last_event_id": newest})
        return
    all_rooms = {r for rooms in conn.rooms.values() for r in rooms}
    result = live.replay(all_rooms, last_id, seen)
    if result.reload:
        emit(
            "reload",
            {
                "reason": result.reload,
                "message": _("You were away for a while. Reload the page to see the latest."),
            },
        )
        return
    top = max([last_id, *(m["id"] for m in result.messages)])
    emit("joined", {"rooms": names, "events": result.messages, "last_event_id": top})


@socketio.on("leave")
@handler("leave")
def on_leave(conn: Connection, *args):
    """Leave rooms joined earlier. Sent by: clients that stop showing something.

    Payload: ``rooms`` (names as given to ``join``). Unknown names are an error.
    """
    data = message_object(args, LEAVE_FIELDS, ("rooms",))
    names = _room_names(data["rooms"])
    missing = [n for n in names if n not in conn.rooms]
    if missing:
        raise LiveError("not_joined", _("You have not joined %(room)s.", room=missing[0]))
    for name in names:
        for room in conn.rooms.pop(name):
            if not any(room in rooms for rooms in conn.rooms.values()):
                leave_room(room)
    emit("left", {"rooms": names})


@socketio.on("*")
def on_unknown(event, *args):
    """Any other event name: refused with an error (and counted against the rate)."""

    @handler(str(event)[:40])
    def refuse(conn: Connection, *_args):
        raise LiveError("unknown_event", _("Unknown event: %(name)s.", name=str(event)[:40]))

    refuse(*args)


def refusals_so_far(sid: str) -> int:
    """How many of this connection's requests were refused as forbidden before the one being
    handled (0 for an unknown connection); for packages that audit refusals."""
    conn = _connections.get(sid)
    return conn.refused if conn is not None else 0


def connection_user_id(sid: str) -> int | None:
    """The signed-in user of one of this process's connections (None: anonymous/unknown);
    for presence counts in other packages' rooms."""
    conn = _connections.get(sid)
    return conn.user_id if conn is not None else None
