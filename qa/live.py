"""The ``qa:<id>`` live room: who may join, what its events become, and presence.

Events recorded in the room (all about public things: a held question's messages travel
through the forum's topic room, to its author and the moderators only):

``qa_scheduled`` / ``qa_session`` / ``qa_changed``  the session's state or schedule changed
``qa_votes``     ``post_id``, ``votes``: a question's vote count
``qa_question``  ``post_id``, ``status``, ``votes``: answered, closed or open again
``qa_merged``    ``post_id`` (the duplicate), ``merged_into``, ``votes`` (the target's)
``qa_pinned``    ``pinned_post_id`` (None: nothing pinned)

Each becomes one message to the room with the event id and only these small fields.
Presence (``qa_presence``: ``watchers``, ``politicians`` present) is not an event: a
background task of this process recounts the ``qa:`` rooms every ``QA_PRESENCE_SECONDS``
and pushes a change; a client that reconnects gets the next count.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from sqlalchemy import select

from forum import live as forum_live
from forum.extensions import db

from .models import QASession, session_politicians

log = logging.getLogger(__name__)

FIELDS = (
    "session_id",
    "post_id",
    "votes",
    "status",
    "merged_into",
    "pinned_post_id",
    "state",
    "cancelled",
)
_PRESENCE_KEY = "borgerdialog.qa_presence"


def _resolve(user, key: str) -> list[str]:
    if not key.isdigit() or len(key) > 10:
        raise forum_live.unknown_room(f"qa:{key}")
    if db.session.get(QASession, int(key)) is None:
        raise forum_live.unknown_room(f"qa:{key}")
    ensure_presence(current_app._get_current_object())
    return [f"qa:{int(key)}"]


def route(ev: dict, facts) -> list:
    msg = {"id": ev["id"], "kind": ev["kind"]}
    for key in FIELDS:
        value = ev["payload"].get(key)
        if key in ev["payload"] and (
            value is None
            or isinstance(value, (int, bool))
            or (isinstance(value, str) and len(value) <= 40)
        ):
            msg[key] = value
    return [((ev["room"],), msg)]


def register() -> None:
    forum_live.register_room("qa", _resolve, route)


# --- presence ----------------------------------------------------------------------------------


def _server():
    return forum_live.live_server()


def room_presence(server, session_id: int) -> tuple[int, list[int]]:
    """(people watching, ids of the session's politicians watching) on this process."""
    from forum.events import connection_user_id

    room = f"qa:{session_id}"
    people: set = set()
    users: set[int] = set()
    for sid, _eio in server.manager.get_participants("/", room):
        uid = connection_user_id(sid)
        people.add(uid if uid is not None else f"sid:{sid}")
        if uid is not None:
            users.add(uid)
    politicians = set()
    if users:
        politicians = set(
            db.session.scalars(
                select(session_politicians.c.user_id).where(
                    session_politicians.c.session_id == session_id,
                    session_politicians.c.user_id.in_(users),
                )
            )
        )
    return len(people), sorted(politicians)


def presence_now(session_id: int) -> tuple[int, list[int]]:
    server = _server()
    if server is None:
        return 0, []
    try:
        return room_presence(server, session_id)
    except Exception:  # the page must render without presence
        log.exception("qa: presence count failed")
        return 0, []


def ensure_presence(app: Flask) -> None:
    """Start this app's presence task unless it runs (it stops when no qa room is left)."""
    state = app.extensions.setdefault(_PRESENCE_KEY, {"running": False, "last": {}})
    server = _server()
    if state["running"] or server is None:
        return
    state["running"] = True
    server.start_background_task(_presence_loop, app, server, state)


def _qa_rooms(server) -> list[str]:
    rooms = server.manager.rooms.get("/", {})
    return [r for r in list(rooms) if isinstance(r, str) and r.startswith("qa:") and rooms.get(r)]


def _presence_loop(app: Flask, server, state: dict) -> None:
    interval = float(app.config["QA_PRESENCE_SECONDS"])
    idle = 0
    try:
        while idle < 3:
            server.sleep(interval)
            rooms = _qa_rooms(server)
            idle = 0 if rooms else idle + 1
            with app.app_context():
                try:
                    for room in rooms:
                        sid = int(room[3:])
                        watchers, politicians = room_presence(server, sid)
                        now = (watchers, tuple(politicians))
                        if state["last"].get(room) != now:
                            state["last"][room] = now
                            server.emit(
                                "qa_presence",
                                {
                                    "session_id": sid,
                                    "watchers": watchers,
                                    "politicians": politicians,
                                },
                                to=room,
                                namespace="/",
                            )
                finally:
                    db.session.remove()
    except Exception:
        log.exception("qa: presence task stopped")
    finally:
        state["running"] = False
