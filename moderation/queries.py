"""Read side of moderation: the queue, records, the audit log, the transparency figures.

Each page costs a fixed number of statements, whatever the size of the queue: items come
in one joined query, and what every item needs (author records, reports) in one grouped
query each for the whole page.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, extract, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from forum import hooks
from forum.extensions import db
from forum.models import Post, PostState, Topic, TopicStatus, utcnow

from . import permissions
from .models import CORE_ITEM_KINDS, Appeal, AuditEntry, DebateRule, Flag, QueueItem, Suspension

S = PostState


def open_items_clause() -> ColumnElement[bool]:
    """Open items whose subject still waits (a proposal decided on the forum's own page,
    say, drops out even before its item is closed). Needs the joins of ``queue_select``."""
    return and_(
        QueueItem.status == "open",
        or_(
            and_(QueueItem.kind == "post", Post.state == S.PENDING),
            and_(QueueItem.kind == "flag", Post.state.in_((S.PUBLISHED, S.HIDDEN))),
            and_(QueueItem.kind == "proposal", Topic.status == TopicStatus.PROPOSED),
            and_(QueueItem.kind == "appeal", Appeal.status == "open"),
            # A registered source's content: its item is closed when it stops waiting.
            QueueItem.kind.not_in(CORE_ITEM_KINDS),
        ),
    )


def queue_select(*entities) -> Select:
    return (
        select(*entities)
        .select_from(QueueItem)
        .outerjoin(Post, Post.id == QueueItem.post_id)
        .outerjoin(Topic, Topic.id == QueueItem.topic_id)
        .outerjoin(Appeal, Appeal.id == QueueItem.appeal_id)
    )


def _scope(stmt: Select, viewer) -> Select:
    scope = permissions.moderated_area_ids(viewer)
    if scope is not None:
        stmt = stmt.where(QueueItem.area_id.in_(scope))
    return stmt


@dataclass
class QueueFilters:
    committee_id: int | None = None
    area_id: int | None = None
    reason: str | None = None

    def apply(self, stmt: Select) -> Select:
        if self.committee_id:
            stmt = stmt.where(QueueItem.committee_id == self.committee_id)
        if self.area_id:
            stmt = stmt.where(QueueItem.area_id == self.area_id)
        if self.reason:
            stmt = stmt.where(QueueItem.reason == self.reason)
        return stmt


@dataclass
class AuthorRecord:
    approved: int = 0
    rejected: int = 0
    hidden: int = 0
    removed: int = 0
    pending: int = 0
    flags_received: int = 0
    suspensions: int = 0
    suspended_now: bool = False


@dataclass
class QueuePage:
    items: list[QueueItem]
    total: int
    has_more: bool
    records: dict[int, AuthorRecord]
    flags: dict[int, list[Flag]] = field(default_factory=dict)
    # item id -> the registered source's view of its content (items of other packages, and
    # appeals of decisions on such content).
    views: dict[int, hooks.ReviewView] = field(default_factory=dict)


def source_views(items: list[QueueItem]) -> dict[int, hooks.ReviewView]:
    """The content of registered sources' items (and of appeals about it): one statement per
    source kind on the page."""
    wanted: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i in items:
        if i.kind not in CORE_ITEM_KINDS and i.target_id is not None:
            wanted[i.kind][i.target_id].append(i.id)
        elif i.kind == "appeal" and i.appeal is not None and i.appeal.post_id is None:
            wanted[i.appeal.entry.target_type][i.appeal.entry.target_id].append(i.id)
    sources = hooks.review_sources() if wanted else {}
    out: dict[int, hooks.ReviewView] = {}
    for kind, targets in wanted.items():
        source = sources.get(kind)
        if source is None:
            continue
        for target_id, view in source.views(list(targets)).items():
            for item_id in targets.get(target_id, ()):
                out[item_id] = view
    return out


def _count(viewer, filters: QueueFilters | None = None) -> int:
    """Open items in scope, in one statement that reads only the queue's indexes.

    Items are closed with their subject (moderation decides through the queue; deletions
    and re-held edits are followed through the forum's signals), except a topic proposal
    decided on the forum's own page: those few are subtracted.
    """
    filters = filters or QueueFilters()
    open_ = filters.apply(
        _scope(select(func.count(QueueItem.id)).where(QueueItem.status == "open"), viewer)
    )
    stale = filters.apply(
        _scope(
            select(func.count(QueueItem.id))
            .join(Topic, Topic.id == QueueItem.topic_id)
            .where(
                QueueItem.status == "open",
                QueueItem.kind == "proposal",
                Topic.status != TopicStatus.PROPOSED,
            ),
            viewer,
        )
    )
    return max(0, db.session.scalar(select(open_.scalar_subquery() - stale.scalar_subquery())) or 0)


def waiting_count(viewer) -> int:
    """What waits for ``viewer``: the figure in every moderator's navigation."""
    return _count(viewer)


@dataclass
class WaitingCounts:
    total: int
    by_area: dict[int, int]  # only areas with waiting items

    def for_scope(self, area_ids) -> int:
        return self.total if area_ids is None else sum(self.by_area.get(a, 0) for a in area_ids)


def waiting_counts(session=None) -> WaitingCounts:
    """Waiting items everywhere and per area (scoped moderators see their areas' sum): two
    grouped statements on the queue's (status, area) index, for the live counts."""
    session = session or db.session
    by_area: dict[int | None, int] = defaultdict(int)
    for area_id, n in session.execute(
        select(QueueItem.area_id, func.count(QueueItem.id))
        .where(QueueItem.status == "open")
        .group_by(QueueItem.area_id)
    ):
        by_area[area_id] += n
    for area_id, n in session.execute(
        select(QueueItem.area_id, func.count(QueueItem.id))
        .join(Topic, Topic.id == QueueItem.topic_id)
        .where(
            QueueItem.status == "open",
            QueueItem.kind == "proposal",
            Topic.status != TopicStatus.PROPOSED,
        )
        .group_by(QueueItem.area_id)
    ):
        by_area[area_id] -= n
    total = max(0, sum(by_area.values()))
    return WaitingCounts(
        total, {a: max(0, n) for a, n in by_area.items() if a is not None and n > 0}
    )


def _item_options():
    post = contains_eager(QueueItem.post)
    topic = contains_eager(QueueItem.topic)
    appeal = contains_eager(QueueItem.appeal)
    return (
        post.joinedload(Post.author),
        post.joinedload(Post.parent).joinedload(Post.author),
        topic.joinedload(Topic.committee),
        topic.joinedload(Topic.area),
        topic.joinedload(Topic.author),
        appeal.joinedload(Appeal.entry).joinedload(AuditEntry.rule),
        appeal.joinedload(Appeal.entry).joinedload(AuditEntry.actor),
        joinedload(QueueItem.claimed_by),
    )


def queue_page(
    viewer, filters: QueueFilters, page: int = 1, per_page: int | None = None
) -> QueuePage:
    """Oldest first. Statements: items, total, author records (3), open reports: 6 at most,
    whatever the size of the queue."""
    per_page = per_page or current_app.config["MODERATION_QUEUE_PAGE_SIZE"]
    base = filters.apply(_scope(queue_select(QueueItem).where(open_items_clause()), viewer))
    rows = list(
        db.session.scalars(
            base.options(*_item_options())
            .order_by(QueueItem.created_at, QueueItem.id)
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        ).unique()
    )
    total = _count(viewer, filters)
    items = rows[:per_page]
    views = source_views(items)
    authors = {i.post.author_id for i in items if i.post is not None}
    authors |= {i.topic.author_id for i in items if i.kind == "proposal" and i.topic}
    authors |= {v.author_id for v in views.values() if v.author_id is not None}
    flagged = [i.post_id for i in items if i.kind == "flag"]
    return QueuePage(
        items=items,
        total=total,
        has_more=len(rows) > per_page,
        records=author_records(authors),
        flags=open_flags(flagged),
        views=views,
    )


def author_records(user_ids) -> dict[int, AuthorRecord]:
    """Approved/rejected/… counts, reports received and suspensions: three statements."""
    ids = list(user_ids)
    records = {uid: AuthorRecord() for uid in ids}
    if not ids:
        return records
    for uid, state, n in db.session.execute(
        select(Post.author_id, Post.state, func.count(Post.id))
        .where(Post.author_id.in_(ids))
        .group_by(Post.author_id, Post.state)
    ):
        r = records[uid]
        attr = {
            S.PUBLISHED: "approved",
            S.REJECTED: "rejected",
            S.HIDDEN: "hidden",
            S.REMOVED: "removed",
            S.PENDING: "pending",
        }.get(state)
        if attr:
            setattr(r, attr, n)
    for uid, n in db.session.execute(
        select(Flag.post_author_id, func.count(Flag.id))
        .where(Flag.post_author_id.in_(ids))
        .group_by(Flag.post_author_id)
    ):
        records[uid].flags_received = n
    now = utcnow()
    active = and_(
        Suspension.lifted_at.is_(None), or_(Suspension.until.is_(None), Suspension.until > now)
    )
    for uid, n, active_n in db.session.execute(
        select(
            Suspension.user_id, func.count(Suspension.id), func.count(Suspension.id).filter(active)
        )
        .where(Suspension.user_id.in_(ids))
        .group_by(Suspension.user_id)
    ):
        records[uid].suspensions = n
        records[uid].suspended_now = bool(active_n)
    return records


def open_flags(post_ids) -> dict[int, list[Flag]]:
    out: dict[int, list[Flag]] = defaultdict(list)
    ids = list(post_ids)
    if ids:
        for f in db.session.scalars(
            select(Flag)
            .options(joinedload(Flag.rule))
            .where(Flag.post_id.in_(ids), Flag.status == "open")
            .order_by(Flag.created_at, Flag.id)
        ):
            out[f.post_id].append(f)
    return out


def item_with_context(item_id: int) -> QueueItem | None:
    return (
        db.session.scalars(
            queue_select(QueueItem).options(*_item_options()).where(QueueItem.id == item_id)
        )
        .unique()
        .first()
    )


def post_history(post_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .options(joinedload(AuditEntry.actor), joinedload(AuditEntry.rule))
            .where(AuditEntry.post_id == post_id)
            .order_by(AuditEntry.id)
        )
    )


