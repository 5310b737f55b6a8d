"""The search index: the only module that imports ``whoosh`` (package whoosh-reloaded).

Layout on disk: ``SEARCH_INDEX_DIR`` holds one directory per *generation* (a complete index)
and a file ``CURRENT`` naming the generation in use. A rebuild fills a new generation while
the current one keeps serving, then replaces ``CURRENT`` atomically (write a temporary file,
``os.replace``). Readers notice the new name on their next search. Each generation carries
``borgerdialog.json`` with its schema version; an index without one, of an older version, or
that Whoosh cannot open is reported as unavailable and gets rebuilt.

Whoosh allows one writer per index (a second ``ix.writer()`` fails at once); the indexer is the
only writer, and the extra file lock ``WRITER.lock`` makes sure only one process or thread
plays that part at a time. Searchers are pooled per process: a Whoosh searcher must not be
used by two threads at once, and opening one costs far more than reusing it.

What a document holds (one per topic and one per post; ids ``t<id>`` and ``p<id>``):

* ``title`` (topics), ``body`` (post text or topic introduction, from the Markdown source),
  ``ttitle`` (the title of a post's topic, weighted low) — each twice: stemmed Danish with stop
  words removed (``title``, ``body``, ``ttitle``), and unstemmed (``*_x``) so exact word forms,
  English and prefixes find their words too; ``author`` (display name, unstemmed);
* filters: ``committee``, ``area``, ``topic``, ``author_id``, ``role``, ``party``, ``stance``,
  ``state``, ``vis`` ("public": anyone may see it; "restricted": only its author and
  moderators), ``created``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring, sorting
from whoosh.analysis import Filter, RegexTokenizer
from whoosh.fields import DATETIME, ID, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import LockError
from whoosh.lang.snowball.danish import DanishStemmer

from . import language
from .query import AllOf, AnyOf, Criteria, Node, Not, Phrase, Prefix, Word

SCHEMA_VERSION = 1
META_FILE = "borgerdialog.json"
CURRENT_FILE = "CURRENT"
ROLE_LOCK = "WRITER"
MAX_EXPANSION = 100  # words one prefix* may stand for

STEM_FIELDS = {"title": 3.0, "body": 1.0, "ttitle": 0.3}
EXACT_FIELDS = {"title_x": 1.5, "body_x": 0.5, "ttitle_x": 0.15, "author": 0.6}
TOKEN_PATTERN = r"\d+(?:[.,]\d+)+|\w+"
_TOKEN_RE = re.compile(TOKEN_PATTERN, re.UNICODE)


class IndexUnavailable(Exception):
    """No usable index: ``reason`` is "missing", "unreadable" or "old_schema"."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class IndexBusy(Exception):
    """Another writer holds the index."""


class TooBroad(Exception):
    """A prefix stands for more words than a query may expand to."""

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix)
        self.prefix = prefix


# --- analysis ------------------------------------------------------------------------------

_snowball = DanishStemmer().stem


@lru_cache(maxsize=200_000)
def stem(folded: str) -> str:
    """The stem of a folded, lower-case word (Snowball Danish plus ``language``'s fixes)."""
    return language.stem_with(folded, _snowball)


class DanishFilter(Filter):
    """Lower-case and fold every token; with ``stemming``, also drop stop words and stem.

    Positions are renumbered over the dropped stop words, so the phrase "skole og vej" finds
    "skole og vej" (and "skole i vej") the same way the query side reads it.
    """

    def __init__(self, stemming: bool = True) -> None:
        self.stemming = stemming

    def __call__(self, tokens):
        fold, stop, stemming = language.fold, language.STOP_WORDS, self.stemming
        pos = 0
        for t in tokens:
            word = fold(t.text)
            if stemming:
                if word in stop:
                    continue
                word = stem(word)
            t.text = word
            if t.positions:
                t.pos = pos
                pos += 1
            yield t


def danish_analyzer():
    return RegexTokenizer(TOKEN_PATTERN) | DanishFilter(stemming=True)


def exact_analyzer():
    return RegexTokenizer(TOKEN_PATTERN) | DanishFilter(stemming=False)


def analyse(text: str) -> list[tuple[int, int, str, str | None]]:
    """Each word of ``text`` as ``(start, end, exact form, stem or None for a stop word)``."""
    out = []
    for m in _TOKEN_RE.finditer(text):
        exact = language.fold(m.group())
        out.append((m.start(), m.end(), exact,
                    None if exact in language.STOP_WORDS else stem(exact)))
    return out


