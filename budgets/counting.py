"""Counting rules for citizen budgets: greedy by votes, and the Method of Equal Shares.

Pure Python, no Flask, no database. Inputs are plain mappings and sequences:

* ``projects_costs``: project id → cost (a non-negative amount of money: an int or a
  :class:`~decimal.Decimal`, never a float), in the project order (the file's order for an
  imported election), which the default tie-breaking follows;
* approval ballots: each a collection of project ids;
* cumulative (points) ballots: each a mapping project id → points.

Rules, by the names Pabulib files use in META ``rule``:

``greedy``
    Projects by score (approvals, or the sum of points) from the top; a project that no longer fits
    in what is left of the budget is skipped and the next one is tried. This is what most cities
    (and Decidim and CONSUL) call "the projects with the most votes". A project below the
    election's ``threshold`` (Pabulib's META ``min_project_score_threshold``) is never funded.
``greedy-no-skip``
    The same, but counting stops at the first project that does not fit.
``equalshares``
    The Method of Equal Shares (Peters & Skowron) without completion.
``equalshares/add1``
    Equal Shares, completed by raising every voter's share one unit at a time while the outcome
    still fits in the budget (see :func:`equal_shares`). Assen 2024 used it (its file here,
    tests/budgets/data/pabulib, is reproduced by the tests).
``equalshares/add1-comparison`` (and ``equalshares-comparison``, without completion)
    ``equalshares/add1``, then compared with ``greedy``: the outcome more voters prefer is the
    result (see :func:`compare_with_greedy`), as Pabulib's checker defines the comparison step
    (github.com/pabulib/checker: a voter prefers the outcome funding more of their projects).
``greedy-threshold``
    Pabulib's name for ``greedy`` with META ``min_project_score_threshold``.

An earlier version of this docstring said that Świecie 2023 and Wieliczka 2023 used
``equalshares/add1``; that was never checked against their files (neither is here) and is
withdrawn.

Ties: ``tie_break`` is ``"order"`` (the project order: the file's for an imported election,
which reproduces Warszawa 2019 Targówek Mieszkaniowy and Częstochowa 2024 Dzbów), ``"cost"``
(the cheaper project first, then the project order) or ``"random"`` (a shuffle of the projects
drawn from a published ``seed``). Equal Shares breaks a tie in price first by lower cost, then by
more supporters (as equalshares.net does), and only then by ``tie_break``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from operator import itemgetter, mul
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from budgets.pabulib import Election

__all__ = [
    "EPSILON",
    "RULES",
    "CountResult",
    "TIE_BREAKS",
    "EqualSharesResult",
    "Funding",
    "Rule",
    "approval_scores",
    "compare_with_greedy",
    "count",
    "tie_ranks",
    "equal_shares",
    "greedy",
    "points_scores",
]

Rule = Literal[
    "greedy",
    "greedy-no-skip",
    "greedy-threshold",
    "equalshares",
    "equalshares-comparison",
    "equalshares/add1",
    "equalshares/add1-comparison",
]
RULES: tuple[str, ...] = (
    "greedy",
    "greedy-no-skip",
    "greedy-threshold",
    "equalshares",
    "equalshares-comparison",
    "equalshares/add1",
    "equalshares/add1-comparison",
)
GREEDY_RULES = ("greedy", "greedy-no-skip", "greedy-threshold")
COMPARISON_RULES = ("equalshares-comparison", "equalshares/add1-comparison")
TIE_BREAKS: tuple[str, ...] = ("order", "cost", "random")
Money = int | Decimal

ApprovalBallot = Collection[str]
PointsBallot = Mapping[str, int | float]
Ballots = Sequence[ApprovalBallot] | Sequence[PointsBallot]

# Relative tolerance of Equal Shares' floating-point comparisons. Two prices per unit of utility
# closer than this are a tie (settled by the tie-breaking order), and supporters whose money falls
# short of a cost by less than this still count as able to pay it. Money sums of this size carry
# rounding errors around 1e-15 relative, so real differences are never this small in practice.
EPSILON = 1e-9


def tie_ranks(
    projects_costs: Mapping[str, Money], tie_break: str = "order", seed: int | None = None
) -> dict[str, int]:
    """Project id → its place in the tie-breaking order (lower wins a tie).

    ``"order"``: the order of ``projects_costs``; ``"cost"``: cheaper first, then that order;
    ``"random"``: a shuffle by :class:`random.Random` seeded with ``seed`` (required), so anyone
    with the seed can redo it.
    """
    ids = list(projects_costs)
    if tie_break == "order":
        pass
    elif tie_break == "cost":
        place = {pid: k for k, pid in enumerate(ids)}
        ids.sort(key=lambda pid: (projects_costs[pid], place[pid]))
    elif tie_break == "random":
        if seed is None:
            raise ValueError("random tie-breaking needs a seed")
        random.Random(seed).shuffle(ids)
    else:
        raise ValueError(f"unknown tie-breaking {tie_break!r}; use one of {', '.join(TIE_BREAKS)}")
    return {pid: k for k, pid in enumerate(ids)}


def _check_costs(projects_costs: Mapping[str, Money], budget: Money | float) -> None:
    if budget < 0:
        raise ValueError(f"budget must not be negative, got {budget}")
    for project_id, cost in projects_costs.items():
        if cost < 0:
            raise ValueError(f"cost of project {project_id!r} must not be negative, got {cost}")


# --------------------------------------------------------------------------------------------
# Scores and greedy rules
# --------------------------------------------------------------------------------------------


def approval_scores(ballots: Iterable[ApprovalBallot]) -> dict[str, int]:
    """Number of ballots approving each project (projects nobody approved are absent)."""
    scores: dict[str, int] = {}
    for ballot in ballots:
        for project_id in ballot:
            scores[project_id] = scores.get(project_id, 0) + 1
    return scores


def points_scores(ballots: Iterable[PointsBallot]) -> dict[str, int | float]:
    """Sum of the points each project received (projects with no points are absent)."""
    scores: dict[str, int | float] = {}
    for ballot in ballots:
        for project_id, points in ballot.items():
            scores[project_id] = scores.get(project_id, 0) + points
    return scores


def greedy(
    projects_costs: Mapping[str, Money],
    scores: Mapping[str, int | float],
    budget: Money,
    skip: bool = True,
    threshold: int | float | None = None,
    ranks: Mapping[str, int] | None = None,
) -> list[str]:
    """Fund projects by score from the top while the money lasts; return them in funding order.

    Ties in score follow ``ranks`` (see :func:`tie_ranks`; by default the order of
    ``projects_costs``, which is the file's for an imported election: it reproduces Warszawa 2019
    Targówek Mieszkaniowy and Częstochowa 2024 Dzbów, where a tie decides a project). A project
    with no votes (score 0 or absent), or with a score below ``threshold``, is never funded. With
    ``skip=False`` ("greedy-no-skip") counting stops at the first project that does not fit.
    """
    _check_costs(projects_costs, budget)
    if ranks is None:
        ranks = tie_ranks(projects_costs)
    least = threshold or 0
    ranked = sorted(
        (
            project_id
            for project_id in projects_costs
            if scores.get(project_id, 0) > 0 and scores.get(project_id, 0) >= least
        ),
        key=lambda pid: (-scores[pid], ranks[pid]),
    )
    selected: list[str] = []
    left = budget
    for project_id in ranked:
        cost = projects_costs[project_id]
        if cost <= left:
            selected.append(project_id)
            left -= cost
        elif not skip:
            break
    return selected


# --------------------------------------------------------------------------------------------
# Method of Equal Shares
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Funding:
    """How the supporters of one project selected by Equal Shares paid for it.

    ``full_share`` is what a supporter who still had enough money paid: for approval ballots the
    amount per supporter, for points ballots the amount per point. Supporters with less money left
    paid all of it (``partial_payers`` people, ``partial_total`` together); supporters with nothing
    left paid nothing. The payments add up to ``cost`` (up to floating-point rounding).
    """

    project_id: str
    cost: Money
    order: int  # 1 for the first project chosen, 2 for the second, ...
    supporters: int
    full_share: float
    full_payers: int
    partial_payers: int
    partial_total: float
    nothing_left: int


@dataclass(frozen=True)
class EqualSharesResult:
    """The outcome of :func:`equal_shares`.

    ``selected`` is in the order the method chose the projects. ``voter_budget`` is each voter's
    virtual share of the budget in the run that produced the outcome: the real budget divided by
    the number of voters, or more when the add1 completion raised it (``raises`` times by one unit).
    ``runs`` counts the Equal Shares computations the completion needed (for benchmarks).
    """

    selected: list[str]
    total_cost: Money
    budget: Money
    voter_budget: float
    raises: int
    runs: int
    funding: dict[str, Funding] = field(default_factory=dict)

    @property
    def payments(self) -> dict[str, float]:
        """Project id → the share a supporter with enough money left paid for it (per supporter
        for approval ballots, per point for points ballots); see :class:`Funding` for the rest."""
        return {project_id: f.full_share for project_id, f in self.funding.items()}


@dataclass
class _Instance:
    """Ballots grouped by identical content, and per project the groups that support it.

    For projects whose supporters all have the same utility (every approval project, and points
    projects where everyone gave the same points) the supporting groups are split into single
    ballots (``unit_money``) and repeated ballots (``heavy_*``), so the common case of a group of
    weight one is handled with plain lists of floats.
    """

    ids: list[str]
    costs: list[Money]  # exact, for totals
    fcosts: list[float]  # the same as floats, for prices (Equal Shares' shares are real numbers)
    ranks: list[int]  # tie-breaking places (see tie_ranks)
    weights: list[int]  # per group: number of identical ballots
    supporters: list[list[int]]  # per project: indices of supporting groups
    supporter_weights: list[list[int]]  # aligned with supporters
    utilities: list[list[float] | None]  # aligned with supporters; None when all equal
    common_utility: list[float]  # the utility when ``utilities[j]`` is None
    support: list[int]  # number of supporting voters
    total_utility: list[float]  # sum of weight × utility over supporters
    unit_money: list[Callable[[list[float]], Sequence[float]]]  # budgets → money of weight-1 groups
    heavy_money: list[Callable[[list[float]], Sequence[float]]]  # budgets → money of the others
    heavy_weights: list[list[int]]  # aligned with heavy_money's result
    n_voters: int
    with_points: bool


def _gatherer(indices: list[int]) -> Callable[[list[float]], Sequence[float]]:
    """A fast ``lambda values: [values[i] for i in indices]`` (itemgetter works in C)."""
    if not indices:
        return lambda values: ()
    if len(indices) == 1:
        only = indices[0]
        return lambda values: (values[only],)
    return itemgetter(*indices)


def _group_ballots(ids: list[str], ballots: Ballots) -> tuple[dict[tuple[Any, ...], int], bool]:
    """Group identical ballots: key → number of ballots, and whether they carry points.

    An approval key is the sorted tuple of project positions; a points key is the sorted tuple of
    (position, points) pairs with positive points. Identical ballots are treated identically by
    every rule, so counting groups with weights gives the same result as counting ballots.
    """
    index = {project_id: j for j, project_id in enumerate(ids)}

    def position(project_id: str) -> int:
        try:
            return index[project_id]
        except KeyError:
            raise ValueError(f"a ballot names unknown project {project_id!r}") from None

    kinds = set()
    for ballot in ballots:
        if isinstance(ballot, str):
            raise TypeError("a ballot is a string; pass a collection of project ids")
        kinds.add(isinstance(ballot, Mapping))
    if len(kinds) > 1:
        raise ValueError("ballots mix approval sets and points; use one kind")
    with_points = kinds == {True}
    groups: dict[tuple[Any, ...], int] = {}
    for ballot in ballots:
        if isinstance(ballot, Mapping):
            pairs = ((position(p), u) for p, u in ballot.items() if u > 0)
            key: tuple[Any, ...] = tuple(sorted(pairs))
        else:
            key = tuple(sorted({position(p) for p in ballot}))
        groups[key] = groups.get(key, 0) + 1
    return groups, with_points


def _prepare(
    projects_costs: Mapping[str, Money],
    ballots: Ballots,
    approval_utility: Literal["cost", "unit"],
    ranks: Mapping[str, int] | None = None,
) -> _Instance:
    ids = list(projects_costs)
    costs = [projects_costs[project_id] for project_id in ids]
    fcosts = [float(c) for c in costs]
    place = ranks if ranks is not None else tie_ranks(projects_costs)
    m = len(ids)
    groups, with_points = _group_ballots(ids, ballots)

    weights: list[int] = []
    supporters: list[list[int]] = [[] for _ in range(m)]
    supporter_weights: list[list[int]] = [[] for _ in range(m)]
    raw_utilities: list[list[float]] = [[] for _ in range(m)]
    for g, (key, weight) in enumerate(groups.items()):
        weights.append(weight)
        for item in key:
            j = item[0] if with_points else item
            supporters[j].append(g)
            supporter_weights[j].append(weight)
            if with_points:
                raw_utilities[j].append(float(item[1]))

    utilities: list[list[float] | None] = []
    common: list[float] = []
    for j in range(m):
        if with_points and len(set(raw_utilities[j])) > 1:
            utilities.append(raw_utilities[j])
            common.append(0.0)
        elif with_points:
            utilities.append(None)
            common.append(raw_utilities[j][0] if raw_utilities[j] else 1.0)
        else:
            utilities.append(None)
            # Cost utilities: a supporter values a project at its cost, so projects are compared
            # by the share each supporter pays per unit of the project's cost.
            use_cost = approval_utility == "cost" and costs[j] > 0
            common.append(fcosts[j] if use_cost else 1.0)
    support = [sum(ws) for ws in supporter_weights]
    total_utility = [
        support[j] * common[j] if utilities[j] is None else sum(map(mul, supporter_weights[j], u))
        for j, u in enumerate(utilities)
    ]
    unit_money = []
    heavy_money = []
    heavy_weights = []
    for j in range(m):
        pairs = list(zip(supporters[j], supporter_weights[j], strict=True))
        unit_money.append(_gatherer([g for g, w in pairs if w == 1]))
        heavy_money.append(_gatherer([g for g, w in pairs if w > 1]))
        heavy_weights.append([w for _, w in pairs if w > 1])
    return _Instance(
        ids=ids,
        costs=costs,
        fcosts=fcosts,
        ranks=[place[project_id] for project_id in ids],
        weights=weights,
        supporters=supporters,
        supporter_weights=supporter_weights,
        utilities=utilities,
        common_utility=common,
        support=support,
        total_utility=total_utility,
        unit_money=unit_money,
        heavy_money=heavy_money,
        heavy_weights=heavy_weights,
        n_voters=len(ballots),
        with_points=with_points,
    )


def _price(inst: _Instance, budgets: list[float], j: int) -> float | None:
    """The least price per unit of utility at which project ``j``'s supporters can pay its cost.

    Each supporter pays ``min(own money, price × utility)``; the price is the smallest one at
    which those payments cover the cost. ``None`` when all the supporters' money together falls
    short of the cost (by more than the relative ``EPSILON``).
    """
    cost = inst.fcosts[j]
    if cost == 0:
        return 0.0
    if inst.utilities[j] is not None:
        return _price_by_points(inst, budgets, j)
    # Every supporter has the same utility: find the payment per supporter, then divide.
    unit_money = inst.unit_money[j](budgets)
    heavy_weights = inst.heavy_weights[j]
    heavy_money: Sequence[float] = ()
    if heavy_weights:
        heavy_money = inst.heavy_money[j](budgets)
    share = cost / inst.support[j]
    poorest = min(min(unit_money, default=math.inf), min(heavy_money, default=math.inf))
    if poorest >= share:
        return share / inst.common_utility[j]  # everyone can pay an equal share
    total = sum(unit_money)
    if heavy_weights:
        total += sum(map(mul, heavy_money, heavy_weights))
    if total < cost * (1.0 - EPSILON):
        return None
    due = _equal_share(cost, inst.support[j], unit_money, heavy_money, heavy_weights)
    return due / inst.common_utility[j]


def _equal_share(
    cost: float,
    payers: int,
    unit_money: Sequence[float],
    heavy_money: Sequence[float],
    heavy_weights: list[int],
) -> float:
    """The payment ``p`` with ``sum(weight × min(money, p)) == cost`` over all supporters.

    Think of the supporters from the poorest up: whoever cannot pay an equal part of what is still
    due pays all they have; once one can, everyone richer can too, and that part is the answer.
    The first supporter who can is found by binary search over the running totals of what the
    poorer ones hold (whether a supporter can pay only grows along that order). Usually few
    supporters run short, so only those below ``limit`` (first twice the plain ``cost / payers``)
    are sorted; if the answer turns out above ``limit`` the search is redone with a higher one.
    Repeated ballots are spread into one entry per voter so that everything is a list of floats.
    """
    limit = 2.0 * cost / payers
    while True:
        lows = [m for m in unit_money if m < limit]
        for m, weight in zip(heavy_money, heavy_weights, strict=True):
            if m < limit:
                lows += [m] * weight
        lows.sort()
        held = list(accumulate(lows, initial=0.0))  # held[i]: money of the i poorest
        lo, hi = 0, len(lows)
        while lo < hi:
            mid = (lo + hi) // 2
            if lows[mid] >= (cost - held[mid]) / (payers - mid):
                hi = mid
            else:
                lo = mid + 1
        left = payers - lo
        if left == 0:
            # Everyone pays all they have; the shortfall is within EPSILON.
            return max(max(unit_money, default=0.0), max(heavy_money, default=0.0))
        due = (cost - held[lo]) / left
        if lo < len(lows) or due <= limit:
            return due  # the supporters from ``lo`` on (all with at least ``due``) pay ``due``
        limit = 2.0 * due


def _price_by_points(inst: _Instance, budgets: list[float], j: int) -> float | None:
    """:func:`_price` for supporters with different utilities (points ballots)."""
    cost = inst.fcosts[j]
    utilities = inst.utilities[j]
    assert utilities is not None
    weights = inst.supporter_weights[j]
    money = [budgets[g] for g in inst.supporters[j]]
    if sum(map(mul, money, weights)) < cost * (1.0 - EPSILON):
        return None
    ratios = [have / u for have, u in zip(money, utilities, strict=True)]
    price = cost / inst.total_utility[j]
    if min(ratios) >= price:
        return price
    paid = 0.0
    remaining = inst.total_utility[j]
    for ratio, have, weight, u in sorted(zip(ratios, money, weights, utilities, strict=True)):
        price = (cost - paid) / remaining
        if ratio >= price:
            return price
        paid += have * weight
        remaining -= weight * u
    return max(ratios)


def _tie_key(inst: _Instance, j: int) -> tuple[Money, int, int]:
    """Tie-breaking order: cheaper first, then more supporters (as equalshares.net), then the
    process's tie-breaking place (see :func:`tie_ranks`)."""
    return (inst.costs[j], -inst.support[j], inst.ranks[j])


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= EPSILON * max(abs(a), abs(b))


