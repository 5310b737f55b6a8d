"""Counting rules: the real elections' official results, hand examples, and a reference check."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import pytest

from budgets import pabulib
from budgets.counting import (
    approval_scores,
    count,
    equal_shares,
    greedy,
    points_scores,
    tie_ranks,
)

DATA = Path(__file__).resolve().parent / "data" / "pabulib"  # real elections (README there)
REAL_FILES = (
    "Netherlands_Assen_2024.pb",
    "Poland_Warszawa_2017_Anin.pb",
    "Poland_Czestochowa_2024_Dzbow.pb",
)


def _real_file(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"real Pabulib election {name} not found in {DATA} (shared data not present)")
    return path


# --- the real elections ----------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_election_reproduces_official_selection(name: str) -> None:
    election = pabulib.load(_real_file(name))
    official = {p.id for p in election.projects if p.selected}
    assert election.rule in ("greedy", "equalshares/add1")

    result = count(election)

    assert result.rule == election.rule
    assert set(result.selected) == official
    assert result.total_cost == sum(p.cost for p in election.projects if p.selected)
    assert result.total_cost <= election.budget


def test_assen_equal_shares_payments_add_up() -> None:
    election = pabulib.load(_real_file("Netherlands_Assen_2024.pb"))
    result = count(election).equal_shares
    assert result is not None
    assert result.voter_budget > election.budget / len(election.ballots)  # add1 raised it
    assert [f.order for f in result.funding.values()] == list(range(1, len(result.selected) + 1))
    for project_id, funding in result.funding.items():
        paid = funding.full_share * funding.full_payers + funding.partial_total
        assert paid == pytest.approx(float(funding.cost))
        assert funding.full_payers + funding.partial_payers + funding.nothing_left == (
            funding.supporters
        )
        assert result.payments[project_id] == funding.full_share


def test_czestochowa_points_scores_match_file() -> None:
    election = pabulib.load(_real_file("Poland_Czestochowa_2024_Dzbow.pb"))
    scores = count(election).scores
    for project in election.projects:
        assert scores.get(project.id, 0) == int(project.extra["score"])


def test_warsaw_scores_match_votes_column() -> None:
    election = pabulib.load(_real_file("Poland_Warszawa_2017_Anin.pb"))
    scores = count(election).scores
    assert {p.id: p.votes for p in election.projects} == {
        p.id: scores.get(p.id, 0) for p in election.projects
    }


# --- greedy ---------------------------------------------------------------------------------


def test_greedy_skips_what_no_longer_fits_and_no_skip_stops() -> None:
    costs = {"a": 60, "b": 50, "c": 30, "d": 10}
    scores = {"a": 9, "b": 8, "c": 7, "d": 6}
    # a fits (40 left), b does not, c fits (10 left), d fits (0 left).
    assert greedy(costs, scores, 100) == ["a", "c", "d"]
    # Without skipping, counting stops at b.
    assert greedy(costs, scores, 100, skip=False) == ["a"]
    assert count((costs, [{"a"}], 100), "greedy-no-skip").selected == ["a"]


def test_greedy_ties_follow_the_project_order_or_the_chosen_rule() -> None:
    costs = {"10": 50, "9": 50, "x": 40}
    scores = {"10": 5, "9": 5, "x": 5}
    # By default the project order (the file's): "10" before "9", whatever the ids say.
    assert greedy(costs, scores, 200) == ["10", "9", "x"]
    assert greedy(costs, scores, 90) == ["10", "x"]
    cheaper_first = tie_ranks(costs, "cost")
    assert greedy(costs, scores, 90, ranks=cheaper_first) == ["x", "10"]
    drawn = tie_ranks(costs, "random", seed=2027)
    assert drawn == tie_ranks(costs, "random", seed=2027)  # the published seed redoes it
    assert sorted(drawn.values()) == [0, 1, 2]
    assert count((costs, [{"10", "9", "x"}] * 5, 90), "greedy", tie_break="cost").selected == [
        "x",
        "10",
    ]
    with pytest.raises(ValueError, match="seed"):
        tie_ranks(costs, "random")


def test_greedy_never_funds_a_project_without_votes() -> None:
    assert greedy({"a": 10, "b": 10}, {"a": 3}, 100) == ["a"]


def test_scores() -> None:
    assert approval_scores([{"a", "b"}, {"a"}, set()]) == {"a": 2, "b": 1}
    assert points_scores([{"a": 7, "b": 3}, {"a": 10}]) == {"a": 17, "b": 3}


# --- Equal Shares on a hand example ---------------------------------------------------------

# Six voters want the A projects, four want B. Each project costs 100, the budget is 300.
MAJORITY = [{"A1", "A2", "A3"}] * 6
MINORITY = [{"B"}] * 4
HAND_COSTS = {"A1": 100, "A2": 100, "A3": 100, "B": 100}


def test_greedy_lets_the_majority_take_everything() -> None:
    result = count((HAND_COSTS, MAJORITY + MINORITY, 300), "greedy")
    assert result.selected == ["A1", "A2", "A3"]


def test_equal_shares_gives_the_minority_its_project() -> None:
    # Each voter holds 30. The six pay 100/6 each for A1, then hold 6 × 13.33 = 80 < 100, so
    # they cannot afford A2; the four can pay 25 each for B.
    plain = equal_shares(HAND_COSTS, MAJORITY + MINORITY, 300, completion=None)
    assert plain.selected == ["A1", "B"]
    assert plain.total_cost == 200
    b = plain.funding["B"]
    assert (b.full_share, b.full_payers, b.partial_payers) == (25.0, 4, 0)
    a1 = plain.funding["A1"]
    assert a1.full_share == pytest.approx(100 / 6)
    assert a1.order == 1 and b.order == 2

    # add1: at 34 per voter the six can afford A1 and A2 (33.33 each); 300 is then spent, and
    # stays so up to 49 per voter; at 50 the six afford all three A projects (400 > 300).
    completed = equal_shares(HAND_COSTS, MAJORITY + MINORITY, 300)
    assert completed.selected == ["A1", "A2", "B"]
    assert completed.total_cost == 300
    assert completed.voter_budget == 49
    assert completed.raises == 19
    assert count((HAND_COSTS, MAJORITY + MINORITY, 300), "equalshares/add1").selected == [
        "A1",
        "A2",
        "B",
    ]


def test_add1_keeps_raising_past_an_exhaustive_outcome_while_it_fits() -> None:
    # At 13.6 per voter (68 / 5) the two voters of {1, 2} fund "1" (30): an exhaustive outcome
    # (38 left, "2" costs 60). Raising on, at 20 per voter the three supporters of "2" pay 20
    # each for it first, and then "1" no longer fits: the outcome {"2"} costs 60 <= 68, and it
    # stays the outcome up to 34 per voter; at 35 both fit the voters (90 > 68). Stopping at the
    # first exhaustive outcome (as this code did) kept {"1"}.
    costs = {"1": 30, "2": 60}
    ballots = [{"2"}, {"1", "2"}, set(), {"1", "2"}, set()]
    result = equal_shares(costs, ballots, 68)
    assert result.selected == ["2"]
    assert result.total_cost == 60 and result.voter_budget == 34
    assert reference_equal_shares(costs, ballots, 68) == ["2"]


def test_equal_shares_voters_who_run_short_pay_what_they_have() -> None:
    # Each of four voters holds 100. Three pay 80 each for "x"; for "y" voter 0 then has only 20
    # left and pays it, voter 3 pays the remaining 80.
    ballots = [{"x", "y"}, {"x"}, {"x"}, {"y"}]
    result = equal_shares({"x": 240, "y": 100}, ballots, 400, completion=None)
    assert result.selected == ["x", "y"]
    y = result.funding["y"]
    assert y.partial_payers == 1 and y.partial_total == pytest.approx(20)
    assert y.full_payers == 1 and y.full_share == pytest.approx(80)


def test_equal_shares_with_points_uses_them_as_utilities() -> None:
    # Each voter holds 50. "big" costs 5 per point (2 voters × 10 points × 5 = 100); "small"
    # would cost 10 per point, so "big" goes first and empties voter 1, and the other two
    # supporters of "small" pay 15 per point.
    ballots = [{"big": 10}, {"big": 10, "small": 1}, {"small": 1}, {"small": 1}]
    result = equal_shares({"big": 100, "small": 30}, ballots, 200, completion=None)
    assert result.selected == ["big", "small"]
    assert result.funding["big"].full_share == pytest.approx(5.0)  # per point
    small = result.funding["small"]
    assert small.full_share == pytest.approx(15.0)
    assert (small.full_payers, small.nothing_left) == (2, 1)


def test_equal_shares_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown project 'z'"):
        equal_shares({"a": 10}, [{"z"}], 10)
    with pytest.raises(ValueError, match="mix"):
        equal_shares({"a": 10}, [{"a"}, {"a": 1}], 10)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="string"):
        equal_shares({"a": 10}, ["a"], 10)
    with pytest.raises(ValueError, match="negative"):
        equal_shares({"a": -1}, [{"a"}], 10)
    with pytest.raises(ValueError, match="unknown counting rule"):
        count(({"a": 1}, [{"a"}], 1), "phragmen")


def test_equal_shares_without_ballots_selects_nothing() -> None:
    result = equal_shares({"a": 10}, [], 100)
    assert result.selected == [] and result.total_cost == 0


# --- agreement with a straightforward reference implementation ------------------------------


def _id_order(project_id: str) -> tuple[int, int, str]:
    return (0, int(project_id), "") if project_id.isdigit() else (1, 0, project_id)


def _reference_run(
    costs: Mapping[str, int], utility: list[dict[str, Fraction]], per_voter: Fraction
) -> list[str]:
    """One run of Equal Shares: exact fractions, one entry per voter, every price recomputed
    every round, ties to the cheaper project, then more supporters, then the lower id."""
    n = len(utility)
    support = {p: sum(1 for u in utility if p in u) for p in costs}
    money = [per_voter] * n
    left = {p for p in costs if support[p] > 0}
    chosen: list[str] = []
    while True:
        prices: dict[str, Fraction] = {}
        for p in left:
            voters = [i for i in range(n) if p in utility[i]]
            if sum(money[i] for i in voters) < costs[p]:
                continue
            # Smallest rho with sum(min(money, rho * utility)) == cost.
            voters.sort(key=lambda i: money[i] / utility[i][p])
            paid, weight = Fraction(0), sum(utility[i][p] for i in voters)
            for i in voters:
                rho = (costs[p] - paid) / weight
                if money[i] >= rho * utility[i][p]:
                    break
                paid += money[i]
                weight -= utility[i][p]
            prices[p] = rho
        if not prices:
            return chosen
        low = min(prices.values())
        tied = [p for p, rho in prices.items() if rho == low]
        winner = min(tied, key=lambda p: (costs[p], -support[p], _id_order(p)))
        for i in range(n):
            if winner in utility[i]:
                money[i] -= min(money[i], low * utility[i][winner])
        chosen.append(winner)
        left.discard(winner)


def reference_equal_shares(
    costs: Mapping[str, int],
    ballots: Sequence[set[str] | dict[str, int]],
    budget: int,
    completion: str | None = "add1",
) -> list[str]:
    """Equal Shares straight from its definition (see :func:`_reference_run`), with the add1
    completion as Pabulib defines it: one unit per voter at a time, for as long as the outcome
    fits in the budget (an exhaustive outcome does not stop it)."""
    utility = [
        {p: Fraction(u) for p, u in b.items() if u > 0}
        if isinstance(b, dict)
        else {p: Fraction(costs[p]) for p in b}
        for b in ballots
    ]
    n = len(ballots)
    outcome = _reference_run(costs, utility, Fraction(budget, n))
    if completion is None:
        return outcome
    supported = {p for u in utility for p in u}
    step = budget // n
    while True:
        if supported <= set(outcome):
            return outcome
        step += 1
        attempt = _reference_run(costs, utility, Fraction(step))
        if sum(costs[p] for p in attempt) > budget:
            return outcome
        outcome = attempt


def _random_election(
    rng: random.Random, points: bool
) -> tuple[dict[str, int], list[set[str]] | list[dict[str, int]], int]:
    m = rng.randint(2, 7)
    ids = [str(j + 1) for j in range(m)]
    # Few distinct costs, so that ties in price happen and tie-breaking is exercised.
    costs = {p: rng.choice([10, 20, 20, 30, 45, 60, 100]) for p in ids}
    n = rng.randint(1, 14)
    ballots: list = []
    for _ in range(n):
        chosen = rng.sample(ids, rng.randint(0, m))
        if points:
            ballots.append({p: rng.randint(1, 5) for p in chosen})
        else:
            ballots.append(set(chosen))
    budget = rng.randint(10, sum(costs.values()))
    return costs, ballots, budget


@pytest.mark.parametrize("points", [False, True], ids=["approval", "points"])
@pytest.mark.parametrize("completion", [None, "add1"])
def test_matches_reference_on_random_small_elections(points: bool, completion: str | None) -> None:
    rng = random.Random(f"{points}-{completion}")
    for _ in range(150):
        costs, ballots, budget = _random_election(rng, points)
        expected = reference_equal_shares(costs, ballots, budget, completion)
        got = equal_shares(costs, ballots, budget, completion=completion)  # type: ignore[arg-type]
        assert got.selected == expected, (costs, ballots, budget)


def test_matches_reference_on_a_larger_election_with_repeated_ballots() -> None:
    # Enough voters that many ballots repeat (grouped with weights) and many voters run short.
    rng = random.Random(7)
    ids = [str(j) for j in range(1, 9)]
    costs = {p: rng.choice([1_000, 2_500, 4_000, 7_500, 12_000]) for p in ids}
    popular = ids[:3]
    ballots = [
        set(rng.sample(popular, rng.randint(1, 2)))
        if rng.random() < 0.6
        else set(rng.sample(ids, rng.randint(1, 4)))
        for _ in range(120)
    ]
    budget = 20_000
    assert equal_shares(costs, ballots, budget).selected == reference_equal_shares(
        costs, ballots, budget
    )


# --- equalshares/add1-comparison and the score threshold -----------------------------------


def test_add1_comparison_uses_greedy_when_more_voters_prefer_it() -> None:
    # Equal Shares funds A1, A2 and B; greedy A1, A2 and A3. The six get 300 of their projects
    # from greedy and 200 from Equal Shares; the four get 0 and 100: six prefer greedy.
    result = count((HAND_COSTS, MAJORITY + MINORITY, 300), "equalshares/add1-comparison")
    assert result.comparison is not None
    assert (result.comparison.prefer_greedy, result.comparison.prefer_equal_shares) == (6, 4)
    assert result.comparison.winner == "greedy"
    assert result.selected == ["A1", "A2", "A3"] and result.equal_shares is None
    # With five in the majority and five in the minority, Equal Shares stays.
    five = [{"A1", "A2", "A3"}] * 5 + [{"B"}] * 5
    kept = count((HAND_COSTS, five, 300), "equalshares/add1-comparison")
    assert kept.comparison is not None and kept.comparison.winner == "equalshares"
    assert set(kept.selected) == set(equal_shares(HAND_COSTS, five, 300).selected)
    assert kept.equal_shares is not None


def test_score_threshold_leaves_out_projects_below_it() -> None:
    """Gdynia sets a least number of votes; the count must not fund a project below it."""
    costs = {"1": 40, "2": 30, "3": 20}
    ballots = [{"1", "2"}, {"1", "2"}, {"1", "3"}]
    assert count((costs, ballots, 100), "greedy").selected == ["1", "2", "3"]
    capped = count((costs, ballots, 100), "greedy", threshold=2)
    assert capped.selected == ["1", "2"] and capped.below_threshold == ["3"]
    es = count((costs, ballots, 100), "equalshares/add1", threshold=2)
    assert "3" not in es.selected
    text = (
        "META\nkey;value\nbudget;100\nvote_type;approval\nrule;greedy\n"
        "min_project_score_threshold;2\nPROJECTS\nproject_id;cost\n1;40\n2;30\n3;20\n"
        "VOTES\nvoter_id;vote\na;1,2\nb;1,2\nc;1,3\n"
    )
    assert count(pabulib.parse(text)).selected == ["1", "2"]
    # Pabulib's own name for it (github.com/pabulib/checker)
    assert count(pabulib.parse(text.replace("rule;greedy", "rule;greedy-threshold"))).selected == [
        "1",
        "2",
    ]


def test_decimal_money_stays_decimal() -> None:
    from decimal import Decimal

    costs = {"1": Decimal("40.50"), "2": Decimal("59.50"), "3": Decimal("0.25")}
    ballots = [{"1", "2", "3"}, {"1", "2"}, {"1"}]
    result = count((costs, ballots, Decimal("100.00")), "greedy")
    assert result.selected == ["1", "2"]
    assert result.total_cost == Decimal("100.00") and isinstance(result.total_cost, Decimal)
    es = count((costs, ballots, Decimal("100.00")), "equalshares/add1")
    assert isinstance(es.total_cost, Decimal) and es.total_cost <= Decimal("100.00")
    assert es.total_cost == sum(costs[p] for p in es.selected)
