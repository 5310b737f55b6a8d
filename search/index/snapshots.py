"""Reading: the segments this process has opened, what queries decoded from them (bounded
caches), and snapshots (one commit of a generation) with their BM25 statistics."""

from __future__ import annotations

import heapq
import math
import threading
import time
import warnings
from array import array
from bisect import bisect_left, bisect_right
from itertools import accumulate, repeat
from operator import add, itemgetter, mul, truediv

from whoosh import query as wq
from whoosh.reading import TermNotFound

from .analysis import STEM_FIELDS
from .storage import IndexStore, IndexUnavailable

# --- reading: how queries use the index -------------------------------------------------------
#
# Whoosh stores the index; it does not evaluate our queries. Its matcher tree costs 5–15 µs
# per matching document in pure Python, and counting facets means visiting every match: a
# word found in a fifth of 100,000 posts took over a second. Instead each query works on the
# postings as sets and dictionaries (set intersection and ``dict(zip(...))`` run in C):
#
# * a segment's postings never change once written, so each term's postings are decoded
#   once, with their BM25 term-frequency part, and kept (bounded, least recently used);
# * a *snapshot* is one commit of a generation: its segments, their deletions and offsets.
#   After a commit only the new (small) segments are opened; the rest are reused;
# * filters are sets of documents per value, cached per segment; facets are counted over the
#   matching set from per-segment arrays; the page is ``heapq.nlargest`` of the scores;
# * phrases ask Whoosh (it has the positions) only for documents that hold every word.
#
# Scores are BM25 per field (k1=1.2, b=0.75) with field boosts, summed over fields (Whoosh's
# BM25F works the same way). Every statistic is the whole snapshot's, over its live documents:
# the document count, each term's document frequency and each field's average length. (With
# each segment's own average, a short new post alone in a small segment ranked 48th of 67
# until a rebuild put it 1st.) So a query ranks an index followed commit by commit exactly as
# it ranks the same content rebuilt; equal scores are ordered newest first.

K1, B = 1.2, 0.75
CACHE_POSTINGS = 6_000_000  # decoded postings kept per process (12 bytes each: about 70 MB)
CACHE_TERM_SCORES = 2_000_000  # per snapshot: {doc: score} of recently searched terms


