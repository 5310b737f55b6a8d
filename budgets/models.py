"""Citizen budgets' tables: processes with their phases and amounts, ideas with supports and
reviews, ballots with their choices, counted results, and status updates of funded projects.

Money is stored as NUMERIC(18, 2) in the process's currency (DKK for the municipality's own
processes; imported Pabulib elections keep theirs, with their decimals) and read as
``Decimal``, never float. Every table name starts with ``budget_``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models import Area, Committee, Notification, Topic, User, string_enum, utcnow

# Amounts of money: two decimals, exact (budgets.pabulib.MAX_MONEY is the largest that fits).
Money = Numeric(18, 2)


class Phase(enum.StrEnum):
    """A process's phases, in order. Only staff see a process in ``draft``."""

    DRAFT = "draft"
    IDEAS = "ideas"  # citizens propose ideas
    REVIEW = "review"  # staff check feasibility and cost
    VOTING = "voting"
    RESULT = "result"  # counted; results public
    FOLLOW_UP = "follow_up"  # funded projects get status updates


PHASES: tuple[Phase, ...] = tuple(Phase)
# Phases that can be given a start date (draft has none: a process starts as a draft).
DATED_PHASES: tuple[Phase, ...] = PHASES[1:]


class BallotStyle(enum.StrEnum):
    APPROVAL_BUDGET = "approval_budget"  # choose projects whose costs fit in the budget
    APPROVAL_RANGE = "approval_range"  # choose between min and max projects
    POINTS = "points"  # spread up to N points (cumulative)


class IdeaState(enum.StrEnum):
    """Moderation of an idea, as for a post: held until a moderator approves it (and held
    again when its author edits it); withdrawn by its author before voting."""

    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Review(enum.StrEnum):
    """Staff's review of a published idea. Only feasible ideas reach the ballot."""

    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    MERGED = "merged"  # a duplicate, merged into ``merged_into``


class ProjectStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class BudgetProcess(db.Model):
    """One citizen budget. Its scope is a committee's field, a local area, or (neither set)
    the whole municipality. With rows in ``budget_area_amounts`` the money is split by local
    area: each voter chooses one area and votes in that area's budget only."""

    __tablename__ = "budget_processes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    total_amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="DKK")
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # One of budgets.counting.RULES: "greedy", "greedy-no-skip", "equalshares/add1",
    # "equalshares/add1-comparison" (and "equalshares" without completion, which only imported
    # elections use).
    rule: Mapped[str] = mapped_column(String(40), default="greedy")
    # How ties are settled (budgets.counting.TIE_BREAKS): "order" (the project order: the
    # file's for an imported election), "cost" (cheaper first) or "random" with the published
    # ``tie_seed``.
    tie_break: Mapped[str] = mapped_column(String(20), default="cost", server_default="cost")
    tie_seed: Mapped[int | None] = mapped_column(BigInteger)
    ballot_style: Mapped[BallotStyle] = mapped_column(
        string_enum(BallotStyle, "budget_ballot_style"), default=BallotStyle.APPROVAL_BUDGET
    )
    min_choices: Mapped[int | None] = mapped_column(Integer)  # approval_range
    max_choices: Mapped[int | None] = mapped_column(Integer)  # approval_range
    points_total: Mapped[int | None] = mapped_column(Integer)  # points
    phase: Mapped[Phase] = mapped_column(string_enum(Phase, "budget_phase"), default=Phase.DRAFT)
    phase_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Pabulib META of an imported election (kept for export); empty for our own processes.
    meta: Mapped[dict] = mapped_column(JSON, default=dict)

    committee: Mapped[Committee | None] = relationship()
    area: Mapped[Area | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    phase_dates: Mapped[list[PhaseDate]] = relationship(
        back_populates="process", cascade="all, delete-orphan", order_by="PhaseDate.starts_at"
    )
    area_amounts: Mapped[list[AreaAmount]] = relationship(
        back_populates="process", cascade="all, delete-orphan"
    )

    @property
    def is_imported(self) -> bool:
        return bool(self.meta)

    @property
    def has_area_budgets(self) -> bool:
        return bool(self.area_amounts)

    def starts(self, phase: Phase) -> datetime | None:
        for d in self.phase_dates:
            if d.phase == phase:
                return d.starts_at
        return None


class PhaseDate(db.Model):
    """When a phase starts (UTC). ``flask budgets advance`` moves processes on at that time."""

    __tablename__ = "budget_phase_dates"

    process_id: Mapped[int] = mapped_column(
        ForeignKey("budget_processes.id", ondelete="CASCADE"), primary_key=True
    )
    phase: Mapped[Phase] = mapped_column(string_enum(Phase, "budget_phase"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime)

    process: Mapped[BudgetProcess] = relationship(back_populates="phase_dates")


class AreaAmount(db.Model):
    """The part of a process's money set aside for one local area."""

    __tablename__ = "budget_area_amounts"

    process_id: Mapped[int] = mapped_column(
        ForeignKey("budget_processes.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)

    process: Mapped[BudgetProcess] = relationship(back_populates="area_amounts")
    area: Mapped[Area] = relationship()


class Idea(db.Model):
    """A project idea. Published ones have a debate thread (``topic``); imported projects have
    none and carry their Pabulib ``external_id``. ``final_cost`` is set by the review and is
    what the ballot and the count use."""

    __tablename__ = "budget_ideas"
    __table_args__ = (
        UniqueConstraint("process_id", "external_id", name="uq_budget_ideas_process_external"),
        UniqueConstraint("author_id", "client_nonce", name="uq_budget_ideas_author_nonce"),
        Index("ix_budget_ideas_process_state", "process_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("budget_processes.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    estimated_cost: Mapped[Decimal] = mapped_column(Money)
    final_cost: Mapped[Decimal | None] = mapped_column(Money)
    state: Mapped[IdeaState] = mapped_column(
        string_enum(IdeaState, "budget_idea_state"), default=IdeaState.PENDING
    )
    moderation_reason: Mapped[str] = mapped_column(Text, default="")  # shown to the author
    review: Mapped[Review | None] = mapped_column(string_enum(Review, "budget_review"))
    review_reason: Mapped[str] = mapped_column(Text, default="")  # public
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("budget_ideas.id"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    external_id: Mapped[str | None] = mapped_column(String(64))
    # An imported project's other Pabulib columns (category, score, ...), kept for export.
    source_columns: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A per-form random value: a double-submitted form finds its first idea.
    client_nonce: Mapped[str | None] = mapped_column(String(64))

    process: Mapped[BudgetProcess] = relationship()
    author: Mapped[User | None] = relationship()
    area: Mapped[Area | None] = relationship()
    topic: Mapped[Topic | None] = relationship()
    merged_into: Mapped[Idea | None] = relationship(remote_side=[id])

    @property
    def key(self) -> str:
        """The project id the counting rules and Pabulib files use: the imported id, or ours."""
        return self.external_id or str(self.id)

    @property
    def cost(self) -> Decimal:
        """What the project costs on the ballot: the reviewed cost, else the estimate."""
        return self.final_cost if self.final_cost is not None else self.estimated_cost

    @property
    def on_ballot(self) -> bool:
        return self.state == IdeaState.PUBLISHED and self.review == Review.FEASIBLE


class IdeaSupport(db.Model):
    """A user's support for an idea during idea collection."""

    __tablename__ = "budget_idea_supports"

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("budget_ideas.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class IdeaReview(db.Model):
    """One review decision (feasible, infeasible, merged), kept as history; the idea's own
    columns hold the latest."""

    __tablename__ = "budget_idea_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(
        ForeignKey("budget_ideas.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[Review] = mapped_column(string_enum(Review, "budget_review"))
    reason: Mapped[str] = mapped_column(Text, default="")
    final_cost: Mapped[Decimal | None] = mapped_column(Money)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("budget_ideas.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()


class Ballot(db.Model):
    """One voter's ballot in one process: at most one per account (the unique constraint makes
    two tabs submitting at once update one row). Imported ballots have no account and carry
    the Pabulib ``voter_ref`` instead. ``area_id`` is the area budget the voter chose (or,
    without area budgets, where they said they live, for the participation figures)."""

    __tablename__ = "budget_ballots"
    __table_args__ = (
        UniqueConstraint("process_id", "user_id", name="uq_budget_ballots_process_user"),
        UniqueConstraint("process_id", "voter_ref", name="uq_budget_ballots_process_voter_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("budget_processes.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    voter_ref: Mapped[str | None] = mapped_column(String(64))
    # An imported ballot's other Pabulib columns (age, sex, ...), kept for export.
    source_columns: Mapped[dict | None] = mapped_column(JSON)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)  # 1 + number of changes
    receipt: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    area: Mapped[Area | None] = relationship()
    choices: Mapped[list[BallotChoice]] = relationship(
        back_populates="ballot", cascade="all, delete-orphan", passive_deletes=True
    )


class BallotChoice(db.Model):
    """A project chosen on a ballot; ``points`` is 1 for approval ballots."""

    __tablename__ = "budget_ballot_choices"

    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("budget_ballots.id", ondelete="CASCADE"), primary_key=True
    )
    idea_id: Mapped[int] = mapped_column(
        ForeignKey("budget_ideas.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    points: Mapped[int] = mapped_column(Integer, default=1)

    ballot: Mapped[Ballot] = relationship(back_populates="choices")
    idea: Mapped[Idea] = relationship()


class Result(db.Model):
    """The latest count of one budget: the whole process, or one area's part of it. A recount
    replaces the rows (results are derived from the ballots and can always be recomputed)."""

    __tablename__ = "budget_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("budget_processes.id", ondelete="CASCADE"), index=True
    )
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    rule: Mapped[str] = mapped_column(String(40))
    budget: Mapped[Decimal] = mapped_column(Money)
    total_cost: Mapped[Decimal] = mapped_column(Money)
    ballots: Mapped[int] = mapped_column(Integer)
    # Voters with at least one project they chose among the funded ones.
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    # Equal Shares: each voter's share in the run that gave the outcome, and how many times
    # the add1 completion raised it by one unit.
    voter_budget: Mapped[float | None] = mapped_column(Float)
    raises: Mapped[int | None] = mapped_column(Integer)
    # equalshares/add1-comparison: {"prefer_equal_shares": n, "prefer_greedy": n, "winner": ...}
    comparison: Mapped[dict | None] = mapped_column(JSON)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    counted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    counted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    area: Mapped[Area | None] = relationship()
    lines: Mapped[list[ResultLine]] = relationship(
        back_populates="result",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ResultLine.position",
    )


class ResultLine(db.Model):
    """One project in a result: its votes (or points), whether it was funded and, for Equal
    Shares, how its supporters paid (see ``budgets.counting.Funding``)."""

    __tablename__ = "budget_result_lines"

    result_id: Mapped[int] = mapped_column(
        ForeignKey("budget_results.id", ondelete="CASCADE"), primary_key=True
    )
    idea_id: Mapped[int] = mapped_column(
        ForeignKey("budget_ideas.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # funded first, in funding order
    funded: Mapped[bool] = mapped_column(Boolean, default=False)
    cost: Mapped[Decimal] = mapped_column(Money)
    score: Mapped[int] = mapped_column(BigInteger, default=0)  # votes, or points
    supporters: Mapped[int] = mapped_column(Integer, default=0)  # ballots choosing it
    full_share: Mapped[float | None] = mapped_column(Float)
    full_payers: Mapped[int | None] = mapped_column(Integer)
    partial_payers: Mapped[int | None] = mapped_column(Integer)
    partial_total: Mapped[float | None] = mapped_column(Float)
    nothing_left: Mapped[int | None] = mapped_column(Integer)

    result: Mapped[Result] = relationship(back_populates="lines")
    idea: Mapped[Idea] = relationship()


class StatusUpdate(db.Model):
    """Progress of a funded project, told to its followers and voters."""

    __tablename__ = "budget_status_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(
        ForeignKey("budget_ideas.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ProjectStatus] = mapped_column(
        string_enum(ProjectStatus, "budget_project_status")
    )
    happened_on: Mapped[date] = mapped_column(Date)
    text_source: Mapped[str] = mapped_column(Text, default="")
    text_html: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class Notice(db.Model):
    """What a budget notification is about: the forum's ``Notification`` row has no column
    for an idea, so this row names it (and keeps the reason or update text shown)."""

    __tablename__ = "budget_notices"

    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    idea_id: Mapped[int | None] = mapped_column(
        ForeignKey("budget_ideas.id", ondelete="CASCADE"), index=True
    )
    process_id: Mapped[int] = mapped_column(ForeignKey("budget_processes.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text, default="")

    notification: Mapped[Notification] = relationship()
    idea: Mapped[Idea | None] = relationship()
    process: Mapped[BudgetProcess] = relationship()
