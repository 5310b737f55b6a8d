"""The live room ``opinions:<round id>``: open map and vote pages hear that the map was
recomputed (ids only, never text) and reload it. Whoever may see the topic may join."""

from __future__ import annotations

from forum import live
from forum import permissions as fp
from forum.extensions import db


def _resolve(user, key: str) -> list[str]:
    from .models import OpinionRound

    if not key.isdigit() or len(key) > 10:
        raise live.unknown_room(f"opinions:{key}")
    rnd = db.session.get(OpinionRound, int(key))
    if rnd is None or not fp.can_see_topic(user, rnd.topic):
        raise live.unknown_room(f"opinions:{key}")
    return [f"opinions:{rnd.id}"]


def register() -> None:
    live.register_room("opinions", _resolve)
