"""Moderation's Socket.IO surface: who may join the ``moderators`` room.

The live layer (``forum.live``) routes queue events (room ``moderators``, payload
``area_id``) to ``moderators`` (everywhere) or ``moderators:area:<id>`` (scoped moderators).
Moderation registers the resolver for that room so that a refused join also lands in the
audit log, which the forum cannot write (it never imports moderation). The rule is the
forum's: moderators and admins; a scoped moderator enters only their areas' rooms.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import insert

from forum import live
from forum.extensions import db
from forum.models import User, utcnow

from . import permissions
from .models import AuditEntry


def _record_refusal(user: User | None, what: str) -> None:
    """In a transaction of its own: the handler rolls its session back on refusal."""
    with db.engine.begin() as conn:
        conn.execute(insert(AuditEntry).values(
            created_at=utcnow(), actor_id=user.id if user is not None else None,
            action="access_denied", target_type="socket", text=what[:300], data={},
        ))


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


def register() -> None:
    live.register_room("moderators", resolve_moderators)