class _Segment:
    """One immutable segment: its reader, and what queries decoded from it."""

    def __init__(self, storage, schema, segment) -> None:
        from whoosh.reading import SegmentReader

        self.id = segment.segment_id()
        self.reader = SegmentReader(storage, schema, segment)
        self.doc_count_all = segment.doc_count_all()
        self.lock = threading.RLock()  # Whoosh readers share file positions
        self._columns: dict[str, list] = {}
        self._lengths: dict[str, object] = {}
        self._sets: dict[tuple[str, str], frozenset[int]] = {}
        self._by_created: list[tuple[int, int]] | None = None

    def close(self) -> None:
        with self.lock:
            self.reader.close()

    def doc_frequency(self, field_: str, term: str) -> int:
        with self.lock:
            return self.reader.doc_frequency(field_, term)

    def field_length(self, field_: str) -> int:
        return self.reader.field_length(field_)

    def lengths_of(self, field_: str) -> list[int]:
        """Each document's length in ``field_`` (as Whoosh keeps it: one byte, approximate)."""
        lengths = self._lengths.get(field_)
        if lengths is None:
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
            from whoosh.util.numeric import byte_to_length

            with self.lock:
                col = self.reader._perdoc._cached_reader(_lenfield(field_), LENGTHS_COLUMN)
                raw = col.load() if col is not None else [0] * self.doc_count_all
            lengths = [byte_to_length(b) for b in raw]
            self._lengths[field_] = lengths
        return lengths

    def length_total(self, field_: str) -> int:
        """The sum of ``lengths_of(field_)``, deleted documents included."""
        key = ("total", field_)
        total = self._lengths.get(key)
        if total is None:
            total = self._lengths[key] = sum(self.lengths_of(field_))
        return total

    def postings(self, field_: str, term: str, scored: bool) -> tuple:
        """(local doc ids, term frequencies or None): decoded once, kept in the LRU. The
        BM25 parts depend on the whole snapshot and are worked out there."""
        key = (self.id, field_, term, scored)
        hit = _postings_cache.get(key)
        if hit is not None:
            return hit
        with self.lock:
            try:
                m = self.reader.postings(field_, term)
            except TermNotFound:  # a term this segment does not have
                value = (array("I"), array("f") if scored else None)
                _postings_cache.put(key, value, 1)
                return value
            ids, weights = _decode(m)
        value = (ids, weights if scored else None)
        _postings_cache.put(key, value, len(ids) + 1)
        return value

    def term_set(self, field_: str, value: str) -> frozenset[int]:
        key = (field_, value)
        found = self._sets.get(key)
        if found is None:
            found = frozenset(self.postings(field_, value, scored=False)[0])
            self._sets[key] = found
        return found

    def column(self, field_: str) -> list:
        values = self._columns.get(field_)
        if values is None:
            with self.lock:
                if self.reader.has_column(field_):
                    cr = self.reader.column_reader(field_, translate=False)
                    values = list(cr)
                else:
                    values = [None] * self.doc_count_all
            self._columns[field_] = values
        return values

    def by_created(self) -> list[tuple[int, int]]:
        """(created, local doc id) pairs, oldest first."""
        if self._by_created is None:
            created = self.column("created")
            self._by_created = sorted(zip(created, range(self.doc_count_all), strict=True))
        return self._by_created

    def common_terms(self, field_: str, min_docs: int) -> list[tuple[int, str]]:
        """(doc frequency, term) of the terms in at least ``min_docs`` documents."""
        with self.lock:
            return [
                (info.doc_frequency(), t.decode("utf-8"))
                for t, info in self.reader.iter_field(field_)
                if info.doc_frequency() >= min_docs
            ]

    def warm(self, budget: int) -> int:
        """Decode the postings of the commonest terms ahead of the first queries that need
        them (the slowest part of a query on a cold segment); returns the postings read."""
        min_docs = max(50, self.doc_count_all // 200)
        terms = sorted(
            ((df, f, t) for f in STEM_FIELDS for df, t in self.common_terms(f, min_docs)),
            reverse=True,
        )
        done = 0
        for df, f, t in terms:
            if done + df > budget:
                break
            self.postings(f, t, scored=True)
            done += df
        return done

    def expand_prefix(self, field_: str, prefix: str) -> list[str]:
        with self.lock:
            return [t.decode("utf-8") for t in self.reader.expand_prefix(field_, prefix)]

    def stored(self, local: int) -> dict:
        with self.lock:
            return self.reader.stored_fields(local)

    def phrase_docs(self, field_: str, words: list[str]) -> list[int]:
        from whoosh.searching import Searcher

        with self.lock:
            s = Searcher(self.reader, closereader=False)
            return list(wq.Phrase(field_, words).docs(s))


def _decode(m) -> tuple[array, array]:
    """All (doc id, weight) of a Whoosh matcher, a whole block at a time where it can (the
    W3 format keeps each block's ids as deltas: ``accumulate`` undoes them in C)."""
    ids, weights = array("I"), array("f")
    if hasattr(m, "_next_block") and not getattr(m, "_byteids", False):
        while m.is_active():
            if m._data is None:
                m._read_data()
            deltas, w = m._data[0], m._data[1]
            n = m._blocklength
            ids.extend(accumulate(deltas))
            if w is None:
                weights.extend(repeat(1.0, n))
            elif isinstance(w, float):
                weights.extend(repeat(w, n))
            else:
                weights.extend(w if isinstance(w, array) and w.typecode == "f" else array("f", w))
            m._next_block()
    else:  # short posting lists stored inline in the term table
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
    return ids, weights


class _LRU:
    """Least-recently-used values, bounded by a total weight."""

    def __init__(self, capacity: int) -> None:
        from collections import OrderedDict

        self.capacity = capacity
        self.size = 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key, value, weight: int) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (value, weight)
            self.size += weight
            while self.size > self.capacity and len(self._items) > 1:
                _k, (_v, w) = self._items.popitem(last=False)
                self.size -= w


_postings_cache = _LRU(CACHE_POSTINGS)


