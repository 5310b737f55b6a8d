"""A citizen-budget idea as something an outcome may cite (``forum.hooks.CitableSource``),
and the notes on the idea's page of the outcomes that cite it (``forum.hooks.cited_in``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum import hooks
from forum.extensions import db
from forum.i18n import lazy_gettext as _l

from . import permissions
from .models import Idea, IdeaState


class IdeaCitations:
    kind = "idea"
    label = _l("Citizen-budget idea")
    words = ("idé", "ide", "idea")
    link = r"/borgerbudget/ideer/(\d{1,10})"
    of_posts = False

    def citable(self, viewer, ids: list[int]) -> dict[int, hooks.Citable]:
        if not ids:
            return {}
        ideas = db.session.scalars(
            select(Idea).options(joinedload(Idea.process)).where(Idea.id.in_(ids))
        ).unique()
        return {
            # budgets.idea's path (services run without a request; a test checks the route)
            i.id: hooks.Citable(self.kind, i.id, i.title, f"/borgerbudget/ideer/{i.id}")
            for i in ideas
            if i.state == IdeaState.PUBLISHED and permissions.can_see_idea(viewer, i)
        }
