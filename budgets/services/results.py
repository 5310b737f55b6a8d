"""Counting the ballots, and the follow-up of funded projects."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import delete, select

from forum.errors import Conflict, InvalidInput
from forum.extensions import db
from forum.models import Follow, User, enum_member, utcnow
from forum.rendering import render_markdown

from .. import counting, permissions
from ..models import (
    Ballot,
    BallotChoice,
    BallotStyle,
    BudgetProcess,
    Idea,
    IdeaState,
    Phase,
    ProjectStatus,
    Result,
    ResultLine,
    Review,
    StatusUpdate,
)
from ._common import ORDER, _event, _idea_event, _require_manager, _text, notify

# --- counting --------------------------------------------------------------------------------


def _budgets_of(process: BudgetProcess) -> list[tuple[int | None, int]]:
    if process.has_area_budgets:
        return [(a.area_id, a.amount) for a in process.area_amounts]
    return [(None, process.total_amount)]


def _load_ballots(process: BudgetProcess) -> dict[int, tuple[int | None, dict[int, int]]]:
    """ballot id → (area id, {idea id: points}), including empty ballots, in two queries."""
    ballots: dict[int, tuple[int | None, dict[int, int]]] = {
        bid: (area, {})
        for bid, area in db.session.execute(
            select(Ballot.id, Ballot.area_id).where(Ballot.process_id == process.id)
        )
    }
    rows = db.session.execute(
        select(BallotChoice.ballot_id, BallotChoice.idea_id, BallotChoice.points)
        .join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.process_id == process.id)
    )
    for bid, idea_id, points in rows:
        ballots[bid][1][idea_id] = points
    return ballots


def _count_one(
    process: BudgetProcess,
    area_id: int | None,
    budget: int,
    ideas: list[Idea],
    ballots: list[dict[int, int]],
    actor_id: int | None,
) -> Result:
    key_of = {i.id: i.key for i in ideas}
    costs = {i.key: i.cost for i in ideas}
    points = process.ballot_style == BallotStyle.POINTS
    inputs: list = []
    for choice in ballots:
        if points:
            inputs.append({key_of[i]: p for i, p in choice.items() if i in key_of})
        else:
            inputs.append(frozenset(key_of[i] for i in choice if i in key_of))
    started = time.perf_counter()
    outcome = counting.count(
        (costs, inputs, budget),
        process.rule,
        tie_break=process.tie_break or "cost",
        seed=process.tie_seed,
        threshold=score_threshold(process),
    )
    seconds = time.perf_counter() - started
    selected = set(outcome.selected)
    satisfied = sum(1 for b in inputs if any(k in selected for k in b))
    supporters: dict[str, int] = {}
    for b in inputs:
        for k in b:
            supporters[k] = supporters.get(k, 0) + 1
    es = outcome.equal_shares
    result = Result(
        process_id=process.id,
        area_id=area_id,
        rule=process.rule,
        budget=budget,
        total_cost=outcome.total_cost,
        ballots=len(inputs),
        satisfied=satisfied,
        voter_budget=es.voter_budget if es else None,
        raises=es.raises if es else None,
        comparison=(
            {
                "prefer_equal_shares": outcome.comparison.prefer_equal_shares,
                "prefer_greedy": outcome.comparison.prefer_greedy,
                "winner": outcome.comparison.winner,
            }
            if outcome.comparison
            else None
        ),
        seconds=round(seconds, 4),
        counted_at=utcnow(),
        counted_by_id=actor_id,
    )
    db.session.add(result)
    by_key = {i.key: i for i in ideas}
    ranks = counting.tie_ranks(costs, process.tie_break or "cost", process.tie_seed)
    order = list(outcome.selected) + sorted(
        (k for k in costs if k not in selected),
        key=lambda k: (-outcome.scores.get(k, 0), ranks[k]),
    )
    for position, key in enumerate(order, start=1):
        funding = es.funding.get(key) if es else None
        result.lines.append(
            ResultLine(
                idea_id=by_key[key].id,
                position=position,
                funded=key in selected,
                cost=costs[key],
                score=int(outcome.scores.get(key, 0)),
                supporters=supporters.get(key, 0),
                full_share=funding.full_share if funding else None,
                full_payers=funding.full_payers if funding else None,
                partial_payers=funding.partial_payers if funding else None,
                partial_total=funding.partial_total if funding else None,
                nothing_left=funding.nothing_left if funding else None,
            )
        )
    return result


def count_process(actor: User | None, process: BudgetProcess) -> list[Result]:
    """Count the ballots with the process's rule (per area budget when the money is split)
    and replace the stored result. ``actor`` None: the scheduled count when voting closes.
    Staff may count on demand once voting has started; the public sees results from the
    result phase on."""
    if actor is not None:
        _require_manager(actor, process, _("Only staff may count the ballots."))
    if ORDER[process.phase] < ORDER[Phase.VOTING]:
        raise Conflict(_("There is nothing to count before voting starts."))
    old = select(Result.id).where(Result.process_id == process.id).scalar_subquery()
    db.session.execute(delete(ResultLine).where(ResultLine.result_id.in_(old)))
    db.session.execute(delete(Result).where(Result.process_id == process.id))
    ideas = ballot_ideas_all(process)
    ballots = _load_ballots(process)
    results = []
    for area_id, budget in _budgets_of(process):
        group = [i for i in ideas if not process.has_area_budgets or i.area_id == area_id]
        chosen = [
            choice
            for area, choice in ballots.values()
            if not process.has_area_budgets or area == area_id
        ]
        results.append(
            _count_one(process, area_id, budget, group, chosen, actor.id if actor else None)
        )
    db.session.flush()
    _event(
        "budget_counted",
        process,
        actor.id if actor else None,
        funded=sum(1 for r in results for line in r.lines if line.funded),
    )
    return results


def score_threshold(process: BudgetProcess) -> int | None:
    """The least score a project needs to be funded: an imported election's META
    ``min_project_score_threshold`` (checked when the file was read), else none."""
    value = str((process.meta or {}).get("min_project_score_threshold", "")).strip()
    try:
        return int(Decimal(value)) if value else None
    except InvalidOperation:
        return None


def ballot_ideas_all(process: BudgetProcess) -> list[Idea]:
    """Every project on the ballot, all areas, in id order."""
    return list(
        db.session.scalars(
            select(Idea)
            .where(
                Idea.process_id == process.id,
                Idea.state == IdeaState.PUBLISHED,
                Idea.review == Review.FEASIBLE,
            )
            .order_by(Idea.id)
        )
    )


# --- follow-up -------------------------------------------------------------------------------


def is_funded(idea: Idea) -> bool:
    return (
        db.session.scalar(
            select(ResultLine.idea_id)
            .join(Result, Result.id == ResultLine.result_id)
            .where(
                ResultLine.idea_id == idea.id,
                ResultLine.funded.is_(True),
                Result.process_id == idea.process_id,
            )
            .limit(1)
        )
        is not None
    )


def add_status_update(
    staff: User, idea: Idea, status: ProjectStatus | str, happened_on: date | None, text: str
) -> StatusUpdate:
    """Tell how a funded project is going. Followers of its debate thread and everyone whose
    ballot chose it are notified."""
    process = idea.process
    _require_manager(staff, process, _("Only staff may post status updates."))
    if not permissions.results_public(process):
        raise Conflict(_("Status updates start once the result is published."))
    if not is_funded(idea):
        raise Conflict(_("Only funded projects get status updates."))
    status = enum_member(ProjectStatus, status, status=_("Choose a status."))
    if happened_on is None:
        raise InvalidInput(happened_on=_("Enter the date."))
    text = _text(text, "text")
    update_row = StatusUpdate(
        idea_id=idea.id,
        status=status,
        happened_on=happened_on,
        text_source=text,
        text_html=str(render_markdown(text)),
        author_id=staff.id,
        created_at=utcnow(),
    )
    db.session.add(update_row)
    db.session.flush()
    followers = (
        db.session.scalars(select(Follow.user_id).where(Follow.topic_id == idea.topic_id)).all()
        if idea.topic_id
        else []
    )
    voters = db.session.scalars(
        select(Ballot.user_id)
        .join(BallotChoice, BallotChoice.ballot_id == Ballot.id)
        .where(BallotChoice.idea_id == idea.id, Ballot.user_id.is_not(None))
        .order_by(Ballot.user_id)
    ).all()
    recipients = [u for u in dict.fromkeys([*followers, *voters]) if u != staff.id]
    notify(recipients, "budget_status", process, idea, text=status.value)
    _idea_event("budget_status_update", idea, staff.id)
    db.session.flush()
    return update_row