@dataclass
class _Run:
    chosen: list[int]
    total_cost: Money
    funding: dict[int, Funding]  # filled only when the run was asked to record


def _run(
    inst: _Instance, voter_budget: float, record: bool = False, cap: Money | None = None
) -> _Run:
    """One run of Equal Shares with every voter holding ``voter_budget``.

    With ``cap``, the run stops as soon as the projects chosen cost more than ``cap`` (the caller
    only needs to know that the outcome is over budget).

    Each round funds the affordable project with the lowest price per unit of utility (see
    :func:`_price`) and charges its supporters. Prices only rise from round to round (money only
    falls), so a project's last computed price is a lower bound for its current one: projects are
    tried lowest bound first, the round stops once a bound exceeds the best price found, and a
    project that became unaffordable is dropped for good. equalshares.net's reference
    implementation prunes the same way; it never changes the outcome.
    """
    budgets = [voter_budget] * len(inst.weights)
    bounds: dict[int, float] = {}
    for j, support in enumerate(inst.support):
        if support > 0:
            bounds[j] = 0.0 if inst.fcosts[j] == 0 else inst.fcosts[j] / inst.total_utility[j]
    chosen: list[int] = []
    funding: dict[int, Funding] = {}
    total_cost = 0
    while bounds:
        best: list[int] = []
        best_price = math.inf
        for j in sorted(bounds, key=bounds.__getitem__):
            bound = bounds[j]
            if bound > best_price and not _close(bound, best_price):
                break
            price = _price(inst, budgets, j)
            if price is None:
                del bounds[j]
                continue
            bounds[j] = price
            if best and _close(price, best_price):
                best.append(j)
                best_price = min(best_price, price)
            elif price < best_price:
                best, best_price = [j], price
        if not best:
            break
        winner = min(best, key=lambda j: _tie_key(inst, j))
        price = bounds.pop(winner)
        chosen.append(winner)
        total_cost += inst.costs[winner]
        if cap is not None and total_cost > cap:
            break
        if record:
            funding[winner] = _funding(inst, budgets, winner, price, order=len(chosen))
        _charge(inst, budgets, winner, price)
    return _Run(chosen=chosen, total_cost=total_cost, funding=funding)


