"""Outcomes in the search index, through the forum's search-source hook
(``forum.hooks.register_search_source``): the search package indexes an outcome from the
event log (``outcome_update`` events name the outcome; a changed topic re-indexes its
outcome through ``ids_of_topics``) and asks this module again before showing a hit, so an
outcome is found exactly by those who may see its topic. An outcome takes its topic's
committee, area and visibility."""

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
    label = _l("Outcomes")  # the »Kind« filter's option
    subject_type = "outcome"
    origin = None

    def _item(self, o: Outcome, newest: OutcomeUpdate, *, shown: bool) -> hooks.SearchItem:
        t = o.topic
        return hooks.SearchItem(
            id=o.id,
            # The index holds the topic's title; a hit is headed "Outcome of “…”".
            title=_("Outcome of “%(title)s”", title=t.title) if shown else t.title,
            text="\n\n".join(u.text_source for u in o.updates),
            # (the indexer may run outside a request: the index keeps no URL)
            url=url_for("outcomes.topic_outcome", topic_id=o.topic_id) if shown else "",
            label=_("Outcome: %(status)s", status=status_label(o.status)) if shown else "",
            author_id=newest.author_id,
            created_at=newest.created_at,
            committee_id=t.committee_id,
            area_id=t.area_id,
            topic_id=o.topic_id,
            public=t.is_public,
        )

    def items(self, ids: list[int]) -> dict[int, hooks.SearchItem]:
        """An outcome's document: the topic's title, the words of every update, written by
        the newest update's author, dated by it."""
        out = {}
        for o in _outcomes(ids):
            newest = _newest(o)
            if newest is not None and o.topic is not None:
                out[o.id] = self._item(o, newest, shown=False)
        return out

    def all_ids(self) -> list[int]:
        return list(db.session.scalars(select(Outcome.id).order_by(Outcome.id)))

    def ids_of_topics(self, topic_ids: list[int]) -> list[int]:
        if not topic_ids:
            return []
        return list(db.session.scalars(select(Outcome.id).where(Outcome.topic_id.in_(topic_ids))))

    def ids_by_authors(self, user_ids: list[int]) -> list[int]:
        if not user_ids:
            return []
        return list(
            db.session.scalars(
                select(func.distinct(OutcomeUpdate.outcome_id)).where(
                    OutcomeUpdate.author_id.in_(user_ids)
                )
            )
        )

    def visible(self, viewer, ids: list[int]) -> dict[int, hooks.SearchItem]:
        out = {}
        for o in _outcomes(ids, for_page=True):
            newest = _newest(o)
            if newest is None or not permissions.can_see_outcome(viewer, o.topic):
                continue
            out[o.id] = self._item(o, newest, shown=True)
        return out
