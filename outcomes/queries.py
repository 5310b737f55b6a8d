"""Reading outcomes for pages: each page a fixed number of queries."""

from __future__ import annotations

from flask import g, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from forum import hooks
from forum import permissions as fp
from forum.extensions import db
from forum.models import Area, Committee, Post, PostState, Topic

from .forms import status_label
from .models import CitationKind, Outcome, OutcomeStatus, OutcomeUpdate


def outcome_for_topic(topic: Topic | int) -> Outcome | None:
    """The topic's outcome with its timeline and citations (three queries; one when there is
    none), or None. Kept for the request: the topic page's box and the citation notes of its
    posts read it once."""
    topic_id = topic if isinstance(topic, int) else topic.id
    memo = g.setdefault("_outcomes_by_topic", {})
    if topic_id not in memo:
        memo[topic_id] = db.session.scalar(
            select(Outcome)
            .options(selectinload(Outcome.updates).selectinload(OutcomeUpdate.citations))
            .where(Outcome.topic_id == topic_id)
        )
    return memo[topic_id]


def cited_posts(viewer, outcome: Outcome) -> dict[int, Post]:
    """The posts the timeline cites that ``viewer`` may read now (one query): a post hidden
    after it was cited drops out of the page."""
    ids = {c.target_id for u in outcome.updates for c in u.citations if c.kind == CitationKind.POST}
    if not ids:
        return {}
    posts = db.session.scalars(
        select(Post)
        .options(joinedload(Post.author))
        .where(Post.id.in_(ids), Post.topic_id == outcome.topic_id)
    ).all()
    topic = outcome.topic
    return {
        p.id: p
        for p in posts
        if p.state == PostState.PUBLISHED and fp.can_see_post(viewer, p, topic)
    }


def list_outcomes(
    viewer,
    status: OutcomeStatus | None = None,
    committee: Committee | None = None,
    area: Area | None = None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[Outcome], int]:
    """Outcomes of the topics ``viewer`` may see, newest first; (page's rows, total)."""
    where = [fp.visible_topics_clause(viewer)]
    if status is not None:
        where.append(Outcome.status == status)
    if committee is not None:
        where.append(Topic.committee_id == committee.id)
    if area is not None:
        where.append(Topic.area_id == area.id)
    total = db.session.scalar(
        select(func.count(Outcome.id)).join(Topic, Topic.id == Outcome.topic_id).where(*where)
    )
    rows = db.session.scalars(
        select(Outcome)
        .join(Topic, Topic.id == Outcome.topic_id)
        .options(
            joinedload(Outcome.topic).joinedload(Topic.committee),
            joinedload(Outcome.topic).joinedload(Topic.area),
        )
        .where(*where)
        .order_by(Outcome.updated_on.desc(), Outcome.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total or 0


def post_citations(topic_id: int, post_ids: list[int]) -> dict[int, list[hooks.Citation]]:
    """The forum's hook: the notes »Cited in the outcome: …« of the posts on a page of
    ``topic_id``, from the topic's outcome (no query beyond ``outcome_for_topic``'s). The
    outcome is on the posts' own topic, so whoever sees a post may see it."""
    outcome = outcome_for_topic(topic_id)
    if outcome is None:
        return {}
    wanted = set(post_ids)
    out: dict[int, list[hooks.Citation]] = {}
    base = url_for("outcomes.topic_outcome", topic_id=topic_id)
    for update in sorted(outcome.updates, key=lambda u: (u.decided_on, u.id)):
        label = _(
            "Cited in the outcome: %(status)s, %(date)s",
            status=status_label(update.status),
            date=format_date(update.decided_on, "long"),
        )
        for c in update.citations:
            if c.kind == CitationKind.POST and c.target_id in wanted:
                out.setdefault(c.target_id, []).append(
                    hooks.Citation(label, f"{base}#u{update.id}")
                )
    return out