def open_items_for_post(post_id: int) -> list[QueueItem]:
    return list(
        db.session.scalars(
            select(QueueItem)
            .options(joinedload(QueueItem.claimed_by))
            .where(QueueItem.post_id == post_id, QueueItem.status == "open")
            .order_by(QueueItem.id)
        )
    )


def active_rules() -> list[DebateRule]:
    return list(
        db.session.scalars(
            select(DebateRule)
            .where(DebateRule.active.is_(True))
            .order_by(DebateRule.position, DebateRule.id)
        )
    )


def all_rules() -> list[DebateRule]:
    return list(db.session.scalars(select(DebateRule).order_by(DebateRule.position, DebateRule.id)))


# --- what an author sees about their own posts -----------------------------------------------


DECISION_ACTIONS = (
    "reject",
    "auto_reject",
    "hide",
    "remove",
    "flag_hide",
    "appeal_granted",
    "appeal_denied",
    "approve",
    "restore",
    "keep",
    "hold",
)


@dataclass
class PostNote:
    entry: AuditEntry | None
    appeal: Appeal | None
    can_appeal: bool


def post_notes(author_id: int, topic_id: int) -> dict[int, PostNote]:
    """For each of the author's not-public posts in a topic: the latest decision and any
    appeal of it. Two statements for the whole page."""
    entries = db.session.scalars(
        select(AuditEntry)
        .options(joinedload(AuditEntry.rule))
        .join(Post, Post.id == AuditEntry.post_id)
        .where(
            Post.author_id == author_id,
            Post.topic_id == topic_id,
            Post.state.in_((S.PENDING, S.REJECTED, S.HIDDEN, S.REMOVED)),
            AuditEntry.subject_user_id == author_id,
            AuditEntry.action.in_(DECISION_ACTIONS),
        )
        .order_by(AuditEntry.id)
    ).all()
    latest: dict[int, AuditEntry] = {}
    for e in entries:
        latest[e.post_id] = e
    appeals = {}
    if latest:
        ids = [e.id for e in latest.values()]
        appeals = {
            a.entry_id: a
            for a in db.session.scalars(select(Appeal).where(Appeal.entry_id.in_(ids)))
        }
    from .services import APPEALABLE

    return {
        pid: PostNote(
            entry=e,
            appeal=appeals.get(e.id),
            can_appeal=e.action in APPEALABLE and e.id not in appeals,
        )
        for pid, e in latest.items()
    }