def _charge(inst: _Instance, budgets: list[float], j: int, price: float) -> None:
    """Take project ``j``'s cost from its supporters at ``price`` per unit of utility: each pays
    price × utility, or all they have left if that is less."""
    groups = inst.supporters[j]
    utilities = inst.utilities[j]
    if utilities is None:
        due = price * inst.common_utility[j]
        for g in groups:
            have = budgets[g]
            budgets[g] = have - due if have > due else 0.0
    else:
        for g, u in zip(groups, utilities, strict=True):
            have = budgets[g]
            due = price * u
            budgets[g] = have - due if have > due else 0.0


def _funding(inst: _Instance, budgets: list[float], j: int, price: float, order: int) -> Funding:
    """Summarise who pays what for project ``j`` (call before :func:`_charge` takes the money)."""
    utilities = inst.utilities[j]
    common = inst.common_utility[j]
    full_payers = partial_payers = nothing_left = 0
    partial_total = 0.0
    weights = inst.supporter_weights[j]
    for k, g in enumerate(inst.supporters[j]):
        due = price * (common if utilities is None else utilities[k])
        have = budgets[g]
        if have >= due:
            full_payers += weights[k]
        elif have > 0.0:
            partial_payers += weights[k]
            partial_total += have * weights[k]
        else:
            nothing_left += weights[k]
    return Funding(
        project_id=inst.ids[j],
        cost=inst.costs[j],
        order=order,
        supporters=inst.support[j],
        # Per point for points ballots; per supporter for approval ballots.
        full_share=price if inst.with_points else price * common,
        full_payers=full_payers,
        partial_payers=partial_payers,
        partial_total=partial_total,
        nothing_left=nothing_left,
    )


