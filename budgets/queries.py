"""Read side of citizen budgets: what the pages show, each in a fixed number of statements."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, has_request_context
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from forum.extensions import db
from forum.models import Area, Notification

from . import permissions
from .models import (
    Ballot,
    BudgetProcess,
    Idea,
    IdeaReview,
    IdeaState,
    IdeaSupport,
    Notice,
    Phase,
    Result,
    ResultLine,
    Review,
    StatusUpdate,
)


def process_or_none(process_id: int) -> BudgetProcess | None:
    return db.session.scalar(
        select(BudgetProcess)
        .options(selectinload(BudgetProcess.phase_dates), selectinload(BudgetProcess.area_amounts))
        .where(BudgetProcess.id == process_id)
    )


def processes_for(user) -> list[BudgetProcess]:
    """Processes the viewer may see, those in progress first, newest first."""
    stmt = select(BudgetProcess).options(selectinload(BudgetProcess.phase_dates))
    if not permissions.is_staff(user):
        stmt = stmt.where(BudgetProcess.phase != Phase.DRAFT)
    rows = [
        p
        for p in db.session.scalars(
            stmt.order_by(BudgetProcess.created_at.desc(), BudgetProcess.id.desc())
        )
        if p.phase != Phase.DRAFT or permissions.can_manage_process(user, p)
    ]
    return sorted(rows, key=lambda p: p.phase == Phase.FOLLOW_UP)


def idea_topic_ids():
    """The ids of the topics opened as ideas' debate threads (a SELECT, for the forum)."""
    return select(Idea.topic_id).where(Idea.topic_id.is_not(None))


def home_processes(user) -> dict[str, list[BudgetProcess]]:
    """For the home page: the citizen budgets open for voting and those collecting ideas
    (never drafts), newest first."""
    rows = db.session.scalars(
        select(BudgetProcess)
        .options(selectinload(BudgetProcess.phase_dates))
        .where(BudgetProcess.phase.in_([Phase.VOTING, Phase.IDEAS]))
        .order_by(BudgetProcess.created_at.desc(), BudgetProcess.id.desc())
        .limit(10)
    )
    out: dict[str, list[BudgetProcess]] = {"voting": [], "ideas": []}
    for process in rows:
        if permissions.can_see_process(user, process):
            out[process.phase.value].append(process)
    return out


def ideas_clause(user, process: BudgetProcess):
    """The ideas of ``process`` the viewer may see (published ones; their own; all for
    moderators of the process's area)."""
    shown = Idea.state == IdeaState.PUBLISHED
    if permissions.is_staff(user):
        return Idea.process_id == process.id
    if user is not None and getattr(user, "is_authenticated", False):
        shown = or_(shown, Idea.author_id == user.id)
    return (Idea.process_id == process.id) & shown


def ideas_for(user, process: BudgetProcess, area_id: int | None = None) -> list[Idea]:
    stmt = (
        select(Idea)
        .options(selectinload(Idea.area), selectinload(Idea.author))
        .where(ideas_clause(user, process))
    )
    if area_id:
        stmt = stmt.where(Idea.area_id == area_id)
    ideas = list(db.session.scalars(stmt.order_by(Idea.support_count.desc(), Idea.id)))
    # A scoped moderator sees held ideas of their areas only.
    return [i for i in ideas if i.state == IdeaState.PUBLISHED or permissions.can_see_idea(user, i)]


def supported_ids(user, ideas: list[Idea]) -> set[int]:
    if user is None or not getattr(user, "is_authenticated", False) or not ideas:
        return set()
    return set(
        db.session.scalars(
            select(IdeaSupport.idea_id).where(
                IdeaSupport.user_id == user.id, IdeaSupport.idea_id.in_([i.id for i in ideas])
            )
        )
    )


def waiting_counts(process: BudgetProcess) -> tuple[int, int]:
    """(ideas waiting for a moderator, published ideas not yet reviewed)."""
    held = (
        db.session.scalar(
            select(func.count(Idea.id)).where(
                Idea.process_id == process.id, Idea.state == IdeaState.PENDING
            )
        )
        or 0
    )
    unreviewed = (
        db.session.scalar(
            select(func.count(Idea.id)).where(
                Idea.process_id == process.id,
                Idea.state == IdeaState.PUBLISHED,
                Idea.review.is_(None),
            )
        )
        or 0
    )
    return held, unreviewed