class Snapshot:
    """One commit of one generation: what a query sees, consistent from start to end."""

    def __init__(self, name: str, generation: int, parts: list[tuple[_Segment, object]]) -> None:
        self.name = name
        self.generation = generation
        self.segments: list[_Segment] = []
        self.offsets: list[int] = []
        self.local_deleted: list[frozenset[int]] = []  # per segment, its own numbers
        deleted: set[int] = set()
        offset = 0
        for seg, toc_segment in parts:
            self.segments.append(seg)
            self.offsets.append(offset)
            local = frozenset(toc_segment.deleted_docs()) if toc_segment.has_deletions() else None
            self.local_deleted.append(local or frozenset())
            if local:
                deleted.update(offset + d for d in local)
            offset += seg.doc_count_all
        self.doc_count_all = offset
        self.deleted = frozenset(deleted)
        self.doc_count = offset - len(deleted)
        self._global_sets: dict[tuple[str, str], frozenset[int]] = {}
        self._columns: dict[str, list] = {}
        self._term_cache = _LRU(CACHE_TERM_SCORES)
        self.memo: dict = {}
        self._lock = threading.Lock()

    # documents across segments

    def locate(self, docnum: int) -> tuple[_Segment, int]:
        i = bisect_right(self.offsets, docnum) - 1
        return self.segments[i], docnum - self.offsets[i]

    def stored(self, docnum: int) -> dict:
        seg, local = self.locate(docnum)
        return seg.stored(local)

    def term_set(self, field_: str, value: str) -> frozenset[int]:
        key = (field_, value)
        found = self._global_sets.get(key)
        if found is None:
            parts = []
            for seg, off in zip(self.segments, self.offsets, strict=True):
                local = seg.term_set(field_, value)
                parts.append(local if off == 0 else frozenset(off + d for d in local))
            found = frozenset().union(*parts) - self.deleted
            with self._lock:
                self._global_sets[key] = found
        return found

    def column(self, field_: str) -> list:
        found = self._columns.get(field_)
        if found is None:
            found = []
            for seg in self.segments:
                found.extend(seg.column(field_))
            self._columns[field_] = found
        return found

    def created(self) -> list:
        return self.column("created")

    def doc_frequency(self, field_: str, term: str) -> int:
        """How many live documents hold ``term`` in ``field_`` (deleted ones left out, as a
        rebuilt index would have them)."""
        df = 0
        for seg, dels in zip(self.segments, self.local_deleted, strict=True):
            ids = seg.postings(field_, term, scored=True)[0]
            df += len(ids) - (len(dels.intersection(ids)) if dels and ids else 0)
        return df

    def idf(self, field_: str, term: str) -> float:
        df = self.doc_frequency(field_, term)
        n = max(self.doc_count, 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def avg_length(self, field_: str) -> float:
        """The average length of ``field_`` over the live documents of the whole snapshot."""
        key = ("avg_length", field_)
        avg = self.memo.get(key)
        if avg is None:
            total = 0
            for seg, dels in zip(self.segments, self.local_deleted, strict=True):
                total += seg.length_total(field_)
                if dels:
                    lengths = seg.lengths_of(field_)
                    total -= sum(map(lengths.__getitem__, dels))
            avg = self.memo[key] = (total / max(self.doc_count, 1)) or 1.0
        return avg

    def term_scores(
        self, field_: str, term: str, boost: float, scored: bool = True
    ) -> dict[int, float]:
        """{doc: boost × idf × tf part} for one term in one field, deletions included
        (they are removed once, at the end). Callers must not change the dict: it is kept
        for the next query on this snapshot."""
        key = (field_, term, boost, scored)
        found = self._term_cache.get(key)
        if found is None:
            found = self._term_scores(field_, term, boost, scored)
            self._term_cache.put(key, found, len(found) + 1)
        return found

    def _term_scores(self, field_: str, term: str, boost: float, scored: bool) -> dict[int, float]:
        out: dict[int, float] = {}
        if scored:
            factor = boost * self.idf(field_, term)
            k = K1 * B / self.avg_length(field_)
        else:
            factor = boost
        for seg, off in zip(self.segments, self.offsets, strict=True):
            ids, weights = seg.postings(field_, term, scored)
            if not ids:
                continue
            keys = map(add, ids, repeat(off)) if off else ids
            if scored:
                # BM25's term-frequency part, tf·(k1+1) / (tf + k1·(1 − b + b·len/avg)), for
                # every posting at once, with C-level map() instead of a Python loop.
                lengths = seg.lengths_of(field_)
                denominators = map(
                    add,
                    weights,
                    map(
                        add,
                        repeat(K1 * (1 - B)),
                        map(mul, map(lengths.__getitem__, ids), repeat(k)),
                    ),
                )
                parts = map(truediv, map(mul, weights, repeat(K1 + 1)), denominators)
                out.update(zip(keys, map(mul, parts, repeat(factor)), strict=True))
            else:
                out.update(dict.fromkeys(keys, factor))
        return out

    def expand_prefix(self, field_: str, prefix: str) -> set[str]:
        found: set[str] = set()
        for seg in self.segments:
            found.update(seg.expand_prefix(field_, prefix))
        return found

    def phrase_docs(self, field_: str, words: list[str]) -> set[int]:
        out: set[int] = set()
        for seg, off in zip(self.segments, self.offsets, strict=True):
            out.update(off + d for d in seg.phrase_docs(field_, words))
        return out

    def newest(self, allowed, limit: int) -> list[int]:
        """The ``limit`` newest documents among ``allowed`` (a set, or None for all live)."""
        streams = [
            _newest_first(seg.by_created(), off)
            for seg, off in zip(self.segments, self.offsets, strict=True)
        ]
        out = []
        deleted = self.deleted
        for _neg, d in heapq.merge(*streams):
            if d in deleted or (allowed is not None and d not in allowed):
                continue
            out.append(d)
            if len(out) >= limit:
                break
        return out

    def created_between(self, start: int | None, end: int | None) -> set[int]:
        out: set[int] = set()
        lo_key = (start, -1) if start is not None else None
        hi_key = (end, -1) if end is not None else None
        for seg, off in zip(self.segments, self.offsets, strict=True):
            pairs = seg.by_created()
            lo = bisect_left(pairs, lo_key) if lo_key else 0
            hi = bisect_left(pairs, hi_key) if hi_key else len(pairs)
            out.update(map(add, map(itemgetter(1), pairs[lo:hi]), repeat(off)))
        return out


def _newest_first(pairs: list[tuple[int, int]], offset: int):
    """(−created, snapshot doc id) of one segment's documents, newest first.

    A function of its own so that each segment's stream keeps its own ``offset``: a generator
    expression nested in the list comprehension read the loop variable late, when
    ``heapq.merge`` pulled from it, so every segment got the last segment's offset and an
    empty search asked for documents past the end of the index (an IndexError, a 500).
    """
    return ((-created, offset + d) for created, d in reversed(pairs))


class SnapshotSource:
    """This process's view of the current generation: a fresh snapshot after each commit,
    reusing the segments that did not change."""

    RETIRE_AFTER = 60.0  # seconds a merged-away segment stays open for queries still on it
    WARM_MIN_DOCS = 5_000  # segments this big get their common terms decoded on opening
    WARM_BUDGET = CACHE_POSTINGS // 3  # per segment: leaves room for what queries bring

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._segments: dict[tuple[str, str], _Segment] = {}
        self._retired: list[tuple[float, _Segment]] = []
        self._snapshot: Snapshot | None = None
        self._warming: list[threading.Thread] = []

    def current(self) -> Snapshot:
        name, ix = self.store.current()
        snap = self._snapshot
        if snap is not None and snap.name == name and snap.generation == ix.latest_generation():
            return snap
        problem = None
        with self._lock, warnings.catch_warnings():
            # Whoosh leaves a file it failed on to the garbage collector (see IndexStore.health)
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                return self._open(name, ix)
            except Exception as exc:  # noqa: BLE001 — a broken generation must not be a 500
                problem = f"{name}: {type(exc).__name__}: {exc}"
        self.store.forget(name)
        self.store._health = None
        raise IndexUnavailable("unreadable", problem)

    def _open(self, name: str, ix) -> Snapshot:
        toc = ix._read_toc()
        parts = []
        live = set()
        for toc_segment in toc.segments:
            key = (name, toc_segment.segment_id())
            seg = self._segments.get(key)
            if seg is None:
                seg = _Segment(ix.storage, toc.schema, toc_segment)
                self._segments[key] = seg
                if seg.doc_count_all >= self.WARM_MIN_DOCS:
                    self._warm_later(seg)
            parts.append((seg, toc_segment))
            live.add(key)
        now = time.monotonic()
        for key in list(self._segments):
            if key not in live:  # merged away: other threads may still be reading it
                self._retired.append((now, self._segments.pop(key)))
        while self._retired and now - self._retired[0][0] > self.RETIRE_AFTER:
            self._retired.pop(0)[1].close()
        snap = Snapshot(name, toc.generation, parts)
        self._snapshot = snap
        return snap

    def _warm_later(self, seg: _Segment) -> None:
        def warm() -> None:
            try:
                seg.warm(self.WARM_BUDGET)
            except Exception:  # noqa: BLE001 — a cache, never worth an error
                pass

        thread = threading.Thread(target=warm, name="search-warm", daemon=True)
        self._warming = [t for t in self._warming if t.is_alive()] + [thread]
        thread.start()

    def wait_warm(self, timeout: float | None = None) -> None:
        """Wait for the segments being warmed (benchmarks measure the warm state)."""
        for thread in list(self._warming):
            thread.join(timeout)

    def close(self) -> None:
        self.wait_warm(10)
        with self._lock:
            for seg in [*self._segments.values(), *(seg for _t, seg in self._retired)]:
                seg.close()
            self._segments.clear()
            self._retired.clear()
            self._snapshot = None