def equal_shares(
    projects_costs: Mapping[str, Money],
    ballots: Ballots,
    budget: Money,
    completion: Literal["add1"] | None = "add1",
    approval_utility: Literal["cost", "unit"] = "cost",
    ranks: Mapping[str, int] | None = None,
) -> EqualSharesResult:
    """The Method of Equal Shares (Peters & Skowron), optionally with the add1 completion.

    Every voter starts with an equal share of the budget, ``budget / number of ballots`` (empty
    ballots count: their holders simply never spend). Round by round, the method funds the project
    whose supporters can pay for it at the lowest price per unit of utility, each paying the price
    times their utility or, if they have less, all they have left. It stops when no remaining
    project can be paid for by its supporters.

    Utilities: with approval ballots a supporter values a project at its cost
    (``approval_utility="cost"``, as on equalshares.net and in the official Equal Shares elections),
    so projects are compared by the share per supporter relative to the cost; ``"unit"`` values
    every approved project at 1 and compares the share per supporter itself. With points ballots
    the points are the utilities.

    Ties (prices equal within ``EPSILON``) go to the cheaper project, then to the one with more
    supporters (equalshares.net's two keys), then by ``ranks`` (see :func:`tie_ranks`; by default
    the order of ``projects_costs``).

    Completion ``"add1"``: Equal Shares rarely spends the whole budget, so it is run again with
    every voter's share raised to the next whole unit above ``budget / n``, then one unit more each
    time, for as long as the outcome still fits in the real budget; the last outcome that fits is
    the result. An outcome that leaves no room for another project does not stop the raising: a
    higher share can still change which projects win while the total stays within the budget.
    It stops at the first outcome that costs more than the budget, or once the outcome holds every
    project anyone supported (raising further cannot change the set).

    Every one-unit step is computed; none is skipped, so the result is exactly that of the
    one-unit definition. What keeps a step cheap: identical ballots are grouped; a round only
    prices the projects whose lower bound could still win, and a run that goes over the budget
    stops there (see :func:`_run`); and a price sorts only the supporters who may run short of
    money (see :func:`_equal_share`). ``bench/budget_count.py`` measures it.
    """
    _check_costs(projects_costs, budget)
    inst = _prepare(projects_costs, ballots, approval_utility, ranks)
    n = inst.n_voters
    if n == 0:
        return EqualSharesResult(
            selected=[], total_cost=0, budget=budget, voter_budget=0.0, raises=0, runs=0
        )
    if completion not in ("add1", None):
        raise ValueError(f"unknown completion {completion!r}; use 'add1' or None")
    runs = 1
    voter_budget = float(budget) / n
    run = _run(inst, voter_budget)
    raises = 0
    if completion == "add1":
        supported = sum(1 for s in inst.support if s > 0)
        step = int(budget // n)
        while len(run.chosen) < supported:
            step += 1
            runs += 1
            candidate = _run(inst, float(step), cap=budget)
            if candidate.total_cost > budget:
                break
            run, voter_budget, raises = candidate, float(step), raises + 1
    # The loop above only needs the outcomes; compute the payments of the one kept.
    run = _run(inst, voter_budget, record=True)
    return EqualSharesResult(
        selected=[inst.ids[j] for j in run.chosen],
        total_cost=run.total_cost,
        budget=budget,
        voter_budget=voter_budget,
        raises=raises,
        runs=runs,
        funding={inst.ids[j]: f for j, f in run.funding.items()},
    )


@dataclass(frozen=True)
class Comparison:
    """The comparison step of ``equalshares/add1-comparison``: how many voters prefer each
    outcome, and which one became the result (``"equalshares"`` or ``"greedy"``)."""

    prefer_equal_shares: int
    prefer_greedy: int
    winner: Literal["equalshares", "greedy"]
    greedy_selected: list[str]


def _satisfaction(
    ballot: ApprovalBallot | PointsBallot, funded: set[str], costs: Mapping[str, Money]
) -> Money | float:
    """How much a voter gets from ``funded``: how many of the projects they approved are
    funded (Pabulib's checker's "satisfaction" comparison), or for points ballots the points
    they gave to funded projects."""
    if isinstance(ballot, Mapping):
        return sum(points for pid, points in ballot.items() if pid in funded)
    return sum(1 for pid in ballot if pid in funded)


def compare_with_greedy(
    projects_costs: Mapping[str, Money],
    ballots: Ballots,
    equal_shares_selected: Collection[str],
    greedy_selected: Sequence[str],
) -> Comparison:
    """The comparison step (as Pabulib's checker computes it): every voter compares the Equal
    Shares outcome with the greedy one by what each gives them (see :func:`_satisfaction`);
    greedy becomes the result only when more voters prefer it than prefer Equal Shares (a tie
    keeps Equal Shares)."""
    mes, grd = set(equal_shares_selected), set(greedy_selected)
    prefer_mes = prefer_greedy = 0
    for ballot in ballots:
        a = _satisfaction(ballot, mes, projects_costs)
        b = _satisfaction(ballot, grd, projects_costs)
        if a > b:
            prefer_mes += 1
        elif b > a:
            prefer_greedy += 1
    return Comparison(
        prefer_equal_shares=prefer_mes,
        prefer_greedy=prefer_greedy,
        winner="greedy" if prefer_greedy > prefer_mes else "equalshares",
        greedy_selected=list(greedy_selected),
    )


# --------------------------------------------------------------------------------------------
# One entry point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountResult:
    """What :func:`count` found. ``scores`` are the plain vote (or point) totals, shown for every
    rule; ``equal_shares`` holds the Equal Shares details (``None`` for the greedy rules, and
    when the comparison step chose greedy); ``comparison`` the comparison step's figures."""

    rule: str
    selected: list[str]
    total_cost: Money
    budget: Money
    scores: dict[str, int | float]
    equal_shares: EqualSharesResult | None = None
    comparison: Comparison | None = None
    below_threshold: list[str] = field(default_factory=list)


def count(
    source: Election | tuple[Mapping[str, Money], Ballots, Money],
    rule: Rule | str | None = None,
    *,
    tie_break: str = "order",
    seed: int | None = None,
    threshold: int | float | None = None,
) -> CountResult:
    """Count an election with one of :data:`RULES`.

    ``source`` is either a parsed Pabulib :class:`~budgets.pabulib.Election` (its ``points`` make
    points ballots when its vote type is cumulative or scoring; otherwise ballots are approval
    sets: choose-1 and ordinal ballots count as approval of the projects they name) or a tuple
    ``(projects_costs, ballots, budget)``. ``rule`` defaults to the election's META ``rule``,
    ``threshold`` to its META ``min_project_score_threshold``: projects whose score is below it
    are left out before any rule runs (``below_threshold`` lists them). ``tie_break`` and ``seed``:
    see :func:`tie_ranks`. Raises ``ValueError`` for an unknown rule or a missing one.
    """
    if isinstance(source, tuple):
        costs, ballots, budget = source
    else:
        costs, ballots, budget = _inputs_from_election(source)
        if rule is None:
            rule = source.rule
        if threshold is None:
            threshold = source.score_threshold
    if rule is None:
        raise ValueError("no counting rule given, and the election does not name one")
    if rule not in RULES:
        raise ValueError(f"unknown counting rule {rule!r}; expected one of {', '.join(RULES)}")
    with_points = any(isinstance(ballot, Mapping) for ballot in ballots)
    scores = (
        points_scores(ballots)  # type: ignore[arg-type]
        if with_points
        else approval_scores(ballots)  # type: ignore[arg-type]
    )
    ranks = tie_ranks(costs, tie_break, seed)
    below: list[str] = []
    if threshold:
        below = [pid for pid in costs if scores.get(pid, 0) < threshold]
        left_out = set(below)
        eligible = {pid: cost for pid, cost in costs.items() if pid not in left_out}
        ballots = _without(ballots, left_out)
    else:
        eligible = dict(costs)
    if rule in GREEDY_RULES:
        skip = rule != "greedy-no-skip"
        selected = greedy(eligible, scores, budget, skip=skip, ranks=ranks)
        total = sum((costs[project_id] for project_id in selected), 0)
        return CountResult(
            rule=rule,
            selected=selected,
            total_cost=total,
            budget=budget,
            scores=scores,
            below_threshold=below,
        )
    result = equal_shares(
        eligible,
        ballots,
        budget,
        completion="add1" if rule.startswith("equalshares/add1") else None,
        ranks=ranks,
    )
    comparison = None
    if rule in COMPARISON_RULES:
        plain = greedy(eligible, scores, budget, ranks=ranks)
        comparison = compare_with_greedy(eligible, ballots, result.selected, plain)
        if comparison.winner == "greedy":
            return CountResult(
                rule=rule,
                selected=plain,
                total_cost=sum((costs[project_id] for project_id in plain), 0),
                budget=budget,
                scores=scores,
                comparison=comparison,
                below_threshold=below,
            )
    return CountResult(
        rule=rule,
        selected=result.selected,
        total_cost=result.total_cost,
        budget=budget,
        scores=scores,
        equal_shares=result,
        comparison=comparison,
        below_threshold=below,
    )


def _without(ballots: Ballots, left_out: set[str]) -> Ballots:
    """The ballots with the projects in ``left_out`` removed (they are not on the ballot)."""
    if not left_out:
        return ballots
    out: list = []
    for ballot in ballots:
        if isinstance(ballot, Mapping):
            out.append({pid: p for pid, p in ballot.items() if pid not in left_out})
        else:
            out.append(frozenset(pid for pid in ballot if pid not in left_out))
    return out


def _inputs_from_election(election: Election) -> tuple[dict[str, Money], Ballots, Money]:
    costs = election.costs()
    if election.vote_type in ("cumulative", "scoring"):
        points_ballots: list[dict[str, int]] = []
        for ballot in election.ballots:
            if ballot.points is None:
                raise ValueError(f"ballot of voter {ballot.voter_id!r} has no points")
            points_ballots.append(dict(zip(ballot.projects, ballot.points, strict=True)))
        return costs, points_ballots, election.budget
    # approval, choose-1 and ordinal: the projects a ballot names
    return costs, [frozenset(ballot.projects) for ballot in election.ballots], election.budget