def make_schema() -> Schema:
    da, ex = danish_analyzer(), exact_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        pk=ID(stored=True),
        topic=ID(stored=True),
        committee=ID(stored=True, sortable=True),
        area=ID(stored=True, sortable=True),
        author_id=ID(stored=True),
        role=ID(stored=True),
        party=ID(stored=True),
        stance=ID(stored=True),
        state=ID(stored=True),
        vis=ID(stored=True),
        created=DATETIME(stored=True, sortable=True),
        title=TEXT(analyzer=da, phrase=True, stored=True),
        title_x=TEXT(analyzer=ex, phrase=False),
        body=TEXT(analyzer=da, phrase=True),
        body_x=TEXT(analyzer=ex, phrase=False),
        ttitle=TEXT(analyzer=da, phrase=True),
        ttitle_x=TEXT(analyzer=ex, phrase=False),
        author=TEXT(analyzer=ex, phrase=False, stored=True),
    )


def to_fields(doc: dict) -> dict:
    """A document as Whoosh takes it: text fields doubled, empty values left out."""
    out = {k: v for k, v in doc.items() if v is not None and v != ""}
    for name in ("title", "body", "ttitle"):
        if name in out:
            out[name + "_x"] = out[name]
    return out


# --- the directory of generations -----------------------------------------------------------


@dataclass
class Health:
    ok: bool
    reason: str = ""  # "missing", "unreadable", "old_schema"
    detail: str = ""
    generation: str | None = None


