"""Benchmark the citizen-budget counting rules on a large synthetic approval election.

100 projects with log-uniform costs between 20,000 and 2,000,000 DKK, a budget of about a quarter
of their total cost, and 50,000 approval ballots whose choices follow project popularity and the
voter's local area (so preferences are correlated, as in real elections). Prints one line per rule
with its time next to its target, then, as the last line, one JSON object with the figures.

Run from the repository root: ``.venv/bin/python bench/budget_count.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from budgets.counting import approval_scores, equal_shares, greedy  # noqa: E402

SEED = 20261126
TARGETS = {"greedy_s": 1.0, "greedy_no_skip_s": 1.0, "equalshares_add1_s": 15.0}
AREAS = 6


def make_election(
    n_projects: int, n_voters: int, seed: int = SEED
) -> tuple[dict[str, int], list[frozenset[str]], int]:
    """A reproducible election: (project costs, approval ballots, budget).

    Each project belongs to one of a few local areas and has a popularity weight (log-normal, so a
    few projects are much more popular). Each voter lives in one area, approves 1 to 10 projects
    (most often 3 to 5) and picks them in proportion to popularity, three times as likely from
    their own area.
    """
    rng = random.Random(seed)
    ids = [str(100 + j) for j in range(n_projects)]
    costs = {
        pid: int(round(math.exp(rng.uniform(math.log(20_000), math.log(2_000_000))), -3))
        for pid in ids
    }
    budget = int(round(sum(costs.values()) * 0.25, -4))
    area = {pid: rng.randrange(AREAS) for pid in ids}
    popularity = {pid: rng.lognormvariate(0.0, 1.0) for pid in ids}
    weights_by_area = [
        [popularity[pid] * (3.0 if area[pid] == a else 1.0) for pid in ids] for a in range(AREAS)
    ]
    cumulative = []
    for weights in weights_by_area:
        total, acc = 0.0, []
        for w in weights:
            total += w
            acc.append(total)
        cumulative.append(acc)
    sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    size_weights = [8, 12, 18, 18, 16, 10, 7, 5, 3, 3]
    ballots: list[frozenset[str]] = []
    for _ in range(n_voters):
        acc = cumulative[rng.randrange(AREAS)]
        k = rng.choices(sizes, size_weights)[0]
        chosen: set[str] = set()
        while len(chosen) < k:
            chosen.add(rng.choices(ids, cum_weights=acc)[0])
        ballots.append(frozenset(chosen))
    return costs, ballots, budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 projects, 5,000 ballots")
    args = parser.parse_args()
    n_projects, n_voters = (40, 5_000) if args.quick else (100, 50_000)

    costs, ballots, budget = make_election(n_projects, n_voters)
    print(
        f"{n_projects} projects, {n_voters:,} approval ballots, budget {budget:,} DKK "
        f"of {sum(costs.values()):,} DKK requested"
    )

    figures: dict[str, float | int] = {}
    start = time.perf_counter()
    scores = approval_scores(ballots)
    greedy_selected = greedy(costs, scores, budget, skip=True)
    figures["greedy_s"] = round(time.perf_counter() - start, 3)

    start = time.perf_counter()
    scores = approval_scores(ballots)
    no_skip_selected = greedy(costs, scores, budget, skip=False)
    figures["greedy_no_skip_s"] = round(time.perf_counter() - start, 3)

    start, cpu_start = time.perf_counter(), time.process_time()
    mes = equal_shares(costs, ballots, budget, completion="add1")
    figures["equalshares_add1_s"] = round(time.perf_counter() - start, 3)
    # CPU time too: on a shared machine the wall-clock figure includes waiting for a core.
    figures["equalshares_add1_cpu_s"] = round(time.process_time() - cpu_start, 3)
    figures["equalshares_runs"] = mes.runs
    figures["equalshares_raises"] = mes.raises

    if mes.total_cost > budget:
        raise SystemExit(f"equal shares overspent: {mes.total_cost} > {budget}")
    spent = {
        "greedy": sum(costs[p] for p in greedy_selected),
        "greedy-no-skip": sum(costs[p] for p in no_skip_selected),
        "equalshares/add1": mes.total_cost,
    }
    chosen = {
        "greedy": len(greedy_selected),
        "greedy-no-skip": len(no_skip_selected),
        "equalshares/add1": len(mes.selected),
    }
    met = {name: figures[name] <= target for name, target in TARGETS.items()}
    for name, key in (
        ("greedy", "greedy_s"),
        ("greedy-no-skip", "greedy_no_skip_s"),
        ("equalshares/add1", "equalshares_add1_s"),
    ):
        print(
            f"{name:<17} {figures[key]:>8.3f} s  (target ≤ {TARGETS[key]:g} s, "
            f"{'met' if met[key] else 'NOT met'}); funds {chosen[name]} projects, "
            f"{spent[name]:,} DKK"
        )
    print(
        f"equal shares: {figures['equalshares_add1_cpu_s']:.3f} s of CPU time; ran {mes.runs} "
        f"times as each voter's share rose from {budget / n_voters:,.2f} "
        f"to {mes.voter_budget:,.2f} DKK"
    )
    busy = figures["equalshares_add1_s"] / max(figures["equalshares_add1_cpu_s"], 1e-9)
    if busy > 1.3:
        print(
            f"note: the machine is busy (wall time {busy:.1f}× CPU time); the wall-clock "
            "figures include waiting for a core"
        )
    print(
        json.dumps(
            {
                "bench": "budget_count",
                "quick": args.quick,
                "figures": figures,
                "targets": TARGETS,
                "met": met,
            }
        )
    )


if __name__ == "__main__":
    main()
