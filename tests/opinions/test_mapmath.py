"""The opinion map's mathematics (opinions/mapmath.py) on small hand-made and real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from opinions import mapmath
from opinions.polis import read_conversation

DATA = Path(__file__).parent / "data"


def _planted(n=120, m=12, seed=3):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    even = np.arange(m) % 2 == 0  # the groups split on even statements, not on odd ones
    p = np.where(even, np.where(truth[:, None] == 0, 0.95, 0.05), 0.5)
    votes = np.where(rng.random((n, m)) < p, 1, -1)
    triples = [(i, j, int(votes[i, j])) for i in range(n) for j in range(m) if (i + j) % 5]
    return triples, truth


def test_vote_matrix_later_vote_wins_and_rejects_bad_values():
    mat = mapmath.vote_matrix([("a", 1, 1), ("b", 1, -1), ("a", 1, -1), ("a", 2, 0)])
    assert mat.participants == ["a", "b"] and mat.statements == [1, 2]
    assert mat.values[0].tolist() == [-1, 0]
    assert np.isnan(mat.values[1, 1])
    with pytest.raises(ValueError):
        mapmath.vote_matrix([("a", 1, 2)])


def test_min_votes_and_imputation():
    assert mapmath.min_votes(3) == 3 and mapmath.min_votes(40) == 7
    values = np.array([[1.0, np.nan, 1.0], [-1.0, 1.0, np.nan], [np.nan, np.nan, np.nan]])
    assert mapmath.in_map(values).tolist() == [False, False, False]
    filled = mapmath.impute(values)
    assert filled[0, 1] == 1.0 and filled[1, 2] == 1.0 and filled[2, 0] == 0.0


def test_projection_scales_sparse_voters_out_from_the_centre():
    dense = np.array([[1.0, 1, 1, 1], [-1, -1, -1, -1], [1, 1, -1, -1], [-1, -1, 1, 1]])
    sparse = dense.copy()
    sparse[0, 2:] = np.nan  # voted 2 of 4: scaled by sqrt(2)
    p_dense, _ = mapmath.project(dense)
    p_sparse, _ = mapmath.project(sparse)
    assert p_sparse.shape == (4, 2)
    assert np.linalg.norm(p_sparse[0]) > 0.5 * np.linalg.norm(p_dense[0])


def test_planted_groups_found_and_statements_characterise_them():
    triples, truth = _planted()
    result = mapmath.compute(mapmath.vote_matrix(triples))
    assert result is not None and len(result.groups) == 2
    assert adjusted_rand_score(truth[result.participants], result.labels) > 0.95
    # Even statements: one group agrees, the other disagrees → the divisive ones.
    even = [j for j, s in enumerate(result.statements) if s % 2 == 0]
    assert set(mapmath.ranked(result.divisive, 3)) <= set(even)
    for g in result.groups:
        reps = result.repness[g]
        assert reps and all(r.z_share > mapmath.Z_90 and r.z_ratio > mapmath.Z_90 for r in reps)
    assert result.consensus_agree.max() < 0.3  # nothing unites both groups


def test_consensus_statement_ranks_first():
    triples, _ = _planted()
    triples = triples + [(i, 99, 1) for i in range(120)]  # everyone agrees with 99
    result = mapmath.compute(mapmath.vote_matrix(triples))
    top = mapmath.ranked(result.consensus_agree, 1)[0]
    assert result.statements[top] == 99


def test_groups_keep_their_ids_across_recomputations():
    triples, _ = _planted()
    first = mapmath.compute(mapmath.vote_matrix(triples))
    # Same data, ids shifted: the previous state's ids are kept.
    shifted = mapmath.MapState.from_json(first.state.to_json())
    shifted.labels = {p: g + 3 for p, g in shifted.labels.items()}
    shifted.centres = {g + 3: c for g, c in shifted.centres.items()}
    again = mapmath.compute(mapmath.vote_matrix(triples), previous=shifted)
    assert sorted(again.groups) == [3, 4]
    assert again.state.labels == shifted.labels


def test_too_few_voters_gives_no_map():
    assert mapmath.compute(mapmath.vote_matrix([("a", 1, 1), ("a", 2, 1)])) is None
    assert mapmath.compute(mapmath.vote_matrix([])) is None


@pytest.mark.parametrize(
    ("name", "target"), [("15-per-hour-seattle", 0.75), ("canadian-electoral-reform", 0.80)]
)
def test_agrees_with_polis_groups(name, target):
    conv = read_conversation(DATA / name)
    result = mapmath.compute(mapmath.vote_matrix(conv.vote_triples(), conv.statement_ids()))
    ours = dict(zip(result.participants, result.labels.tolist(), strict=True))
    both = [p for p, g in conv.groups.items() if g is not None and p in ours]
    ari = adjusted_rand_score([conv.groups[p] for p in both], [ours[p] for p in both])
    assert ari >= target
