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
from .models import CitationKind, Outcome, OutcomeCitation, OutcomeStatus, OutcomeUpdate

_POSTS_ELSEWHERE = (CitationKind.ANSWER, CitationKind.OFFLINE)


def outcome_for_topic(topic: Topic | int) -> Outcome | None:
    """The topic's outcome with its timeline and citations (three queries; one when there is
    none), or None. Kept for the request: the topic page's box and the citation notes of its
    posts read it once."""
    topic_id = topic if isinstance(topic, int) else topic.id
    memo = g.setdefault("_outcomes_by_topic", {})
    if topic_id not in memo:
        # The same statement says whether outcomes of other debates cite posts of this topic
        # (answers, meetings' contributions): ``cited_elsewhere``.
        elsewhere = (
            select(OutcomeCitation.id)
            .join(Post, Post.id == OutcomeCitation.target_id)
            .where(OutcomeCitation.kind.in_(_POSTS_ELSEWHERE), Post.topic_id == topic_id)
            .exists()
        )
        row = db.session.execute(
            select(elsewhere.label("elsewhere"), Outcome)
            .select_from(Topic)
            .outerjoin(Outcome, Outcome.topic_id == Topic.id)
            .options(selectinload(Outcome.updates).selectinload(OutcomeUpdate.citations))
            .where(Topic.id == topic_id)
        ).first()
        memo[topic_id] = row[1] if row is not None else None
        g.setdefault("_outcomes_cited_elsewhere", {})[topic_id] = bool(row and row[0])
    return memo[topic_id]


def cited_elsewhere(topic_id: int) -> bool:
    """Do outcomes of other debates cite posts of ``topic_id``? (Read with its outcome.)"""
    outcome_for_topic(topic_id)
    return g.get("_outcomes_cited_elsewhere", {}).get(topic_id, False)


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


def cited(viewer, outcome: Outcome) -> dict[tuple[str, int], object]:
    """Everything the timeline cites that ``viewer`` may see now, by ``(kind, id)``: posts of
    the debate as ``Post``, other packages' contributions as ``forum.hooks.Citable`` (one
    query per kind): what was hidden after it was cited drops out of the page."""
    out: dict[tuple[str, int], object] = {
        (CitationKind.POST.value, pid): p for pid, p in cited_posts(viewer, outcome).items()
    }
    wanted: dict[str, set[int]] = {}
    for u in outcome.updates:
        for c in u.citations:
            if c.kind != CitationKind.POST:
                wanted.setdefault(CitationKind(c.kind).value, set()).add(c.target_id)
    sources = hooks.citable_sources()
    for kind, ids in wanted.items():
        source = sources.get(kind)
        if source is not None:
            for item_id, item in source.citable(viewer, sorted(ids)).items():
                out[(kind, item_id)] = item
    return out


def _other_notes(kind_filter, ids: list[int]) -> dict[int, list[hooks.Citation]]:
    """Notes »Cited in the outcome of “topic”: status, date« for contributions of other
    packages (one query). Only outcomes of public topics count: whoever sees the item may
    see those."""
    rows = db.session.execute(
        select(OutcomeCitation.target_id, OutcomeUpdate, Topic.id, Topic.title)
        .join(OutcomeUpdate, OutcomeUpdate.id == OutcomeCitation.update_id)
        .join(Outcome, Outcome.id == OutcomeUpdate.outcome_id)
        .join(Topic, Topic.id == Outcome.topic_id)
        .where(
            kind_filter,
            OutcomeCitation.target_id.in_(ids),
            Topic.status.in_(fp.PUBLIC_TOPIC_STATES),
        )
        .order_by(OutcomeUpdate.decided_on, OutcomeUpdate.id)
    ).all()
    out: dict[int, list[hooks.Citation]] = {}
    for target_id, update, topic_id, title in rows:
        label = _(
            "Cited in the outcome of “%(title)s”: %(status)s, %(date)s",
            title=title,
            status=status_label(update.status),
            date=format_date(update.decided_on, "long"),
        )
        url = url_for("outcomes.topic_outcome", topic_id=topic_id) + f"#u{update.id}"
        out.setdefault(target_id, []).append(hooks.Citation(label, url))
    return out


def cited_in(kind: str, ids: list[int]) -> dict[int, list[hooks.Citation]]:
    """The forum's ``cited_in`` hook: notes for other packages' pages (a budget idea's)."""
    if kind not in {k.value for k in CitationKind} or kind == CitationKind.POST.value:
        return {}
    return _other_notes(OutcomeCitation.kind == CitationKind(kind), ids)


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
    # Answers and meetings' contributions are posts in other topics (a Q&A session's, a
    # meeting's), cited by outcomes of other debates: one query, only in the topics that hold
    # such posts (``outcome_for_topic``'s query says whether this one does).
    out = {}
    if cited_elsewhere(topic_id):
        out = _other_notes(OutcomeCitation.kind.in_(_POSTS_ELSEWHERE), post_ids)
    outcome = outcome_for_topic(topic_id)
    if outcome is None:
        return out
    wanted = set(post_ids)
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
