"""Reading outcomes for pages: each page a fixed number of queries."""

from __future__ import annotations

from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from forum import hooks
from forum import permissions as fp
from forum.extensions import db
from forum.models import Area, Committee, Post, PostState, Topic

from .forms import status_label
from .models import CitationKind, Outcome, OutcomeCitation, OutcomeStatus, OutcomeUpdate


def outcome_for_topic(topic: Topic) -> Outcome | None:
    """The topic's outcome with its timeline (two queries), or None."""
    return db.session.scalar(
        select(Outcome)
        .options(selectinload(Outcome.updates).selectinload(OutcomeUpdate.citations))
        .where(Outcome.topic_id == topic.id)
    )


def cited_posts(viewer, outcome: Outcome) -> dict[int, Post]:
    """The posts the timeline cites that ``viewer`` may read now (one query): a post hidden
    after it was cited drops out of the page."""
    ids = {
        c.target_id
        for u in outcome.updates
        for c in u.citations
        if c.kind == CitationKind.POST
    }
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


def post_citations(post_ids: list[int]) -> dict[int, list[hooks.Citation]]:
    """The forum's hook: the notes »Cited in the outcome: …« of the posts on a page, in one
    query. The outcome is on the post's own topic, so whoever sees the post may see it."""
    rows = db.session.execute(
        select(
            OutcomeCitation.target_id,
            OutcomeUpdate.id,
            OutcomeUpdate.status,
            OutcomeUpdate.decided_on,
            Outcome.topic_id,
        )
        .join(OutcomeUpdate, OutcomeUpdate.id == OutcomeCitation.update_id)
        .join(Outcome, Outcome.id == OutcomeUpdate.outcome_id)
        .where(OutcomeCitation.kind == CitationKind.POST, OutcomeCitation.target_id.in_(post_ids))
        .order_by(OutcomeUpdate.decided_on, OutcomeUpdate.id)
    ).all()
    out: dict[int, list[hooks.Citation]] = {}
    for post_id, update_id, status, decided_on, topic_id in rows:
        label = _(
            "Cited in the outcome: %(status)s, %(date)s",
            status=status_label(status),
            date=format_date(decided_on, "long"),
        )
        url = url_for("outcomes.topic_outcome", topic_id=topic_id) + f"#u{update_id}"
        out.setdefault(post_id, []).append(hooks.Citation(label, url))
    return out