class IndexStore:
    """The generations under one ``SEARCH_INDEX_DIR``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._opened: dict[str, whoosh_index.Index] = {}
        self._lock = threading.Lock()

    # naming and metadata

    def current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT_FILE).read_text().strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return name or None

    def _meta(self, name: str) -> dict:
        return json.loads((self.root / name / META_FILE).read_text())

    def _write_meta(self, name: str, **values) -> None:
        path = self.root / name / META_FILE
        meta = {"schema_version": SCHEMA_VERSION, "complete": False}
        if path.exists():
            meta.update(json.loads(path.read_text()))
        meta.update(values)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, path)

    def health(self) -> Health:
        """Is there a current generation of this schema version that Whoosh can open?"""
        name = self.current_name()
        if name is None:
            return Health(False, "missing", f"no index in {self.root}")
        try:
            meta = self._meta(name)
        except FileNotFoundError:
            return Health(False, "old_schema", f"{name} has no {META_FILE}", name)
        except (OSError, ValueError) as exc:
            return Health(False, "unreadable", f"{name}: {exc}", name)
        if meta.get("schema_version") != SCHEMA_VERSION or not meta.get("complete"):
            return Health(
                False, "old_schema",
                f"{name} has schema version {meta.get('schema_version')}, "
                f"this code needs {SCHEMA_VERSION}",
                name,
            )
        try:
            ix = self.open(name)
            with ix.reader() as reader:
                reader.doc_count()
        except Exception as exc:  # noqa: BLE001 — any failure to open means "rebuild it"
            self.forget(name)
            return Health(False, "unreadable", f"{name}: {type(exc).__name__}: {exc}", name)
        return Health(True, generation=name)

    def open(self, name: str) -> whoosh_index.Index:
        with self._lock:
            ix = self._opened.get(name)
            if ix is None:
                ix = FileStorage(str(self.root / name)).open_index()
                self._opened[name] = ix
            return ix

    def forget(self, name: str) -> None:
        with self._lock:
            self._opened.pop(name, None)

    def current(self) -> tuple[str, whoosh_index.Index]:
        """The current generation, or ``IndexUnavailable``."""
        health = self.health_cached()
        if not health.ok:
            raise IndexUnavailable(health.reason, health.detail)
        return health.generation, self.open(health.generation)

    _health_key: tuple | None = None
    _health: Health | None = None

    def health_cached(self) -> Health:
        """``health()``, redone only when ``CURRENT`` or the generation's metadata changed."""
        key = (self._stat(self.root / CURRENT_FILE),)
        name = self.current_name()
        if name:
            key += (self._stat(self.root / name / META_FILE),)
        if key != self._health_key or self._health is None:
            self._health = self.health()
            self._health_key = key
        return self._health

    @staticmethod
    def _stat(path: Path) -> tuple | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    # making generations

    def create_generation(self) -> tuple[str, whoosh_index.Index]:
        """A new, empty, incomplete generation (not current until ``swap``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = "g" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        path = self.root / name
        path.mkdir()
        ix = FileStorage(str(path)).create_index(make_schema())
        self._write_meta(name, schema_version=SCHEMA_VERSION, complete=False,
                         created=datetime.now(UTC).isoformat(timespec="seconds"))
        with self._lock:
            self._opened[name] = ix
        return name, ix

    def mark_complete(self, name: str) -> None:
        self._write_meta(name, complete=True)

    def swap(self, name: str) -> str | None:
        """Make ``name`` current in one atomic step; returns the generation it replaced."""
        old = self.current_name()
        tmp = self.root / f".{CURRENT_FILE}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(name + "\n")
        os.replace(tmp, self.root / CURRENT_FILE)
        return old

    def generations(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and p.name.startswith("g"))

    def remove_old(self, keep: Iterable[str], min_age_s: float = 6 * 3600) -> list[str]:
        """Delete generations other than ``keep``; incomplete ones only once ``min_age_s`` old
        (another process may be filling one)."""
        keep = set(keep)
        removed = []
        for name in self.generations():
            if name in keep:
                continue
            path = self.root / name
            try:
                complete = bool(self._meta(name).get("complete"))
            except (OSError, ValueError):
                complete = False
            if not complete and time.time() - path.stat().st_mtime < min_age_s:
                continue
            self.forget(name)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(name)
        return removed

    def size_bytes(self, name: str) -> int:
        path = self.root / name
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file()) if path.is_dir() else 0

    @contextmanager
    def writer_role(self) -> Iterator[bool]:
        """Try to become the one writer; yields whether it worked (never blocks)."""
        lock = self.role_lock()
        got = lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                lock.release()

    def role_lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        return FileStorage(str(self.root)).lock(ROLE_LOCK)


# --- writing --------------------------------------------------------------------------------


class Writer:
    """Adds, replaces and deletes documents in one generation; ``commit`` makes them visible."""

    def __init__(self, ix: whoosh_index.Index, timeout: float = 5.0, **kwargs) -> None:
        try:
            self._w = ix.writer(timeout=timeout, **kwargs)
        except LockError as exc:
            raise IndexBusy(str(exc)) from None
        self.count = 0

    def upsert(self, doc: dict) -> None:
        self._w.update_document(**to_fields(doc))
        self.count += 1

    def add(self, doc: dict) -> None:
        """Add without looking for an older copy (only for a fresh generation)."""
        self._w.add_document(**to_fields(doc))
        self.count += 1

    def delete(self, doc_id: str) -> None:
        self._w.delete_by_term("id", doc_id)
        self.count += 1

    def commit(self, optimize: bool = False) -> None:
        self._w.commit(optimize=optimize)

    def cancel(self) -> None:
        self._w.cancel()


def stored_document(ix: whoosh_index.Index, doc_id: str) -> dict | None:
    with ix.searcher() as s:
        return s.document(id=doc_id)


def doc_count(ix: whoosh_index.Index) -> int:
    with ix.reader() as r:
        return r.doc_count()


def fingerprint(ix: whoosh_index.Index) -> dict[str, dict]:
    """Everything a document contributes to the index: stored fields and (field, term, weight).

    Two indexes with equal fingerprints answer every query the same way (used by the tests
    that compare an index followed through a crash with a fresh rebuild).
    """
    with ix.reader() as r:
        docs: dict[int, dict] = {n: {"stored": dict(f), "terms": set()} for n, f in r.iter_docs()}
        for fieldname in r.indexed_field_names():
            for termbytes in r.lexicon(fieldname):
                m = r.postings(fieldname, termbytes)
                while m.is_active():
                    if m.id() in docs:
                        docs[m.id()]["terms"].add((fieldname, termbytes, round(m.weight(), 4)))
                    m.next()
    return {d["stored"]["id"]: d for d in docs.values()}


# --- reading --------------------------------------------------------------------------------


class SearcherPool:
    """Searchers for the current generation, each used by one thread at a time."""

    REFRESH_EVERY = 0.1  # seconds between checks for a newer commit

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._idle: list[tuple[str, object, float]] = []  # (generation, searcher, checked at)
        self._closed = False

    @contextmanager
    def searcher(self) -> Iterator[object]:
        """A Whoosh searcher on the current generation, refreshed to its latest commit."""
        name, ix = self.store.current()
        s, checked = None, 0.0
        with self._lock:
            while self._idle:
                gen, cand, when = self._idle.pop()
                if gen == name:
                    s, checked = cand, when
                    break
                cand.close()
        try:
            if s is None:
                s = ix.searcher(weighting=scoring.BM25F())
                checked = time.monotonic()
            elif time.monotonic() - checked > self.REFRESH_EVERY:
                s = s.refresh()
                checked = time.monotonic()
        except Exception as exc:  # noqa: BLE001 — a broken generation must not be a 500
            if s is not None:
                s.close()
            self.store.forget(name)
            self.store._health = None
            raise IndexUnavailable("unreadable", f"{name}: {type(exc).__name__}: {exc}") from exc
        ok = False
        try:
            yield s
            ok = True
        finally:
            with self._lock:
                if ok and not self._closed and len(self._idle) < 16:
                    self._idle.append((name, s, checked))
                else:
                    s.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            while self._idle:
                self._idle.pop()[1].close()


# --- queries --------------------------------------------------------------------------------


@dataclass
class Compiled:
    query: object | None  # a whoosh query; None: matches nothing
    exact_terms: set[str] = field(default_factory=set)
    stem_terms: set[str] = field(default_factory=set)


def _term_query(exact: str, stem_: str | None) -> wq.Query:
    parts = [wq.Term(f, stem_, boost=b) for f, b in STEM_FIELDS.items()] if stem_ else []
    parts += [wq.Term(f, exact, boost=b) for f, b in EXACT_FIELDS.items()]
    return wq.Or(parts)


def _exact_query(exact: str) -> wq.Query:
    return wq.Or([wq.Term(f, exact, boost=b) for f, b in EXACT_FIELDS.items()])


def _phrase_query(stems: list[str]) -> wq.Query:
    return wq.Or([wq.Phrase(f, stems, boost=b) for f, b in STEM_FIELDS.items()])


class _Compiler:
    def __init__(self, reader, max_expansion: int) -> None:
        self.reader = reader
        self.max_expansion = max_expansion
        self.exact: set[str] = set()
        self.stems: set[str] = set()

    def node(self, node: Node, positive: bool = True) -> wq.Query | None:
        if isinstance(node, Word):
            return self.word(node.text, positive)
        if isinstance(node, Phrase):
            return self.phrase(node.text, positive)
        if isinstance(node, Prefix):
            return self.prefix(node.text, positive)
        if isinstance(node, AnyOf):
            parts = [q for q in (self.node(c, positive) for c in node.children) if q is not None]
            return wq.Or(parts) if parts else None
        if isinstance(node, AllOf):
            pos = [q for q in (self.node(c, positive) for c in node.children
                               if not isinstance(c, Not)) if q is not None]
            if any(q is wq.NullQuery for q in pos):
                return wq.NullQuery
            neg = [q for q in (self.node(c.child, False) for c in node.children
                               if isinstance(c, Not)) if q is not None]
            main = wq.And(pos) if len(pos) > 1 else pos[0] if pos else None
            if main is None:
                return None
            return wq.AndNot(main, wq.Or(neg)) if neg else main
        if isinstance(node, Not):  # only reachable inside AllOf, handled there
            return None
        raise TypeError(node)

    def _remember(self, words: list[tuple[int, int, str, str | None]], positive: bool) -> None:
        if positive:
            for _s, _e, exact, stem_ in words:
                self.exact.add(exact)
                if stem_:
                    self.stems.add(stem_)

    def word(self, text: str, positive: bool) -> wq.Query | None:
        words = analyse(text)
        if not words:
            return None
        self._remember(words, positive)
        if len(words) == 1:
            _s, _e, exact, stem_ = words[0]
            return _term_query(exact, stem_)
        # "cykel-sti", "Holbæk's": the words next to each other, or written as one.
        stems = [w[3] for w in words if w[3]]
        joined = "".join(w[2] for w in words)
        alternatives = [_term_query(joined, stem(joined))]
        if len(stems) > 1:
            alternatives.append(_phrase_query(stems))
        elif stems:
            alternatives.append(wq.Or([wq.Term(f, stems[0], boost=b)
                                       for f, b in STEM_FIELDS.items()]))
        return wq.Or(alternatives)

    def phrase(self, text: str, positive: bool) -> wq.Query | None:
        words = analyse(text)
        if not words:
            return None
        self._remember(words, positive)
        if len(words) == 1:
            return _exact_query(words[0][2])  # one quoted word: exactly that form
        stems = [w[3] for w in words if w[3]]
        if not stems:
            return None
        if len(stems) == 1:
            return wq.Or([wq.Term(f, stems[0], boost=b) for f, b in STEM_FIELDS.items()])
        return _phrase_query(stems)

    def prefix(self, text: str, positive: bool) -> wq.Query | None:
        prefix = language.fold("".join(_TOKEN_RE.findall(text)))
        terms: dict[str, set[str]] = {}
        distinct: set[str] = set()
        for fieldname in EXACT_FIELDS:
            for termbytes in self.reader.expand_prefix(fieldname, prefix):
                word = termbytes.decode("utf-8")
                terms.setdefault(fieldname, set()).add(word)
                distinct.add(word)
                if len(distinct) > self.max_expansion:
                    raise TooBroad(text)
        if positive:
            self.exact |= distinct
        if not distinct:
            return wq.NullQuery
        return wq.Or([wq.Term(f, w, boost=EXACT_FIELDS[f])
                      for f, words in terms.items() for w in sorted(words)])


def _filters(c: Criteria) -> list[wq.Query]:
    out: list[wq.Query] = []
    for fieldname, value in (
        ("committee", c.committee_id), ("area", c.area_id), ("topic", c.topic_id),
        ("role", c.role), ("party", c.party), ("stance", c.stance),
    ):
        if value is not None and value != "":
            out.append(wq.Term(fieldname, str(value)))
    if c.created_from is not None or c.created_until is not None:
        out.append(wq.DateRange("created", c.created_from, c.created_until,
                                startexcl=False, endexcl=True))
    return out


def compile_criteria(reader, c: Criteria, max_expansion: int = MAX_EXPANSION,
                     public_only: bool = False) -> Compiled:
    """The Whoosh query for ``c``: its words AND its filters (filters do not change scores).

    Raises ``TooBroad`` for a prefix that stands for too many words.
    """
    comp = _Compiler(reader, max_expansion)
    main = comp.node(c.query.node) if c.query.node is not None else wq.Every()
    if main is None or main is wq.NullQuery:
        return Compiled(None, comp.exact, comp.stems)
    filters = _filters(c)
    if public_only:
        filters.append(wq.Term("vis", "public"))
    if filters:
        main = wq.And([main, *[wq.ConstantScoreQuery(f, 0.0) for f in filters]])
    return Compiled(main, comp.exact, comp.stems)


@dataclass
class RawResults:
    hits: list[tuple[str, int]]  # (kind, pk), best first
    total: int
    facets: dict[str, dict[str, int]]
    exact_terms: set[str]
    stem_terms: set[str]


_RESTRICTED = wq.Term("vis", "restricted")


def run(searcher, c: Criteria, limit: int, facets: bool = True,
        max_expansion: int = MAX_EXPANSION) -> RawResults:
    """Search one generation. Restricted documents count only with ``include_restricted``."""
    compiled = compile_criteria(searcher.reader(), c, max_expansion)
    if compiled.query is None:
        return RawResults([], 0, {"committee": {}, "area": {}}, compiled.exact_terms,
                          compiled.stem_terms)
    kwargs: dict = {"limit": limit}
    if not c.include_restricted:
        kwargs["mask"] = _RESTRICTED
    if c.effective_sort == "newest":
        kwargs["sortedby"] = sorting.FieldFacet("created", reverse=True)
    if facets:
        kwargs["groupedby"] = {
            "committee": sorting.FieldFacet("committee", allow_overlap=False),
            "area": sorting.FieldFacet("area", allow_overlap=False),
        }
        kwargs["maptype"] = sorting.Count
    results = searcher.search(compiled.query, **kwargs)
    hits = []
    for hit in results:
        stored = hit.fields()
        hits.append((stored["kind"], int(stored["pk"])))
    groups: dict[str, dict[str, int]] = {"committee": {}, "area": {}}
    if facets:
        for name in groups:
            groups[name] = {str(k): v for k, v in results.groups(name).items() if k}
    return RawResults(hits, len(results), groups, compiled.exact_terms, compiled.stem_terms)


def percolate(docs: list[dict], searches: list[tuple[object, Criteria]],
              max_expansion: int = MAX_EXPANSION) -> dict[object, list[str]]:
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
    out: dict[object, list[str]] = {}
    with ix.searcher(weighting=scoring.BM25F()) as s:
        for key, c in searches:
            try:
                compiled = compile_criteria(s.reader(), c, max_expansion, public_only=True)
            except TooBroad:
                continue
            if compiled.query is None:
                continue
            found = [hit["id"] for hit in s.search(compiled.query, limit=None)]
            if found:
                out[key] = found
    return out


def index_size(store: IndexStore, name: str) -> int:
    return store.size_bytes(name)


def open_role_lock(root: str | os.PathLike):
    return IndexStore(root).role_lock()