def target_note(author_id: int, kind: str, target_id: int) -> PostNote | None:
    """The latest decision on a registered source's content, for its author: the rule, the
    moderator's text, any appeal and whether one may still be made (two statements)."""
    entry = db.session.scalars(
        select(AuditEntry)
        .options(joinedload(AuditEntry.rule))
        .where(
            AuditEntry.target_type == kind,
            AuditEntry.target_id == target_id,
            AuditEntry.post_id.is_(None),
            AuditEntry.subject_user_id == author_id,
            AuditEntry.action.in_(DECISION_ACTIONS),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    if entry is None:
        return None
    if entry.action in ("appeal_granted", "appeal_denied"):
        # The outcome of an appeal: show the decision appealed, with the appeal's outcome.
        appealed = db.session.get(AuditEntry, (entry.data or {}).get("entry_id") or 0)
        entry = appealed or entry
    appeal = db.session.scalar(select(Appeal).where(Appeal.entry_id == entry.id))
    from .services import appealable_entry

    return PostNote(
        entry=entry, appeal=appeal, can_appeal=appeal is None and appealable_entry(entry, None)
    )


def notices_for(user_id: int, limit: int = 500) -> dict[int, AuditEntry]:
    """The audit entries behind the user's recent moderation notifications, by
    notification id (one statement for the notifications page)."""
    rows = db.session.scalars(
        select(AuditEntry)
        .options(joinedload(AuditEntry.rule))
        .where(AuditEntry.subject_user_id == user_id, AuditEntry.notification_id.is_not(None))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return {e.notification_id: e for e in rows}


# --- the audit log ----------------------------------------------------------------------------


AUDIT_ACTIONS = (
    "hold",
    "publish",
    "approve",
    "reject",
    "auto_reject",
    "hide",
    "flag_hide",
    "remove",
    "restore",
    "keep",
    "delete",
    "flag",
    "appeal",
    "appeal_granted",
    "appeal_denied",
    "withdraw",
    "suspend",
    "unsuspend",
    "proposal_accept",
    "proposal_decline",
    "mode_set",
    "word_add",
    "word_remove",
    "rule_add",
    "rule_edit",
    "access_denied",
)


@dataclass
class AuditFilters:
    action: str | None = None
    actor_id: int | None = None
    subject_user_id: int | None = None
    post_id: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None  # exclusive


def audit_select(viewer, f: AuditFilters) -> Select:
    stmt = select(AuditEntry)
    scope = permissions.moderated_area_ids(viewer)
    if scope is not None:
        stmt = stmt.where(or_(AuditEntry.area_id.in_(scope), AuditEntry.actor_id == viewer.id))
    if f.action:
        stmt = stmt.where(AuditEntry.action == f.action)
    if f.actor_id:
        stmt = stmt.where(AuditEntry.actor_id == f.actor_id)
    if f.subject_user_id:
        stmt = stmt.where(AuditEntry.subject_user_id == f.subject_user_id)
    if f.post_id:
        stmt = stmt.where(AuditEntry.post_id == f.post_id)
    if f.date_from:
        stmt = stmt.where(AuditEntry.created_at >= f.date_from)
    if f.date_to:
        stmt = stmt.where(AuditEntry.created_at < f.date_to)
    return stmt


def audit_page(
    viewer, f: AuditFilters, page: int, per_page: int = 100
) -> tuple[list[AuditEntry], bool]:
    rows = list(
        db.session.scalars(
            audit_select(viewer, f)
            .options(joinedload(AuditEntry.actor), joinedload(AuditEntry.rule))
            .order_by(AuditEntry.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


def audit_rows(viewer, f: AuditFilters, batch: int = 1000):
    """All matching entries, newest first, in batches (for the CSV export)."""
    last = None
    while True:
        stmt = audit_select(viewer, f).options(
            joinedload(AuditEntry.actor), joinedload(AuditEntry.rule)
        )
        if last is not None:
            stmt = stmt.where(AuditEntry.id < last)
        rows = list(db.session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(batch)))
        if not rows:
            return
        yield from rows
        last = rows[-1].id


# --- transparency -------------------------------------------------------------------------------


TRANSPARENCY_COLUMNS = {
    "published": ("publish", "approve"),
    "held": ("hold",),
    "rejected": ("reject", "auto_reject"),
    "hidden": ("hide", "flag_hide"),
    "removed": ("remove",),
    "restored_on_appeal": ("appeal_granted",),
}
RULE_ACTIONS = ("reject", "auto_reject", "hide", "flag_hide", "remove")


@dataclass
class MonthFigures:
    year: int
    month: int
    counts: dict[str, int] = field(default_factory=dict)
    by_rule: dict[int | None, int] = field(default_factory=dict)
    median_seconds: float | None = None
    decisions: int = 0


def transparency(months: int = 12, now: datetime | None = None) -> list[MonthFigures]:
    """Per month, newest first: counts by outcome, rejections/removals by rule, and the
    median time from a held post's creation to a moderator's decision. Three statements;
    no names and no texts."""
    now = now or utcnow()
    y, m = now.year, now.month
    for _i in range(months - 1):
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    start = datetime(y, m, 1)
    out: dict[tuple[int, int], MonthFigures] = {}
    yy, mm = y, m
    for _i in range(months):
        out[(yy, mm)] = MonthFigures(yy, mm, {k: 0 for k in TRANSPARENCY_COLUMNS})
        yy, mm = (yy, mm + 1) if mm < 12 else (yy + 1, 1)
    year, month = extract("year", AuditEntry.created_at), extract("month", AuditEntry.created_at)
    column_of = {a: col for col, acts in TRANSPARENCY_COLUMNS.items() for a in acts}
    for yv, mv, action, n in db.session.execute(
        select(year, month, AuditEntry.action, func.count(AuditEntry.id))
        .where(
            AuditEntry.created_at >= start,
            AuditEntry.action.in_(list(column_of)),
            AuditEntry.target_type == "post",
        )  # other packages' content is not a post
        .group_by(year, month, AuditEntry.action)
    ):
        fig = out.get((int(yv), int(mv)))
        if fig is not None:
            fig.counts[column_of[action]] += n
    for yv, mv, rule_id, n in db.session.execute(
        select(year, month, AuditEntry.rule_id, func.count(AuditEntry.id))
        .where(
            AuditEntry.created_at >= start,
            AuditEntry.action.in_(RULE_ACTIONS),
            AuditEntry.target_type == "post",
        )
        .group_by(year, month, AuditEntry.rule_id)
    ):
        fig = out.get((int(yv), int(mv)))
        if fig is not None:
            fig.by_rule[rule_id] = fig.by_rule.get(rule_id, 0) + n
    durations: dict[tuple[int, int], list[float]] = defaultdict(list)
    for decided, created in db.session.execute(
        select(AuditEntry.created_at, Post.created_at)
        .join(Post, Post.id == AuditEntry.post_id)
        .where(
            AuditEntry.created_at >= start,
            AuditEntry.action.in_(("approve", "reject")),
            AuditEntry.from_state == S.PENDING.value,
        )
    ):
        durations[(decided.year, decided.month)].append(
            max(0.0, (decided - created).total_seconds())
        )
    for key, values in durations.items():
        if key in out:
            out[key].median_seconds = statistics.median(values)
            out[key].decisions = len(values)
    return sorted(out.values(), key=lambda f: (f.year, f.month), reverse=True)


def rules_by_id() -> dict[int, DebateRule]:
    return {r.id: r for r in db.session.scalars(select(DebateRule))}


# --- people -------------------------------------------------------------------------------------


def suspensions_of(user_id: int) -> list[Suspension]:
    return list(
        db.session.scalars(
            select(Suspension)
            .options(joinedload(Suspension.created_by), joinedload(Suspension.rule))
            .where(Suspension.user_id == user_id)
            .order_by(Suspension.created_at.desc())
        )
    )


def active_suspensions(viewer) -> list[Suspension]:
    """The suspensions in force that ``viewer`` may see: all for moderators acting everywhere;
    for a scoped moderator those of people who have written in their areas (the rule of
    ``services.user_in_scope``, which suspending follows too)."""
    now = utcnow()
    stmt = (
        select(Suspension)
        .options(joinedload(Suspension.user), joinedload(Suspension.created_by))
        .where(
            Suspension.lifted_at.is_(None),
            or_(Suspension.until.is_(None), Suspension.until > now),
        )
    )
    if not permissions.is_moderator(viewer):
        return []
    scope = permissions.moderated_area_ids(viewer)
    if scope is not None:
        from .services import written_in_clause

        stmt = stmt.where(written_in_clause(Suspension.user_id, scope))
    return list(db.session.scalars(stmt.order_by(Suspension.created_at.desc())))


def recent_posts_of(user_id: int, limit: int = 30) -> list[Post]:
    return list(
        db.session.scalars(
            select(Post)
            .options(joinedload(Post.topic))
            .where(Post.author_id == user_id)
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(limit)
        )
    )


def since(minutes: int) -> datetime:
    return utcnow() - timedelta(minutes=minutes)
