"""Socket.IO handlers of live Q&A (the room and its messages are in ``qa.live``).

Client -> server (a signed-in connection; the same services as the pages):
  ``qa_vote`` ``{"session_id": 3, "post_id": 41, "vote": true}``: vote for a question
              (``false``: withdraw the vote). Answer to the sender: ``qa_voted``
              ``{"session_id", "post_id", "votes", "vote"}``; the new count reaches the
              room ``qa:<id>`` as a ``live`` message ``qa_votes``.
  ``qa_ask``  ``{"session_id": 3, "body": "...", "nonce": "optional"}``: ask a question.
              Answer to the sender: ``qa_asked`` ``{"session_id", "post_id", "state"}``;
              the forum's topic-room messages follow (held questions only to the asker
              and the moderators).
Refusals: ``error`` ``{"event", "code", "message"}`` (codes ``invalid``, ``not_found``,
``forbidden``, ``conflict``, ``rate_limited``, ``login_required``); nothing changed. Each
event also costs a token of the connection's bucket (``forum.events.handler``).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_socketio import emit

from forum import events as forum_events
from forum import uow
from forum.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from forum.extensions import socketio
from forum.live import LiveError
from forum.text import drop_controls

VOTE_FIELDS = frozenset({"session_id", "post_id", "vote"})
ASK_FIELDS = frozenset({"session_id", "body", "nonce"})


def _code(exc: DomainError) -> str:
    from .services import RateLimited

    if isinstance(exc, RateLimited):
        return "rate_limited"
    for cls, code in (
        (InvalidInput, "invalid"),
        (NotFound, "not_found"),
        (PermissionDenied, "forbidden"),
        (Conflict, "conflict"),
    ):
        if isinstance(exc, cls):
            return code
    return "invalid"


def _message(exc: DomainError) -> str:
    return exc.message or next(iter(exc.fields.values()), "") or _("That is not possible.")


def _user(conn):
    user = forum_events.viewer(conn)
    if user is None:
        raise LiveError("login_required", _("Log in to take part."))
    return user


def _run(fn):
    """Call a service; a refusal becomes a LiveError (the handler rolls back)."""
    try:
        out = fn()
        uow.commit()
        return out
    except DomainError as exc:
        if isinstance(exc, LiveError):
            raise
        uow.rollback()
        raise LiveError(_code(exc), _message(exc)) from None


@socketio.on("qa_vote")
@forum_events.handler("qa_vote")
def on_vote(conn, *args):
    """Vote or withdraw a vote. Sent by: qa.js and python clients (see the module doc)."""
    from . import services

    data = forum_events.message_object(args, VOTE_FIELDS, ("session_id", "post_id", "vote"))
    user = _user(conn)

    def act():
        session = services.get_session(data["session_id"])
        return session.id, services.set_vote(user, session, data["post_id"], data["vote"])

    session_id, votes = _run(act)
    emit(
        "qa_voted",
        {
            "session_id": session_id,
            "post_id": data["post_id"],
            "votes": votes,
            "vote": data["vote"],
        },
    )


@socketio.on("qa_ask")
@forum_events.handler("qa_ask")
def on_ask(conn, *args):
    """Ask a question. Sent by: python clients and qa.js (the page's form also works)."""
    from . import services

    data = forum_events.message_object(args, ASK_FIELDS, ("session_id", "body"))
    if not isinstance(data["body"], str) or not isinstance(data.get("nonce") or "", str):
        raise LiveError("invalid", _("body must be text."))
    user = _user(conn)
    # Not through a form: drop control characters (and NUL) as the forms do (forum/text.py).
    body = drop_controls(data["body"])

    def act():
        session = services.get_session(data["session_id"])
        post = services.ask(user, session, body, (data.get("nonce") or "")[:64] or None)
        return session.id, post.id, post.state.value

    session_id, post_id, state = _run(act)
    emit("qa_asked", {"session_id": session_id, "post_id": post_id, "state": state})
