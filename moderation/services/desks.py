"""Moderation's side of ``forum.hooks``: the moderator desk other packages' pages decide on
(``ModeratorDesk``) and the queue their content waits in (``ReviewQueue``)."""

from __future__ import annotations

from sqlalchemy import select

from forum import hooks
from forum.extensions import db
from forum.models import Post, User, utcnow

from ..models import Appeal, AuditEntry, DebateRule, QueueItem
from ._common import S, _queue_event, audit, enabled
from .decisions import moderate_post
from .modes import set_mode
from .queue import _open_item

# --- moderating on other packages' pages (forum.hooks.ModeratorDesk) -------------------------


class Desk:
    """The desk registered with ``forum.hooks.register_moderator_desk``: live Q&A sets its
    topics' modes and decides its held questions here, with the debate rules as reasons."""

    def set_mode(self, actor: User, target_type: str, target_id: int, mode: str | None) -> None:
        set_mode(actor, target_type, target_id, mode)

    def moderate_post(
        self, moderator: User, post: Post, action: str, rule_id=None, text: str = ""
    ) -> None:
        moderate_post(moderator, post, action, rule_id, text)

    def rule_choices(self, lang: str) -> list[tuple[str, str]]:
        rows = db.session.scalars(
            select(DebateRule)
            .where(DebateRule.active.is_(True))
            .order_by(DebateRule.position, DebateRule.id)
        )
        return [(str(r.id), r.title(lang)) for r in rows]


# --- content of other packages (forum.hooks.ReviewQueue) --------------------------------------


class SourceQueue:
    """The queue registered with ``forum.hooks.register_review_queue``: other packages'
    content (budgets' ideas) waits here like a held post and is decided, audited and
    appealed the same way."""

    def active(self) -> bool:
        return enabled()

    def hold(self, request: hooks.ReviewRequest) -> bool:
        if not enabled() or request.kind not in hooks.review_sources():
            return False
        key = f"{request.kind}:{request.target_id}"
        if db.session.scalar(select(QueueItem.id).where(QueueItem.open_key == key)):
            return True  # already waiting (asked twice): one item, one audit entry
        _open_item(
            request.kind,
            request.reason,
            target_id=request.target_id,
            area_id=request.area_id,
            committee_id=request.committee_id,
            detail=request.detail,
        )
        audit(
            "hold",
            request.kind,
            request.target_id,
            from_state="published" if request.reason == "edited_content" else None,
            to_state=S.PENDING.value,
            data={"reasons": request.reason, "detail": request.detail[:100]},
            subject_user_id=request.author_id,
            area_id=request.area_id,
            committee_id=request.committee_id,
        )
        db.session.flush()
        return True

    def withdraw(self, kind: str, target_id: int, actor_id: int | None) -> None:
        """Close the content's open item and any open appeal of a decision on it."""
        if not enabled():
            return
        now = utcnow()
        appeals = list(
            db.session.scalars(
                select(Appeal)
                .join(AuditEntry, AuditEntry.id == Appeal.entry_id)
                .where(
                    AuditEntry.target_type == kind,
                    AuditEntry.target_id == target_id,
                    AuditEntry.post_id.is_(None),
                    Appeal.status == "open",
                )
            )
        )
        keys = [f"{kind}:{target_id}"] + [f"appeal:{a.id}" for a in appeals]
        items = list(db.session.scalars(select(QueueItem).where(QueueItem.open_key.in_(keys))))
        for item in items:
            item.status, item.open_key, item.decided_at = "closed", None, now
            item.outcome = "withdrawn"
        for a in appeals:
            a.status, a.decided_at = "withdrawn", now
        db.session.flush()
        for item in items:
            _queue_event("queue_item_decided", item, actor_id, outcome="withdrawn")
        if items or appeals:
            first = items[0] if items else None
            audit(
                "withdraw",
                kind,
                target_id,
                actor=db.session.get(User, actor_id) if actor_id else None,
                to_state="withdrawn",
                subject_user_id=actor_id,
                area_id=first.area_id if first else None,
                committee_id=first.committee_id if first else None,
            )
