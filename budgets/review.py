"""Held ideas in moderation's queue: the review source budgets registers with the forum's
hooks (``forum.hooks.ReviewSource``). Moderation shows an idea to moderators through
``views`` and applies their decision through ``decide`` and (an appeal granted)
``reinstate``; it never imports budgets, and budgets never imports moderation.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forum import hooks
from forum.errors import NotFound
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.models import User

from .models import Idea
from .services import IDEA_PATH, decide_held_idea, reinstate_idea
from .services.ideas import KIND


class IdeaSource:
    kind = KIND
    label = _l("Citizen budget idea")

    def views(self, target_ids: list[int]) -> dict[int, hooks.ReviewView]:
        ideas = db.session.scalars(
            select(Idea).options(selectinload(Idea.process)).where(Idea.id.in_(target_ids))
        )
        return {
            i.id: hooks.ReviewView(
                title=i.title,
                body_html=i.description_html,
                url=IDEA_PATH.format(id=i.id),
                author_id=i.author_id,
                area_id=i.area_id or i.process.area_id,
                committee_id=i.process.committee_id,
                state=i.state.value,
                context=i.process.title,
            )
            for i in ideas
        }

    def _idea(self, target_id: int) -> Idea:
        idea = db.session.get(Idea, target_id)
        if idea is None:
            raise NotFound()
        return idea

    def decide(self, moderator: User, target_id: int, approve: bool, reason: str) -> int | None:
        return decide_held_idea(moderator, self._idea(target_id), approve, reason)

    def reinstate(self, moderator: User, target_id: int) -> None:
        reinstate_idea(moderator, self._idea(target_id))
