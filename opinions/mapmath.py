"""The opinion map's mathematics, as pure functions (numpy and scikit-learn).

The method follows Pol.is (the ``compdemocracy/polis`` repository, ``math/src/polismath``):

1. a vote matrix, participants × statements, agree 1, disagree -1, pass 0, not voted NaN;
2. participants in the map: those with at least min(7, number of statements) votes;
3. missing votes imputed with the statement's mean over the participants in the map;
4. PCA to two dimensions; each projection scaled by sqrt(statements / votes cast), so that
   people who voted on few statements are not pulled to the centre;
5. k-means with k from 2 to 5, the k with the best silhouette; seeded from the previous
   centres and matched to the previous group ids (Hungarian method on shared members), so
   groups keep their identity and colour from one recomputation to the next;
6. per group, representative statements (Pol.is's repness: the group's Laplace-smoothed agree
   or disagree share against the rest's, with a one-proportion and a two-proportion z test,
   both significant at 90 %); group-informed consensus (the product over groups of each
   group's Laplace-smoothed agree share); divisive statements (the widest spread of the
   groups' smoothed agree-minus-disagree).

Nothing here touches the database: the service feeds votes in and stores what comes out.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

# scikit-learn and SciPy are imported where they are used: importing them costs seconds,
# and every process that builds the app (web instances, the search worker, each periodic
# job) imports this module while few of them ever compute a map.
if TYPE_CHECKING:
    from sklearn.cluster import KMeans

AGREE, DISAGREE, PASS = 1, -1, 0
MIN_VOTES = 7
K_RANGE = range(2, 6)
Z_90 = 1.2816  # one-sided 90 % (Pol.is's z-sig-90)
# A previous k is kept unless another k's silhouette beats it by this much (stability).
K_HYSTERESIS = 0.02
SILHOUETTE_SAMPLE = 1500
REPNESS_PER_GROUP = 5
SEED = 17


@dataclass
class VoteMatrix:
    """Votes as a dense matrix: rows are participants, columns statements (NaN: no vote)."""

    participants: list[Hashable]
    statements: list[Hashable]
    values: np.ndarray  # float, shape (participants, statements)


def vote_matrix(
    votes: Iterable[tuple[Hashable, Hashable, int]],
    statements: Iterable[Hashable] | None = None,
) -> VoteMatrix:
    """Build the matrix from (participant, statement, vote) triples; a later triple for the
    same participant and statement replaces an earlier one. ``statements`` fixes the columns
    (votes on other statements are left out); by default every statement voted on."""
    rows: dict[Hashable, int] = {}
    fixed = statements is not None
    cols: dict[Hashable, int] = {s: i for i, s in enumerate(statements or [])}
    triples: list[tuple[int, int, int]] = []
    for participant, statement, vote in votes:
        if vote not in (AGREE, DISAGREE, PASS):
            raise ValueError(f"vote must be -1, 0 or 1, not {vote!r}")
        c = cols.get(statement)
        if c is None:
            if fixed:
                continue
            c = cols[statement] = len(cols)
        r = rows.setdefault(participant, len(rows))
        triples.append((r, c, vote))
    values = np.full((len(rows), len(cols)), np.nan)
    if triples:
        arr = np.asarray(triples, dtype=np.int64)
        values[arr[:, 0], arr[:, 1]] = arr[:, 2]  # later triples win
    return VoteMatrix(list(rows), list(cols), values)


def min_votes(n_statements: int) -> int:
    """Votes a participant needs to be placed on the map: min(7, number of statements)."""
    return max(1, min(MIN_VOTES, n_statements))


def in_map(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the participants with enough votes to be placed."""
    counts = np.sum(~np.isnan(values), axis=1)
    return counts >= min_votes(values.shape[1])


def impute(values: np.ndarray) -> np.ndarray:
    """Missing votes replaced by the statement's mean (0 for a statement nobody voted on)."""
    missing = np.isnan(values)
    known = np.where(missing, 0.0, values)
    counts = np.sum(~missing, axis=0)
    means = np.divide(known.sum(axis=0), counts, out=np.zeros(values.shape[1]), where=counts > 0)
    return np.where(missing, means[np.newaxis, :], values)


