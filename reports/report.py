"""The council report (erfaringsrapport): its content, gathered from the packages' public
read side, for a topic, a committee or the whole platform over a period.

Only what everyone may read counts (published posts of public topics, published Q&A
questions, published budget ideas, outcomes of public topics). Other packages' tables are
read through the shared SQLAlchemy metadata by name (as ``privacy/`` does), or through their
public query functions (outcomes, moderation's transparency figures); a package that is not
installed leaves its section out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select

from forum import hooks
from forum import permissions as fp
from forum.extensions import db
from forum.models import Committee, Post, PostState, Topic, utcnow

from .models import ReportDefinition, Scope
from .synthesis import Synthesis, area_names, excerpt, synthesise_many


@dataclass
class OutcomeSummary:
    status: str
    body: str
    decided_on: date
    text: str
    link: str | None


@dataclass
class TopicSection:
    topic_id: int
    title: str
    committee: str
    area: str
    s: Synthesis
    outcome: OutcomeSummary | None = None
    # Other packages' sections (the opinion map), through ``forum.hooks.synthesis_sections``.
    sections: list = field(default_factory=list)


@dataclass
class QASummary:
    title: str
    starts_at: datetime
    questions: int
    answered: int

    @property
    def share(self) -> int | None:
        return round(100 * self.answered / self.questions) if self.questions else None


@dataclass
class BudgetSummary:
    title: str
    phase: str
    total: object
    currency: str
    ideas: int
    ballots: int | None
    funded: list[tuple[str, object]] = field(default_factory=list)


@dataclass
class Report:
    definition_id: int | None
    title: str
    scope: Scope
    place: str
    start: date | None
    end: date | None
    municipality: str
    generated_at: datetime
    overall: Synthesis
    topics: list[TopicSection] = field(default_factory=list)
    qa: list[QASummary] = field(default_factory=list)
    budgets: list[BudgetSummary] = field(default_factory=list)
    moderation: dict[str, int] | None = None
    named: set[int] = field(default_factory=set)
    names: dict[int, str] = field(default_factory=dict)  # area names of quoted people

    @property
    def empty(self) -> bool:
        return not self.overall.posts and not self.qa and not self.budgets


def _bounds(d: ReportDefinition) -> tuple[datetime | None, datetime | None]:
    start = datetime.combine(d.period_start, time.min) if d.period_start else None
    end = datetime.combine(d.period_end + timedelta(days=1), time.min) if d.period_end else None
    return start, end


def _topics(d: ReportDefinition, start, end) -> list[Topic]:
    """The public topics of the scope that had published posts in the period (a topic
    report keeps its topic even when empty), most posts first."""
    where = [Topic.status.in_(fp.PUBLIC_TOPIC_STATES)]
    if d.scope == Scope.TOPIC:
        where.append(Topic.id == d.topic_id)
    elif d.scope == Scope.COMMITTEE:
        where.append(Topic.committee_id == d.committee_id)
    posts = [Post.topic_id == Topic.id, Post.state == PostState.PUBLISHED]
    if start is not None:
        posts.append(Post.created_at >= start)
    if end is not None:
        posts.append(Post.created_at < end)
    n = func.count(Post.id)
    q = (
        select(Topic, n)
        .outerjoin(Post, and_(*posts))
        .where(*where)
        .group_by(Topic.id)
        .order_by(n.desc(), Topic.id)
    )
    rows = db.session.execute(q).all()
    return [t for t, count in rows if count or d.scope == Scope.TOPIC]


def _outcome(topic_id: int) -> OutcomeSummary | None:
    try:
        from outcomes import queries as outcome_queries
        from outcomes.forms import body_label, status_label
    except ImportError:  # the outcomes package is not installed
        return None
    o = outcome_queries.outcome_for_topic(topic_id)
    if o is None or not o.updates:
        return None
    last = max(o.updates, key=lambda u: (u.decided_on, u.id))
    return OutcomeSummary(
        status_label(last.status),
        body_label(last.body),
        last.decided_on,
        excerpt(last.text_html, 600),
        last.link,
    )


def _table(name: str):
    return db.metadata.tables.get(name)


def _qa(d: ReportDefinition, topic_ids: list[int], start, end) -> list[QASummary]:
    sessions, entries, posts = _table("qa_sessions"), _table("qa_entries"), Post.__table__
    if sessions is None or entries is None:
        return []
    where = [sessions.c.state != "scheduled"]
    if d.scope == Scope.TOPIC:
        where.append(sessions.c.topic_id == d.topic_id)
    elif d.scope == Scope.COMMITTEE:
        where.append(sessions.c.committee_id == d.committee_id)
    if start is not None:
        where.append(sessions.c.starts_at >= start)
    if end is not None:
        where.append(sessions.c.starts_at < end)
    published = and_(
        entries.c.session_id == sessions.c.id,
        entries.c.kind == "question",
        entries.c.status != "merged",
        posts.c.state == PostState.PUBLISHED.value,
    )
    # answered: marked so by a moderator, or a politician's published answer replies to it
    answers, answer_posts = entries.alias("answers"), posts.alias("answer_posts")
    has_answer = (
        select(answer_posts.c.id)
        .join(answers, answers.c.post_id == answer_posts.c.id)
        .where(
            answer_posts.c.parent_id == entries.c.post_id,
            answer_posts.c.state == PostState.PUBLISHED.value,
            answers.c.kind == "answer",
        )
        .exists()
    )
    answered = case((or_(entries.c.answered_at.is_not(None), has_answer), entries.c.post_id))
    q = (
        select(
            sessions.c.title,
            sessions.c.starts_at,
            func.count(entries.c.post_id),
            func.count(answered),
        )
        .select_from(sessions)
        .join(Topic, Topic.id == sessions.c.debate_topic_id)
        .outerjoin(entries.join(posts, posts.c.id == entries.c.post_id), published)
        .where(*where, Topic.status.in_(fp.PUBLIC_TOPIC_STATES))
        .group_by(sessions.c.id, sessions.c.title, sessions.c.starts_at)
        .order_by(sessions.c.starts_at)
    )
    return [QASummary(t, s, n or 0, a or 0) for t, s, n, a in db.session.execute(q).all()]


def _budgets(d: ReportDefinition, start, end) -> list[BudgetSummary]:
    procs, ideas = _table("budget_processes"), _table("budget_ideas")
    results, lines, ballots = (
        _table("budget_results"),
        _table("budget_result_lines"),
        _table("budget_ballots"),
    )
    if procs is None or d.scope == Scope.TOPIC:
        return []
    where = [procs.c.phase != "draft"]
    if d.scope == Scope.COMMITTEE:
        where.append(procs.c.committee_id == d.committee_id)
    if end is not None:
        where.append(procs.c.created_at < end)
    if start is not None:
        where.append(procs.c.phase_changed_at >= start)
    out = []
    for p in db.session.execute(select(procs).where(*where).order_by(procs.c.id)).all():
        n_ideas = db.session.scalar(
            select(func.count())
            .select_from(ideas)
            .where(ideas.c.process_id == p.id, ideas.c.state == "published")
        )
        n_ballots = db.session.scalar(
            select(func.count()).select_from(ballots).where(ballots.c.process_id == p.id)
        )
        funded = []
        last = db.session.scalar(select(func.max(results.c.id)).where(results.c.process_id == p.id))
        if last is not None:
            funded = [
                (title, cost)
                for title, cost in db.session.execute(
                    select(ideas.c.title, func.coalesce(ideas.c.final_cost, ideas.c.estimated_cost))
                    .join(lines, lines.c.idea_id == ideas.c.id)
                    .where(lines.c.result_id == last, lines.c.funded.is_(True))
                    .order_by(lines.c.position)
                ).all()
            ]
        out.append(
            BudgetSummary(p.title, p.phase, p.total_amount, p.currency, n_ideas, n_ballots, funded)
        )
    return out


def _moderation(start: datetime | None, end: datetime | None) -> dict[str, int] | None:
    """The transparency page's monthly figures, summed over the months of the period (at most
    the last 24 months)."""
    try:
        from moderation import queries as moderation_queries
    except ImportError:
        return None
    now = utcnow()
    totals: dict[str, int] = {}
    for month in moderation_queries.transparency(24, now):
        first = datetime(month.year, month.month, 1)
        if start is not None and first < start.replace(day=1):
            continue
        if end is not None and first >= end:
            continue
        for k, v in month.counts.items():
            totals[k] = totals.get(k, 0) + v
    return totals


def place_name(d: ReportDefinition) -> str:
    if d.scope == Scope.TOPIC and d.topic is not None:
        return d.topic.title
    if d.scope == Scope.COMMITTEE and d.committee is not None:
        return d.committee.name
    return _("The whole platform")


def municipality_name() -> str:
    settings = _table("privacy_site_settings")
    if settings is not None:
        name = db.session.scalar(select(settings.c.municipality_name).limit(1))
        if name:
            return name
    return "Holbæk Kommune"


def build(d: ReportDefinition, progress: Callable[[int], None] | None = None) -> Report:
    """The report's content. ``progress(n)`` is called when the overall figures are done and
    as each of its topics is done (the CLI's progress bar: ``topic_count(d)`` topics and one
    step more, and the CLI adds one for writing the document)."""
    start, end = _bounds(d)
    topics = _topics(d, start, end)
    topic_ids = [t.id for t in topics]
    # One read of the period's posts for the whole report and each topic (aggregated in
    # Python from columns only; the quoted posts' texts in one more query).
    overall, per_topic = synthesise_many(topic_ids, start, end, per_topic=True)
    report = Report(
        definition_id=d.id,
        title=d.title,
        scope=d.scope,
        place=place_name(d),
        start=d.period_start,
        end=d.period_end,
        municipality=municipality_name(),
        generated_at=utcnow(),
        overall=overall,
    )
    if progress is not None:
        progress(1)  # the overall figures
    committees = dict(db.session.execute(select(Committee.id, Committee.name)).all())
    places = area_names({t.area_id for t in topics})
    for t in topics:
        s = per_topic[t.id]
        report.topics.append(
            TopicSection(
                t.id,
                t.title,
                committees.get(t.committee_id, ""),
                places.get(t.area_id, ""),
                s,
                _outcome(t.id),
                hooks.synthesis_sections(t.id, 4),
            )
        )
        report.names.update(s.area_names)
        if progress is not None:
            progress(1)
    report.qa = _qa(d, topic_ids, start, end)
    report.budgets = _budgets(d, start, end)
    report.moderation = _moderation(start, end)
    quoted = {c.author_id for sec in report.topics for cs in sec.s.arguments.values() for c in cs}
    report.named = hooks.named_participants(quoted)
    return report


def topic_count(d: ReportDefinition) -> int:
    start, end = _bounds(d)
    return len(_topics(d, start, end))
