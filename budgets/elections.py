"""Pabulib elections in and out of the database: load a past election as a process in its
result phase (projects as feasible ideas, ballots without accounts), and write a process back
as a ``.pb`` election with our count's ``selected`` column.

The parser (:mod:`budgets.pabulib`) checks the file itself; this module checks that the
election fits a process (a counting rule we know, a vote type we can show) and writes it in
the caller's transaction, flushing, never committing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import insert, select

from forum import eventlog
from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import User, utcnow
from forum.rendering import render_markdown

from . import counting
from .models import (
    Ballot,
    BallotChoice,
    BallotStyle,
    BudgetProcess,
    Idea,
    IdeaState,
    Phase,
    Result,
    ResultLine,
    Review,
)
from .pabulib import Ballot as PbBallot
from .pabulib import Election, PabulibError
from .pabulib import Project as PbProject

BATCH = 2000
APPROVAL_TYPES = ("approval", "choose-1", "ordinal")
POINTS_TYPES = ("cumulative", "scoring")
CITATION = (
    "Data: Pabulib (pabulib.org); Faliszewski et al., “Participatory Budgeting: Data, Tools, "
    "and Analysis”, IJCAI 2023."
)


def _style(election: Election) -> tuple[BallotStyle, int | None, int | None, int | None]:
    meta = election.meta
    vote_type = election.vote_type
    if vote_type in POINTS_TYPES:
        most = max((sum(b.points or ()) for b in election.ballots), default=1)
        points = _meta_int(meta, "max_sum_points") or max(most, 1)
        return BallotStyle.POINTS, None, None, points
    if vote_type not in APPROVAL_TYPES:
        raise InvalidInput(
            file=_(
                "Ballots of type “%(type)s” are not supported; use approval or cumulative ballots.",
                type=vote_type,
            )
        )
    if vote_type == "choose-1":
        return BallotStyle.APPROVAL_RANGE, 1, 1, None
    if "max_sum_cost" in meta and vote_type == "approval":
        return BallotStyle.APPROVAL_BUDGET, None, None, None
    # approval with a number of projects, and ordinal ballots (a ranking of some projects; it
    # is counted as approval of the projects ranked, and the ranks are kept for export)
    lo = _meta_int(meta, "min_length") or 1
    hi = _meta_int(meta, "max_length") or max(len(election.projects), lo)
    return BallotStyle.APPROVAL_RANGE, lo, hi, None


def _meta_int(meta: dict[str, str], key: str) -> int | None:
    value = meta.get(key, "").strip()
    if not value:
        return None
    try:
        return int(Decimal(value))
    except (InvalidOperation, ValueError, OverflowError):
        return None


def _title(election: Election, fallback: str) -> str:
    meta = election.meta
    parts = [
        meta.get("unit", ""),
        meta.get("subunit") or meta.get("district", ""),
        meta.get("instance", ""),
    ]
    title = " ".join(p.strip() for p in parts if p and p.strip()) or meta.get("description", "")
    return (title or fallback)[:200]


def import_election(
    election: Election,
    *,
    title: str | None = None,
    rule: str | None = None,
    actor: User | None = None,
    source: str = "",
    progress: Callable[[int], None] | None = None,
) -> BudgetProcess:
    """Write ``election`` as a process in its result phase (not yet counted: call
    ``services.count_process``). ``rule`` overrides META ``rule``; ``progress(n)`` is called
    as each batch of ``n`` ballots is written. Raises ``InvalidInput`` (field ``file``) when
    the election cannot be a process; nothing is written then."""
    rule = rule or election.rule
    if rule is None:
        raise InvalidInput(file=_("The file names no counting rule (META rule); give one."))
    if rule not in counting.RULES:
        raise InvalidInput(
            file=_(
                "Unknown counting rule “%(rule)s”; known: %(known)s.",
                rule=rule,
                known=", ".join(counting.RULES),
            )
        )
    try:
        budget = election.budget
    except PabulibError as exc:
        raise InvalidInput(file=str(exc)) from None
    style, lo, hi, points = _style(election)
    currency = (election.meta.get("currency") or "DKK").strip().upper()[:3] or "DKK"
    description = "\n\n".join(
        p for p in (election.meta.get("description", "").strip(), CITATION) if p
    )
    now = utcnow()
    process = BudgetProcess(
        title=title or _title(election, source or "Pabulib"),
        description_source=description,
        description_html=str(render_markdown(description)),
        total_amount=budget,
        currency=currency,
        rule=rule,
        # the file's project order settles ties (see budgets.counting.tie_ranks)
        tie_break="order",
        ballot_style=style,
        min_choices=lo,
        max_choices=hi,
        points_total=points,
        phase=Phase.RESULT,
        phase_changed_at=now,
        created_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
        meta=dict(election.meta) | ({"source_file": source} if source else {}),
    )
    db.session.add(process)
    db.session.flush()
    ids: dict[str, int] = {}
    for project in election.projects:
        idea = Idea(
            process_id=process.id,
            title=(project.name or project.id)[:200],
            description_source="",
            description_html="",
            estimated_cost=project.cost,
            final_cost=project.cost,
            state=IdeaState.PUBLISHED,
            review=Review.FEASIBLE,
            external_id=project.id,
            source_columns={
                "votes": project.votes,
                "selected": project.selected,
                "extra": project.extra,
            },
            support_count=0,
            created_at=now,
            updated_at=now,
        )
        db.session.add(idea)
        db.session.flush()
        ids[project.id] = idea.id
    _insert_ballots(
        process,
        election.ballots,
        ids,
        style == BallotStyle.POINTS,
        election.vote_type == "ordinal",
        progress,
    )
    eventlog.record(
        "budget_process_imported",
        "budget_process",
        process.id,
        f"budget:{process.id}",
        {
            "process_id": process.id,
            "projects": len(ids),
            "ballots": len(election.ballots),
            "warnings": len(election.warnings),
        },
        actor.id if actor else None,
    )
    return process


def _insert_ballots(
    process: BudgetProcess,
    ballots: list[PbBallot],
    ids: dict[str, int],
    with_points: bool,
    ordinal: bool,
    progress: Callable[[int], None] | None,
) -> None:
    """Bulk inserts in batches: one statement for the ballots (returning their ids, in order)
    and one for their choices per batch. An ordinal ballot's choices carry their rank (1 for
    the first) as points: its count reads only which projects it names."""
    now = utcnow()
    for start in range(0, len(ballots), BATCH):
        batch = ballots[start : start + BATCH]
        rows = [
            {
                "process_id": process.id,
                "voter_ref": b.voter_id,  # at most 64 characters (checked by the parser)
                "source_columns": b.extra or None,
                "version": 1,
                "receipt": "",
                "created_at": now,
                "updated_at": now,
            }
            for b in batch
        ]
        new_ids = db.session.scalars(
            insert(Ballot).returning(Ballot.id, sort_by_parameter_order=True), rows
        ).all()
        choices = []
        for ballot_id, b in zip(new_ids, batch, strict=True):
            if with_points and b.points is not None:
                points = b.points
            elif ordinal:
                points = tuple(range(1, len(b.projects) + 1))
            else:
                points = (1,) * len(b.projects)
            for project_id, p in zip(b.projects, points, strict=True):
                if p > 0:
                    choices.append(
                        {"ballot_id": ballot_id, "idea_id": ids[project_id], "points": p}
                    )
        if choices:
            db.session.execute(insert(BallotChoice), choices)
        if progress is not None:
            progress(len(batch))
    db.session.flush()


def load_file(path: str | Path) -> Election:
    """Parse a ``.pb`` file, turning its errors into ``InvalidInput`` (field ``file``)."""
    from .pabulib import load

    try:
        return load(path)
    except PabulibError as exc:
        raise InvalidInput(file=str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(file=_("Cannot read the file: %(error)s", error=str(exc))) from None


def export_election(process: BudgetProcess, area_id: int | None = None) -> Election:
    """The process as a Pabulib election: one budget per file, so a process split by area is
    exported one area at a time (``area_id``). ``votes`` are the counted votes (or points) and
    ``selected`` our count's outcome, when it has been counted. Our own ballots are numbered
    1, 2, ... in an order that reveals neither the account nor the time of voting."""
    if process.has_area_budgets:
        amounts = {a.area_id: a for a in process.area_amounts}
        if area_id not in amounts:
            names = ", ".join(f"{a.area_id} ({a.area.name})" for a in process.area_amounts)
            raise InvalidInput(
                area_id=_("This budget is split by area; export one area: %(areas)s.", areas=names)
            )
        budget = _amount(amounts[area_id].amount)
    else:
        area_id, budget = None, _amount(process.total_amount)
    ideas = [
        i
        for i in db.session.scalars(
            select(Idea)
            .where(
                Idea.process_id == process.id,
                Idea.state == IdeaState.PUBLISHED,
                Idea.review == Review.FEASIBLE,
            )
            .order_by(Idea.id)
        )
        if not process.has_area_budgets or i.area_id == area_id
    ]
    lines = {
        line.idea_id: line
        for line in db.session.scalars(
            select(ResultLine)
            .join(Result, Result.id == ResultLine.result_id)
            .where(
                Result.process_id == process.id,
                Result.area_id.is_(area_id) if area_id is None else Result.area_id == area_id,
            )
        )
    }
    with_points = process.ballot_style == BallotStyle.POINTS
    source_type = str((process.meta or {}).get("vote_type", "")).strip().lower()
    if with_points:
        vote_type = source_type if source_type in POINTS_TYPES else "cumulative"
    else:
        vote_type = source_type if source_type in APPROVAL_TYPES else "approval"
    projects = [_export_project(i, lines.get(i.id), with_points) for i in ideas]
    key_of = {i.id: i.key for i in ideas}
    ballots = _export_ballots(process, area_id, key_of, with_points, vote_type == "ordinal")
    meta = {k: v for k, v in (process.meta or {}).items() if k != "source_file"}
    meta.update(
        {
            "description": meta.get("description") or process.title,
            "num_projects": str(len(projects)),
            "num_votes": str(len(ballots)),
            "budget": str(budget),
            "vote_type": vote_type,
            "rule": process.rule,
        }
    )
    if not process.is_imported or "currency" in meta:
        # an imported file without a currency stays without one (it round-trips)
        meta["currency"] = process.currency
    if not process.is_imported:
        meta.setdefault("country", "Denmark")
        meta.setdefault("unit", "Holbæk")
        meta.setdefault("instance", str(process.created_at.year))
        if process.ballot_style == BallotStyle.APPROVAL_BUDGET:
            meta["max_sum_cost"] = str(budget)
        elif process.ballot_style == BallotStyle.APPROVAL_RANGE:
            meta["min_length"] = str(process.min_choices or 1)
            meta["max_length"] = str(process.max_choices or len(projects))
        elif process.points_total:
            meta["max_sum_points"] = str(process.points_total)
    return Election(meta=meta, projects=projects, ballots=ballots)


def _amount(value: Decimal | int) -> Decimal | int:
    """An amount as a file writes it: whole amounts without decimals ("1000000", not the
    column's "1000000.00"), others with their two."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return value.quantize(Decimal("0.01"))


def _export_project(idea: Idea, line: ResultLine | None, with_points: bool) -> PbProject:
    """One project: ``votes`` is the number of ballots choosing it; for points ballots the
    points go in ``score`` (Pabulib's column for them), as the source file had them. An imported
    project keeps its other columns, and its votes and score until it is counted."""
    source = idea.source_columns or {}
    extra = dict(source.get("extra") or {})
    votes = source.get("votes")
    if line is not None:
        votes = line.supporters if with_points else line.score
        if with_points:
            extra["score"] = str(line.score)
    return PbProject(
        id=idea.key,
        cost=_amount(idea.cost),
        name=idea.title.replace("\n", " "),
        votes=votes,
        selected=int(line.funded) if line is not None else source.get("selected"),
        extra=extra,
    )


def _export_ballots(
    process: BudgetProcess,
    area_id: int | None,
    key_of: dict[int, str],
    with_points: bool,
    ordinal: bool = False,
) -> list[PbBallot]:
    stmt = select(Ballot.id, Ballot.voter_ref, Ballot.source_columns).where(
        Ballot.process_id == process.id
    )
    if process.has_area_budgets:
        stmt = stmt.where(Ballot.area_id == area_id)
    refs: dict[int, str | None] = {}
    extras: dict[int, dict[str, str]] = {}
    for bid, ref, columns in db.session.execute(stmt.order_by(Ballot.id)):
        refs[bid] = ref
        extras[bid] = dict(columns or {})
    chosen: dict[int, list[tuple[str, int]]] = {bid: [] for bid in refs}
    rows = db.session.execute(
        select(BallotChoice.ballot_id, BallotChoice.idea_id, BallotChoice.points)
        .join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.process_id == process.id)
        .order_by(BallotChoice.ballot_id, BallotChoice.idea_id)
    )
    for bid, idea_id, points in rows:
        if bid in chosen and idea_id in key_of:
            chosen[bid].append((key_of[idea_id], points))
    if ordinal:
        # an ordinal ballot's points are its ranks: the projects go out in ranked order
        for pairs in chosen.values():
            pairs.sort(key=lambda pair: pair[1])
    if process.is_imported:
        # An imported election keeps its voter ids, order and other columns, so it round-trips.
        order = [(refs[bid], chosen[bid], extras[bid]) for bid in refs]
    else:
        # Our own ballots are sorted by what they say and numbered 1, 2, ...: neither the
        # account nor the moment of voting (ballot ids grow with time) can be read back.
        order = [(None, pairs, {}) for pairs in sorted(chosen.values())]
    return [
        PbBallot(
            voter_id=ref or str(n),
            projects=tuple(k for k, _p in pairs),
            points=tuple(p for _k, p in pairs) if with_points else None,
            extra=extra,
        )
        for n, (ref, pairs, extra) in enumerate(order, start=1)
    ]
