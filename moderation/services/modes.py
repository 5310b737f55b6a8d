"""Moderation modes ("post"/"pre") of committees, areas and topics."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Area, Committee, Topic, User, utcnow

from .. import permissions
from ..models import MODES, ModerationMode
from ._common import audit


def set_mode(actor: User, target_type: str, target_id: int, mode: str | None) -> None:
    """Set a committee's, area's or topic's mode ("post"/"pre"); None: inherit/default."""
    model = {"committee": Committee, "area": Area, "topic": Topic}.get(target_type)
    if model is None:
        raise InvalidInput(target=_("Unknown kind of place."))
    target = db.session.get(model, target_id)
    if target is None:
        raise NotFound(_("No such place."))
    allowed = permissions.can_set_mode(
        actor,
        target_type,
        area_id=target.id if target_type == "area" else None,
        topic=target if target_type == "topic" else None,
    )
    if not allowed:
        raise PermissionDenied(_("You may not change the moderation mode here."))
    if mode in ("", "inherit"):
        mode = None
    if mode is not None and mode not in MODES:
        raise InvalidInput(mode=_("Unknown moderation mode."))
    column = getattr(ModerationMode, f"{target_type}_id")
    row = db.session.scalar(select(ModerationMode).where(column == target_id))
    old = row.mode if row else "inherit"
    if (mode or "inherit") == old:
        return
    if mode is None:
        db.session.delete(row)
    elif row is None:
        db.session.add(
            ModerationMode(
                **{f"{target_type}_id": target_id},
                mode=mode,
                updated_at=utcnow(),
                updated_by_id=actor.id,
            )
        )
    else:
        row.mode, row.updated_at, row.updated_by_id = mode, utcnow(), actor.id
    db.session.flush()
    audit(
        "mode_set",
        target_type,
        target_id,
        actor=actor,
        from_state=old,
        to_state=mode or "inherit",
        topic=target if target_type == "topic" else None,
    )