def project(
    values: np.ndarray, previous_components: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """PCA of the imputed matrix to two dimensions, each row scaled by
    sqrt(statements / votes cast). Returns (points, components); the components' signs
    follow ``previous_components`` when given, so the map does not flip between runs."""
    n, m = values.shape
    filled = impute(values)
    centred = filled - filled.mean(axis=0)
    dims = min(2, n, m)
    components = np.zeros((2, m))
    if dims and np.any(centred):
        # The leading right singular vectors (PCA's components) via the m × m covariance:
        # much cheaper than an SVD of the n × m matrix when n ≫ m.
        cov = centred.T @ centred
        eigval, eigvec = np.linalg.eigh(cov)
        order = np.argsort(eigval)[::-1][:dims]
        components[:dims] = eigvec[:, order].T
        for i in range(dims):  # deterministic sign: largest loading positive
            if components[i, np.argmax(np.abs(components[i]))] < 0:
                components[i] *= -1
    if previous_components is not None and previous_components.shape == components.shape:
        for i in range(2):
            if float(components[i] @ previous_components[i]) < 0:
                components[i] *= -1
    points = centred @ components.T
    cast = np.maximum(np.sum(~np.isnan(values), axis=1), 1)
    points *= np.sqrt(m / cast)[:, np.newaxis]
    return points, components


@dataclass
class Clustering:
    labels: np.ndarray  # group id per point
    centres: dict[int, list[float]]
    k: int
    silhouette: float


def _kmeans(points: np.ndarray, k: int, init: np.ndarray | None) -> KMeans:
    from sklearn.cluster import KMeans

    if init is not None and len(init) == k:
        model = KMeans(n_clusters=k, init=init, n_init=1, random_state=SEED)
    else:
        model = KMeans(n_clusters=k, init="k-means++", n_init=4, random_state=SEED)
    return model.fit(points)


def _silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    if len(set(labels.tolist())) < 2:
        return -1.0
    from sklearn.metrics import silhouette_score

    sample = min(SILHOUETTE_SAMPLE, len(points))
    return float(
        silhouette_score(points, labels, sample_size=sample, random_state=SEED)
        if sample < len(points)
        else silhouette_score(points, labels)
    )


def match_groups(
    labels: np.ndarray,
    participants: list[Hashable],
    previous: dict[Hashable, int] | None,
) -> np.ndarray:
    """Renumber k-means labels to the previous run's group ids: the Hungarian method on the
    number of shared members. New groups take the smallest free ids."""
    uniq = sorted(set(labels.tolist()))
    if not previous:
        return labels.copy()
    old_ids = sorted(set(previous.values()))
    overlap = np.zeros((len(uniq), len(old_ids)))
    col = {g: j for j, g in enumerate(old_ids)}
    row = {g: i for i, g in enumerate(uniq)}
    for p, lab in zip(participants, labels.tolist(), strict=True):
        old = previous.get(p)
        if old is not None:
            overlap[row[lab], col[old]] += 1
    from scipy.optimize import linear_sum_assignment

    r_ind, c_ind = linear_sum_assignment(-overlap)
    mapping = {uniq[i]: old_ids[j] for i, j in zip(r_ind, c_ind, strict=True)}
    free = (g for g in range(len(uniq) + len(old_ids)) if g not in set(mapping.values()))
    for lab in uniq:
        if lab not in mapping:
            mapping[lab] = next(free)
    return np.asarray([mapping[lab] for lab in labels.tolist()], dtype=np.int64)


def cluster(
    points: np.ndarray,
    participants: list[Hashable],
    previous: MapState | None = None,
) -> Clustering:
    """k-means for k in 2..5, the best silhouette (the previous k unless beaten clearly),
    seeded from the previous centres and matched to the previous group ids."""
    n = len(points)
    if n < 2:
        return Clustering(np.zeros(n, dtype=np.int64), {}, 1 if n else 0, 0.0)
    prev_centres = previous.centre_array() if previous else None
    best: tuple[float, int, np.ndarray, np.ndarray] | None = None
    # Identical voters make identical points: never ask for more groups than places.
    distinct = len(np.unique(np.round(points, 9), axis=0))
    for k in K_RANGE:
        if k >= n or k > distinct:
            break
        model = _kmeans(points, k, prev_centres)
        score = _silhouette(points, model.labels_)
        if previous and k == previous.k:
            score += K_HYSTERESIS
        if best is None or score > best[0]:
            best = (score, k, model.labels_, model.cluster_centers_)
    if best is None:
        return Clustering(np.zeros(n, dtype=np.int64), {0: points.mean(axis=0).tolist()}, 1, 0.0)
    score, k, raw, centres = best
    prev_members = previous.members() if previous else None
    labels = match_groups(raw, participants, prev_members)
    ids = {}
    for lab, gid in zip(raw.tolist(), labels.tolist(), strict=True):
        ids[lab] = gid
    by_id = {ids[lab]: centres[lab].tolist() for lab in ids}
    if previous and k == previous.k:
        score -= K_HYSTERESIS
    return Clustering(labels, dict(sorted(by_id.items())), k, score)


# --- statements: representative, consensus, divisive -------------------------------------


def prop_test(succ: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Pol.is's one-proportion z test (is the share above one half?), both counts + 1."""
    succ, n = succ + 1.0, n + 1.0
    return 2.0 * np.sqrt(n) * (succ / n - 0.5)


def two_prop_test(
    succ_in: np.ndarray, succ_out: np.ndarray, n_in: np.ndarray, n_out: np.ndarray
) -> np.ndarray:
    """Pol.is's two-proportion z test (is the group's share above the rest's?), counts + 1."""
    s1, s2, n1, n2 = succ_in + 1.0, succ_out + 1.0, n_in + 1.0, n_out + 1.0
    p1, p2 = s1 / n1, s2 / n2
    ph = (s1 + s2) / (n1 + n2)
    denom = np.sqrt(ph * (1 - ph) * (1 / n1 + 1 / n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (p1 - p2) / denom
    return np.where(denom > 0, z, 0.0)


@dataclass
class Counts:
    """Per group and statement: agrees, disagrees, seen (agree + disagree + pass)."""

    agree: np.ndarray  # shape (groups, statements)
    disagree: np.ndarray
    seen: np.ndarray


def group_counts(values: np.ndarray, labels: np.ndarray, groups: list[int]) -> Counts:
    shape = (len(groups), values.shape[1])
    a, d, s = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for i, g in enumerate(groups):
        rows = values[labels == g]
        a[i] = np.sum(rows == AGREE, axis=0)
        d[i] = np.sum(rows == DISAGREE, axis=0)
        s[i] = np.sum(~np.isnan(rows), axis=0)
    return Counts(a, d, s)


@dataclass
class Repness:
    statement: int  # column index
    direction: str  # "agree" or "disagree"
    share: float  # the group's smoothed share in that direction
    ratio: float  # against the rest
    z_share: float
    z_ratio: float
    metric: float


def representative(counts: Counts, per_group: int = REPNESS_PER_GROUP) -> list[list[Repness]]:
    """Per group, the statements where it differs most from the rest (Pol.is's repness:
    metric ra · rat · pa · pat, both z tests significant at 90 %; the better direction per
    statement; when nothing is significant, the best agreed statement still shows)."""
    out: list[list[Repness]] = []
    tot_a, tot_d, tot_s = counts.agree.sum(0), counts.disagree.sum(0), counts.seen.sum(0)
    for i in range(counts.agree.shape[0]):
        na, nd, ns = counts.agree[i], counts.disagree[i], counts.seen[i]
        oa, od, os_ = tot_a - na, tot_d - nd, tot_s - ns
        cand: dict[int, Repness] = {}
        fallback: Repness | None = None
        for direction, n_in, n_out in (("agree", na, oa), ("disagree", nd, od)):
            p_in = (n_in + 1) / (ns + 2)
            p_out = (n_out + 1) / (os_ + 2)
            ratio = p_in / p_out
            z_p = prop_test(n_in, ns)
            z_r = two_prop_test(n_in, n_out, ns, os_)
            metric = ratio * z_r * p_in * z_p
            for j in np.flatnonzero(ns > 0):
                rep = Repness(
                    int(j), direction, float(p_in[j]), float(ratio[j]),
                    float(z_p[j]), float(z_r[j]), float(metric[j]),
                )  # fmt: skip
                if z_p[j] > Z_90 and z_r[j] > Z_90:
                    if j not in cand or rep.metric > cand[j].metric:
                        cand[j] = rep
                elif direction == "agree" and (fallback is None or rep.metric > fallback.metric):
                    if z_p[j] > 0:
                        fallback = rep
        chosen = sorted(cand.values(), key=lambda r: (-r.metric, r.statement))[:per_group]
        if not chosen and fallback is not None:
            chosen = [fallback]
        out.append(chosen)
    return out


def consensus(counts: Counts) -> tuple[np.ndarray, np.ndarray]:
    """Group-informed consensus per statement, for agree and for disagree: the product over
    groups of each group's Laplace-smoothed share, (n + 1) / (seen + 2)."""
    agree = np.prod((counts.agree + 1) / (counts.seen + 2), axis=0)
    disagree = np.prod((counts.disagree + 1) / (counts.seen + 2), axis=0)
    return agree, disagree


def divisiveness(counts: Counts) -> np.ndarray:
    """How far the groups lie apart on a statement: the range over groups of the smoothed
    (agree - disagree) / (seen + 2); 0 with fewer than two groups."""
    if counts.agree.shape[0] < 2:
        return np.zeros(counts.agree.shape[1])
    lean = (counts.agree - counts.disagree) / (counts.seen + 2)
    return lean.max(axis=0) - lean.min(axis=0)


# --- the whole computation ----------------------------------------------------------------


@dataclass
class MapState:
    """What a recomputation keeps for the next one (JSON-serialisable via ``to_json``)."""

    k: int = 0
    centres: dict[int, list[float]] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)  # str(participant) -> group id
    components: list[list[float]] = field(default_factory=list)

    def centre_array(self) -> np.ndarray | None:
        if not self.centres:
            return None
        return np.asarray([self.centres[g] for g in sorted(self.centres)])

    def members(self) -> dict[Hashable, int]:
        return self.labels

    def to_json(self) -> dict:
        return {
            "k": self.k,
            "centres": {str(g): c for g, c in self.centres.items()},
            "labels": self.labels,
            "components": self.components,
        }

    @classmethod
    def from_json(cls, data: dict | None) -> MapState | None:
        if not data:
            return None
        return cls(
            k=int(data.get("k", 0)),
            centres={int(g): list(c) for g, c in (data.get("centres") or {}).items()},
            labels={str(p): int(g) for p, g in (data.get("labels") or {}).items()},
            components=list(data.get("components") or []),
        )


@dataclass
class OpinionMap:
    participants: list[Hashable]  # placed participants, in row order of points/labels
    points: np.ndarray
    labels: np.ndarray
    groups: list[int]
    statements: list[Hashable]
    counts: Counts
    repness: dict[int, list[Repness]]
    consensus_agree: np.ndarray
    consensus_disagree: np.ndarray
    divisive: np.ndarray
    silhouette: float
    state: MapState
    n_voters: int  # everyone who voted, placed or not


def compute(matrix: VoteMatrix, previous: MapState | None = None) -> OpinionMap | None:
    """The whole map from a vote matrix; None when fewer than two participants qualify
    (or there are fewer than two statements): no map can be drawn yet.

    BLAS runs on one thread: the map is computed beside a web server's workers, and
    several BLAS threads fighting over busy cores made it four to ten times slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _compute(matrix, previous)


def _compute(matrix: VoteMatrix, previous: MapState | None) -> OpinionMap | None:
    values = matrix.values
    mask = in_map(values) if values.size else np.zeros(len(matrix.participants), dtype=bool)
    if int(mask.sum()) < 2 or values.shape[1] < 2:
        return None
    placed_values = values[mask]
    placed = [p for p, keep in zip(matrix.participants, mask.tolist(), strict=True) if keep]
    keys = [str(p) for p in placed]
    prev_comp = np.asarray(previous.components) if previous and previous.components else None
    points, components = project(placed_values, prev_comp)
    clustering = cluster(points, keys, previous)
    groups = sorted(set(clustering.labels.tolist()))
    counts = group_counts(placed_values, clustering.labels, groups)
    rep = representative(counts)
    c_agree, c_disagree = consensus(counts)
    state = MapState(
        k=clustering.k,
        centres=clustering.centres,
        labels=dict(zip(keys, clustering.labels.tolist(), strict=True)),
        components=components.tolist(),
    )
    return OpinionMap(
        participants=placed,
        points=points,
        labels=clustering.labels,
        groups=groups,
        statements=list(matrix.statements),
        counts=counts,
        repness=dict(zip(groups, rep, strict=True)),
        consensus_agree=c_agree,
        consensus_disagree=c_disagree,
        divisive=divisiveness(counts),
        silhouette=clustering.silhouette,
        state=state,
        n_voters=len(matrix.participants),
    )


def ranked(scores: np.ndarray, limit: int, minimum: float = -math.inf) -> list[int]:
    """Column indices by descending score, at most ``limit``, above ``minimum``."""
    order = np.argsort(-scores, kind="stable")
    return [int(j) for j in order[:limit] if scores[j] > minimum]