def waiting_by_process() -> dict[int, tuple[int, int]]:
    """process id → (ideas awaiting moderation, published ideas awaiting review), for staff."""
    out: dict[int, list[int]] = {}
    rows = db.session.execute(
        select(Idea.process_id, Idea.state, func.count(Idea.id))
        .where(
            or_(
                Idea.state == IdeaState.PENDING,
                (Idea.state == IdeaState.PUBLISHED) & Idea.review.is_(None),
            )
        )
        .group_by(Idea.process_id, Idea.state)
    )
    for process_id, state, n in rows:
        out.setdefault(process_id, [0, 0])[0 if state == IdeaState.PENDING else 1] = n
    return {k: (v[0], v[1]) for k, v in out.items()}


def reviews_of(idea: Idea) -> list[IdeaReview]:
    return list(
        db.session.scalars(
            select(IdeaReview)
            .options(selectinload(IdeaReview.actor))
            .where(IdeaReview.idea_id == idea.id)
            .order_by(IdeaReview.id.desc())
        )
    )


def status_updates(idea_ids: list[int]) -> dict[int, list[StatusUpdate]]:
    """idea id → its status updates, newest first."""
    out: dict[int, list[StatusUpdate]] = {i: [] for i in idea_ids}
    if not idea_ids:
        return out
    for row in db.session.scalars(
        select(StatusUpdate)
        .where(StatusUpdate.idea_id.in_(idea_ids))
        .order_by(StatusUpdate.happened_on.desc(), StatusUpdate.id.desc())
    ):
        out[row.idea_id].append(row)
    return out


def my_ballot(user, process: BudgetProcess) -> Ballot | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Ballot)
        .options(selectinload(Ballot.choices), selectinload(Ballot.area))
        .where(Ballot.process_id == process.id, Ballot.user_id == user.id)
    )


def results(process: BudgetProcess) -> list[Result]:
    """The stored count, one result per budget (area), with lines and their ideas."""
    rows = db.session.scalars(
        select(Result)
        .options(
            selectinload(Result.area),
            selectinload(Result.lines).selectinload(ResultLine.idea).selectinload(Idea.area),
        )
        .where(Result.process_id == process.id)
    ).all()
    return sorted(rows, key=lambda r: r.area.name if r.area else "")


def has_results(process: BudgetProcess) -> bool:
    return (
        db.session.scalar(select(Result.id).where(Result.process_id == process.id).limit(1))
        is not None
    )


def funding_line(idea: Idea) -> ResultLine | None:
    return db.session.scalar(
        select(ResultLine)
        .join(Result, Result.id == ResultLine.result_id)
        .where(ResultLine.idea_id == idea.id, Result.process_id == idea.process_id)
    )


@dataclass
class Participation:
    ballots: int = 0
    by_area: list[tuple[str, int]] = field(default_factory=list)  # (area name, ballots)
    satisfied: int = 0  # voters with at least one funded project they chose
    counted: int = 0  # ballots in the count

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.counted if self.counted else None


def participation(process: BudgetProcess, counted: list[Result]) -> Participation:
    rows = db.session.execute(
        select(Area.name, func.count(Ballot.id))
        .select_from(Ballot)
        .outerjoin(Area, Area.id == Ballot.area_id)
        .where(Ballot.process_id == process.id)
        .group_by(Area.name)
    ).all()
    by_area = sorted(((name or "", n) for name, n in rows), key=lambda r: (-r[1], r[0]))
    return Participation(
        ballots=sum(n for _name, n in by_area),
        by_area=by_area,
        satisfied=sum(r.satisfied for r in counted),
        counted=sum(r.ballots for r in counted),
    )


def merge_targets(idea: Idea) -> list[Idea]:
    """Ideas a duplicate may be merged into: the process's other published, unmerged ideas."""
    return list(
        db.session.scalars(
            select(Idea)
            .where(
                Idea.process_id == idea.process_id,
                Idea.id != idea.id,
                Idea.state == IdeaState.PUBLISHED,
                or_(Idea.review.is_(None), Idea.review != Review.MERGED),
            )
            .order_by(Idea.title)
        )
    )


def notice_for_id(user_id: int, notification_id: int) -> Notice | None:
    """The ``Notice`` behind user ``user_id``'s notification ``notification_id`` (on a page,
    the user's 200 newest up to it in one query)."""
    cache: dict = {}
    if has_request_context():
        cache = g.setdefault("budget_notices", {})
    if (user_id, notification_id) not in cache:
        loaded = db.session.scalars(
            select(Notice)
            .options(selectinload(Notice.idea), selectinload(Notice.process))
            .join(Notification, Notification.id == Notice.notification_id)
            .where(
                Notification.user_id == user_id,
                Notice.notification_id <= notification_id,
            )
            .order_by(Notice.notification_id.desc())
            .limit(200)
        ).all()
        for row in loaded:
            cache[(user_id, row.notification_id)] = row
        cache.setdefault((user_id, notification_id), None)
    return cache[(user_id, notification_id)]
