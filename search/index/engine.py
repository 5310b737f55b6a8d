"""The query engine: a parsed query (``search.query``) evaluated on a snapshot's postings as sets
and dictionaries, filtered, scored, ranked and counted (``run``); saved searches run against a
batch of new documents (``percolate``)."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import compress

from whoosh.filedb.filestore import RamStorage

from .. import language
from ..query import AllOf, AnyOf, Criteria, Node, Not, Phrase, Prefix, Word
from .analysis import (
    _TOKEN_RE,
    AUTHOR_BOOST,
    EXACT_FIELDS,
    EXACT_MARK,
    PHRASE_FIELDS,
    STEM_FIELDS,
    analyse,
    make_schema,
    stem,
    to_fields,
)
from .snapshots import Snapshot, _Segment

MAX_EXPANSION = 200  # words the prefixes of one query may stand for, together


class TooBroad(Exception):
    """A prefix stands for more words than a query may expand to."""

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix)
        self.prefix = prefix


@dataclass
class RawResults:
    hits: list[tuple[str, int]]  # (kind, pk), best first
    total: int
    facets: dict[str, dict[str, int]]
    exact_terms: set[str]
    stem_terms: set[str]


# --- queries --------------------------------------------------------------------------------


def _exact_term(exact: str) -> str:
    """How an exact form is indexed: itself if it is its own stem, else marked."""
    return exact if stem(exact) == exact else EXACT_MARK + exact


class Match:
    """Documents a query part matches, and the score parts to sum for each (lazily: an AND
    of common words may leave a handful of documents, and only those are ever scored)."""

    __slots__ = ("docs", "parts")

    def __init__(self, docs, parts: list[dict[int, float]]) -> None:
        self.docs = docs  # a set (or a dict's keys)
        self.parts = parts

    def scores(self, docs) -> dict[int, float]:
        """{doc: summed score} for ``docs`` (a subset of ``self.docs``).

        The parts are added in the query's order, never in an order that depends on the
        index (like their sizes, which count deleted documents): floating-point sums depend
        on the order, and the same query must score the same content the same way."""
        parts = self.parts
        if not parts:
            return dict.fromkeys(docs, 0.0)
        big = parts[0]
        if len(docs) * 4 < len(big):  # few documents left: look each one up
            out = {d: big.get(d, 0.0) for d in docs}
        else:  # most of the biggest part: copy it in C, then trim
            out = dict(big)
            for d in out.keys() - docs:
                del out[d]
            if len(out) < len(docs):
                out.update(dict.fromkeys(docs - out.keys(), 0.0))
        for part in parts[1:]:
            for d in part.keys() & docs:
                out[d] += part[d]
        return out


def _union(parts: list[dict[int, float]]) -> Match:
    parts = [p for p in parts if p]
    if not parts:
        return Match(set(), [])
    if len(parts) == 1:
        return Match(parts[0].keys(), parts)
    return Match(set().union(*parts), parts)


class _Evaluator:
    """Turns the query tree into a ``Match``; remembers the words to highlight."""

    def __init__(self, snap: Snapshot, max_expansion: int) -> None:
        self.snap = snap
        self.max_expansion = max_expansion
        self.exact: set[str] = set()
        self.stems: set[str] = set()
        self.expanded: set[str] = set()  # words all prefixes together stand for

    def _remember(self, words, positive: bool) -> None:
        if positive:
            for _s, _e, exact, stem_ in words:
                self.exact.add(exact)
                if stem_:
                    self.stems.add(stem_)

    def _stem_parts(self, stem_: str) -> list[dict[int, float]]:
        return [self.snap.term_scores(f, stem_, b) for f, b in STEM_FIELDS.items()]

    def _author_part(self, exact: str) -> dict[int, float]:
        return self.snap.term_scores("author", exact, AUTHOR_BOOST, scored=False)

    def _word(self, exact: str, stem_: str | None) -> Match:
        stems = self._stem_parts(stem_) if stem_ else []
        author = self._author_part(exact)
        match = _union([*stems, author])  # an exact form never matches without its stem
        if stem_ and stem_ != exact:
            match.parts += [
                p
                for p in (
                    self.snap.term_scores(f, EXACT_MARK + exact, b) for f, b in EXACT_FIELDS.items()
                )
                if p
            ]
        return match

    def _exact(self, exact: str) -> Match:
        term = _exact_term(exact)
        return _union(
            [self.snap.term_scores(f, term, b) for f, b in EXACT_FIELDS.items()]
            + [self._author_part(exact)]
        )

    def _phrase(self, stems: list[str]) -> Match:
        words = [_union(self._stem_parts(s)) for s in stems]
        words.sort(key=lambda m: len(m.docs))
        common = set(words[0].docs).intersection(*(m.docs for m in words[1:]))
        if not common:
            return Match(set(), [])
        docs: set[int] = set()
        for f in PHRASE_FIELDS:
            docs |= self.snap.phrase_docs(f, stems)
        return Match(docs & common, [p for m in words for p in m.parts])

    def node(self, node: Node, positive: bool = True) -> Match | None:
        """What the node matches; None: it has no words (leave it out)."""
        if isinstance(node, Word):
            return self.word(node.text, positive)
        if isinstance(node, Phrase):
            return self.phrase(node.text, positive)
        if isinstance(node, Prefix):
            return self.prefix(node.text, positive)
        if isinstance(node, AnyOf):
            found = [m for m in (self.node(c, positive) for c in node.children) if m is not None]
            if not found:
                return None
            return Match(set().union(*(m.docs for m in found)), [p for m in found for p in m.parts])
        if isinstance(node, AllOf):
            return self.all_of(node, positive)
        return None  # Not: only inside AllOf, handled there

    def all_of(self, node: AllOf, positive: bool) -> Match | None:
        found = [
            m
            for m in (self.node(c, positive) for c in node.children if not isinstance(c, Not))
            if m is not None
        ]
        if not found:
            return None
        found.sort(key=lambda m: len(m.docs))
        docs = set(found[0].docs).intersection(*(m.docs for m in found[1:]))
        for c in node.children:
            if isinstance(c, Not) and docs:
                excluded = self.node(c.child, False)
                if excluded is not None:
                    docs -= excluded.docs
        return Match(docs, [p for m in found for p in m.parts])

    def word(self, text: str, positive: bool) -> Match | None:
        words = analyse(text)
        if not words:
            return None
        self._remember(words, positive)
        if len(words) == 1:
            _s, _e, exact, stem_ = words[0]
            return self._word(exact, stem_)
        # "cykel-sti", "Holbæk's": the words next to each other, or written as one.
        stems = [w[3] for w in words if w[3]]
        joined = "".join(w[2] for w in words)
        alternatives = [self._word(joined, stem(joined))]
        if len(stems) > 1:
            alternatives.append(self._phrase(stems))
        elif stems:
            alternatives.append(_union(self._stem_parts(stems[0])))
        return Match(
            set().union(*(m.docs for m in alternatives)), [p for m in alternatives for p in m.parts]
        )

    def phrase(self, text: str, positive: bool) -> Match | None:
        words = analyse(text)
        if not words:
            return None
        self._remember(words, positive)
        if len(words) == 1:
            return self._exact(words[0][2])  # one quoted word: exactly that form
        stems = [w[3] for w in words if w[3]]
        if not stems:
            return None
        if len(stems) == 1:
            return _union(self._stem_parts(stems[0]))
        return self._phrase(stems)

    def prefix(self, text: str, positive: bool) -> Match:
        # Every written form is in the index either as itself (when it is its own stem) or
        # marked with "=": expanding both finds the words that begin with the prefix.
        prefix = language.fold("".join(_TOKEN_RE.findall(text)))
        terms: list[tuple[str, str, float, bool]] = []
        distinct: set[str] = set()
        sources = [
            (f, p, b, True) for f, b in EXACT_FIELDS.items() for p in (prefix, EXACT_MARK + prefix)
        ]
        sources.append(("author", prefix, AUTHOR_BOOST, False))
        for fieldname, start, boost, scored in sources:
            for term in sorted(self.snap.expand_prefix(fieldname, start)):
                terms.append((fieldname, term, boost, scored))
                distinct.add(term.lstrip(EXACT_MARK))
                self.expanded.add(term.lstrip(EXACT_MARK))
                if len(self.expanded) > self.max_expansion:  # a budget for the whole query
                    raise TooBroad(text)
        if positive:
            self.exact |= distinct
        return _union([self.snap.term_scores(f, t, b, scored) for f, t, b, scored in terms])


def _to_ticks(value: datetime | None) -> int | None:
    if value is None:
        return None
    from whoosh.util.times import datetime_to_long

    return datetime_to_long(value)


def _filter_sets(snap: Snapshot, c: Criteria, public_only: bool) -> list[frozenset | set]:
    sets: list[frozenset | set] = []
    for fieldname, value in (
        ("committee", c.committee_id),
        ("area", c.area_id),
        ("topic", c.topic_id),
        ("role", c.role),
        ("party", c.party),
        ("stance", c.stance),
        ("origin", c.origin),
        ("kind", c.kind),
    ):
        if value is not None and value != "":
            sets.append(snap.term_set(fieldname, str(value)))
    if public_only:
        sets.append(snap.term_set("vis", "public"))
    if c.created_from is not None or c.created_until is not None:
        sets.append(snap.created_between(_to_ticks(c.created_from), _to_ticks(c.created_until)))
    return sets


def _best(scores: dict[int, float], created: list, limit: int) -> list[int]:
    """The ``limit`` best-scored documents, best first; equal scores newest first (document
    numbers depend on the index's history, so they must not decide), also at the cut."""
    if len(scores) > limit:
        top = heapq.nlargest(limit, scores, key=scores.__getitem__)
        if not top:
            return top
        low = scores[top[-1]]
        tied = list(compress(scores, map(low.__eq__, scores.values())))
        if len(top) - sum(map(low.__eq__, map(scores.__getitem__, top))) + len(tied) > limit:
            above = [d for d in top if scores[d] > low]
            tied.sort(key=created.__getitem__, reverse=True)
            top = above + tied[: limit - len(above)]
    else:
        top = list(scores)
    top.sort(key=lambda d: (scores[d], created[d]), reverse=True)
    return top


def _facets(snap: Snapshot, docs) -> dict[str, dict[str, int]]:
    out = {}
    for name in ("committee", "area"):
        col = snap.column(name)
        counts = Counter(map(col.__getitem__, docs))
        out[name] = {
            (k.decode() if isinstance(k, bytes) else str(k)): v
            for k, v in counts.items()
            if k not in (None, b"", "")
        }
    return out


def _out_of_sight(snap: Snapshot, c: Criteria, public_only: bool) -> tuple[frozenset, tuple]:
    """The documents this search must neither find nor count (in totals and facets): the
    deleted ones and, unless the viewer may include them, the restricted ones — for a scoped
    moderator, those outside their areas (a restricted document with no area too). Returns
    them with a key naming the scope (for what a snapshot remembers per scope).

    Filtering here, before anything is counted, keeps facets from telling a moderator that
    held or rejected text exists in an area they do not moderate."""
    if public_only or not c.include_restricted:
        if public_only:  # the filter sets hold vis=public
            return snap.deleted, ("public",)
        return snap.deleted | snap.term_set("vis", "restricted"), ("public",)
    if c.restricted_areas is None:
        return snap.deleted, ("all",)
    scope = frozenset(c.restricted_areas)
    key = ("out_of_sight", scope)
    found = snap.memo.get(key)
    if found is None:
        areas = snap.column("area")
        mine = {str(a).encode() for a in scope} | {str(a) for a in scope}
        outside = frozenset(d for d in snap.term_set("vis", "restricted") if areas[d] not in mine)
        found = snap.memo[key] = snap.deleted | outside
    return found, ("areas", scope)


def _unfiltered(
    snap: Snapshot, c: Criteria, excluded, scope: tuple, limit: int, facets: bool
) -> tuple[list[int], int, dict]:
    """No words, no filters: the newest documents, and facets over everything in sight."""
    total = snap.doc_count - len(excluded - snap.deleted)
    top = []
    if c.effective_sort == "newest":
        top = [d for d in snap.newest(None, limit + len(excluded)) if d not in excluded]
    groups: dict = {}
    if facets:  # the same for every unfiltered page of this snapshot and scope: count once
        key = ("facets", scope)
        groups = snap.memo.get(key)
        if groups is None:
            everything = [d for d in range(snap.doc_count_all) if d not in excluded]
            groups = snap.memo[key] = _facets(snap, everything)
        groups = {k: dict(v) for k, v in groups.items()}
    return top, total, groups


def run(
    snap: Snapshot,
    c: Criteria,
    limit: int,
    facets: bool = True,
    max_expansion: int = MAX_EXPANSION,
    public_only: bool = False,
) -> RawResults:
    """Search one snapshot: the best ``limit`` hits, the exact total and facet counts.

    Restricted documents count only with ``include_restricted``, and then only those in
    ``restricted_areas`` (when given): hits, totals and facets alike. Raises ``TooBroad``.
    """
    ev = _Evaluator(snap, max_expansion)
    match: Match | None = None
    if c.query.node is not None:
        match = ev.node(c.query.node) or Match(set(), [])
    excluded, scope = _out_of_sight(snap, c, public_only)
    allowed = None
    for s in sorted(_filter_sets(snap, c, public_only), key=len):
        allowed = set(s) if allowed is None else allowed.intersection(s)
    if match is None and allowed is None:
        top, total, groups = _unfiltered(snap, c, excluded, scope, limit, facets)
    else:
        if match is not None:
            matches = match.docs - excluded if excluded else set(match.docs)
            if allowed is not None:
                matches &= allowed
        else:
            matches = allowed - excluded
        total = len(matches)
        created = snap.created()
        if c.effective_sort == "newest" or match is None:
            top = heapq.nlargest(limit, matches, key=created.__getitem__)
        else:
            top = _best(match.scores(matches), created, limit)
        groups = _facets(snap, matches) if facets else {}
    hits = []
    for d in top[:limit]:
        stored = snap.stored(d)
        hits.append((stored["kind"], int(stored["pk"])))
    groups.setdefault("committee", {})
    groups.setdefault("area", {})
    return RawResults(hits, total, groups, ev.exact, ev.stems)


def percolate(
    docs: list[dict], searches: list[tuple[object, Criteria]], max_expansion: int = MAX_EXPANSION
) -> dict[object, list[str]]:
    """Which of ``docs`` each saved search matches, using a throw-away in-memory index.

    This is how saved searches hear of new contributions: the batch the indexer just wrote
    is indexed again in memory and every saved search is run against those few documents,
    so the cost grows with the batch, not with the whole index.
    """
    if not docs or not searches:
        return {}
    ix = RamStorage().create_index(make_schema())
    w = ix.writer()
    for doc in docs:
        w.add_document(**to_fields(doc))
    w.commit()
    toc = ix._read_toc()
    segments = [(_Segment(ix.storage, toc.schema, s), s) for s in toc.segments]
    snap = Snapshot("ram", toc.generation, segments)
    out: dict[object, list[str]] = {}
    try:
        for key, c in searches:
            try:
                raw = run(
                    snap,
                    c,
                    limit=len(docs),
                    facets=False,
                    max_expansion=max_expansion,
                    public_only=True,
                )
            except TooBroad:
                continue
            if raw.hits:
                out[key] = [f"{kind[0]}{pk}" for kind, pk in raw.hits]
    finally:
        for seg, _s in segments:
            seg.close()
    return out
