"""Appeals: which decisions may still be appealed, and appealing one (once)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forum import hooks
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Post, User, utcnow

from ..models import Appeal, AuditEntry
from ._common import APPEALABLE, _clean_text, audit
from .queue import _open_item


def appealable_entry(entry: AuditEntry, post: Post | None) -> bool:
    """Is the decision still in force (the post, or a source's content, is still in the
    state the decision left it in)?"""
    if entry.action not in APPEALABLE:
        return False
    if post is not None:
        return post.state.value == entry.to_state
    if entry.post_id is None and entry.target_type in hooks.review_sources():
        view = (
            hooks.review_sources()[entry.target_type].views([entry.target_id]).get(entry.target_id)
        )
        return view is not None and view.state == entry.to_state
    return False


def appeal_decision(author: User, entry: AuditEntry | None, text: str) -> Appeal:
    """Appeal one decision against ``author``'s post, once; it goes to the queue."""
    if entry is None:
        raise NotFound(_("No such decision."))
    if entry.subject_user_id != author.id:
        raise PermissionDenied(
            _("This decision was not made against you, so you cannot appeal it.")
        )
    if entry.action not in APPEALABLE:
        raise InvalidInput(text=_("This decision cannot be appealed."))
    if db.session.scalar(select(Appeal.id).where(Appeal.entry_id == entry.id)) is not None:
        raise Conflict(_("You have already appealed this decision."))
    post = db.session.get(Post, entry.post_id) if entry.post_id else None
    if not appealable_entry(entry, post):
        raise Conflict(
            _("This decision no longer applies to your post, so there is nothing to appeal.")
        )
    text = _clean_text(text)
    if len(text) < 10:
        raise InvalidInput(
            text=_("Explain in at least %(n)d characters why the decision should be changed.", n=10)
        )
    state = post.state.value if post is not None else entry.to_state
    appeal = Appeal(
        entry_id=entry.id,
        author_id=author.id,
        post_id=post.id if post is not None else None,
        text=text,
        status="open",
        created_at=utcnow(),
    )
    db.session.add(appeal)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("You have already appealed this decision.")) from None
    _open_item(
        "appeal",
        "appeal",
        post=post,
        appeal=appeal,
        detail=entry.action,
        avoid_user_id=entry.actor_id,
        target_id=entry.target_id if post is None else None,
        area_id=entry.area_id,
        committee_id=entry.committee_id,
    )
    audit(
        "appeal",
        "appeal",
        appeal.id,
        actor=author,
        from_state=state,
        to_state=state,
        text=text,
        data={"entry_id": entry.id},
        post=post,
        subject_user_id=author.id,
        area_id=entry.area_id,
        committee_id=entry.committee_id,
    )
    db.session.flush()
    return appeal
