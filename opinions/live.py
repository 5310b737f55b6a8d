"""The live room ``opinions:<round id>``: an open map page hears that the map was recomputed
(ids only, never text) and offers to reload. Whoever may see the topic may join."""

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


def _route(ev: dict, _facts) -> list:
    """Only a recomputed map is news for an open page (votes and statements are not)."""
    if ev["kind"] != "opinion_map_updated":
        return []
    return [((ev["room"],), {"id": ev["id"], "kind": ev["kind"]})]


def register() -> None:
    live.register_room("opinions", _resolve, _route)
