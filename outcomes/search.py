"""Outcomes in the search index, through the forum's search-source hook
(``forum.hooks.register_search_source``): the search package indexes an outcome from the
event log (``outcome_update`` events name the outcome) and asks this module again before
showing a hit, so an outcome is found exactly by those who may see its topic."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from forum import hooks
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.models import Topic

from . import permissions
from .forms import status_label
from .models import Outcome, OutcomeUpdate


def _newest(outcome: Outcome) -> OutcomeUpdate | None:
    return max(outcome.updates, key=lambda u: (u.created_at, u.id), default=None)


def _outcomes(pks: list[int], *, for_page: bool = False) -> list[Outcome]:
    if not pks:
        return []
    options = [selectinload(Outcome.updates), joinedload(Outcome.topic)]
    if for_page:
        options += [
            joinedload(Outcome.topic).joinedload(Topic.committee),
            joinedload(Outcome.topic).joinedload(Topic.area),
            selectinload(Outcome.updates).joinedload(OutcomeUpdate.author),
        ]
    return list(
        db.session.scalars(select(Outcome).options(*options).where(Outcome.id.in_(pks))).unique()
    )


class OutcomeSource:
    kind = "outcome"
    subject_type = "outcome"
    label = _l("Outcomes")

    def items(self, pks: list[int]) -> dict[int, hooks.SearchItem]:
        """An outcome's document: the topic's title, the words of every update (newest
        first), written by the newest update's author, dated by it."""
        out = {}
        for o in _outcomes(pks):
            newest = _newest(o)
            if newest is None or o.topic is None:
                continue
            out[o.id] = hooks.SearchItem(
                pk=o.id,
                topic_id=o.topic_id,
                author_id=newest.author_id,
                title=o.topic.title,
                text="\n\n".join(u.text_source for u in o.updates),
                created_at=newest.created_at,
            )
        return out

    def all_pks(self) -> list[int]:
        return list(db.session.scalars(select(Outcome.id).order_by(Outcome.id)))

    def pks_of_topics(self, topic_ids: list[int]) -> list[int]:
        if not topic_ids:
            return []
        return list(db.session.scalars(select(Outcome.id).where(Outcome.topic_id.in_(topic_ids))))

    def pks_of_users(self, user_ids: list[int]) -> list[int]:
        if not user_ids:
            return []
        return list(
            db.session.scalars(
                select(func.distinct(OutcomeUpdate.outcome_id)).where(
                    OutcomeUpdate.author_id.in_(user_ids)
                )
            )
        )

    def shown(self, viewer, pks: list[int]) -> dict[int, hooks.SearchShown]:
        out = {}
        for o in _outcomes(pks, for_page=True):
            newest = _newest(o)
            if newest is None or not permissions.can_see_outcome(viewer, o.topic):
                continue
            out[o.id] = hooks.SearchShown(
                pk=o.id,
                topic=o.topic,
                author=newest.author,
                created_at=newest.created_at,
                url=url_for("outcomes.topic_outcome", topic_id=o.topic_id),
                title=_("Outcome of “%(title)s”", title=o.topic.title),
                text="\n\n".join(u.text_source for u in o.updates),
                label=_("Outcome: %(status)s", status=status_label(o.status)),
            )
        return out
