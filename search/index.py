"""The search index: the only module that imports ``whoosh`` (package whoosh-reloaded).

Layout on disk: ``SEARCH_INDEX_DIR`` holds one directory per *generation* (a complete index)
and a file ``CURRENT`` naming the generation in use. A rebuild fills a new generation while
the current one keeps serving, then replaces ``CURRENT`` atomically (write a temporary file,
``os.replace``). Readers notice the new name on their next search. Each generation carries
``borgerdialog.json`` with its schema version; an index without one, of an older version, or
that Whoosh cannot open is reported as unavailable and gets rebuilt.

Whoosh allows one writer per index (a second ``ix.writer()`` fails at once); the indexer is the
only writer, and the extra file lock ``WRITER.lock`` makes sure only one process or thread
plays that part at a time. Queries do not use Whoosh's searchers (see "the query engine"
below): each process keeps the segments it has opened and what it decoded from them.

What a document holds (one per topic and one per post; ids ``t<id>`` and ``p<id>``):

* ``title`` (topics), ``body`` (post text or topic introduction, from the Markdown source),
  ``ttitle`` (the title of a post's topic, weighted low), scored with BM25F (title above
  body). Each word is indexed by its stem (Danish, folded, stop words dropped, lemmatised where
  the word list knows the word: ``language.py``) and — in title
  and body, when it differs — also by its exact folded form, marked ``=``, at the same
  position: "skolerne" gives ``skol`` and ``=skolerne``. Stems find inflections; exact forms
  serve quoted single words, ``prefix*`` and English, and add a little to the score. One
  field instead of a stemmed and an unstemmed copy: a third fewer postings, one tokenising;
* ``author``: the display name, unstemmed;
* filters: ``kind`` ("post", "topic", or another package's kind through
  ``forum.hooks.register_search_source``: "meeting" with ids ``m<id>``, "outcome" with ids
  ``o<id>``), ``committee``, ``area``, ``topic``, ``author_id``, ``role``, ``party``,
  ``stance``, ``state``, ``vis`` ("public": anyone may see it; "restricted": only its author
  and moderators), ``created``, ``origin`` (where a post comes from, e.g. "moeder": said at a
  meeting and entered afterwards; ``forum.hooks.PostOrigin``; a source's items may count under
  an origin too: meetings under "moeder").

Other packages' items (``forum.hooks.SearchSource``) are documents with the same fields.
"""

from __future__ import annotations

import heapq
import json
import math
import operator
import os
import re
import shutil
import struct
import threading
import time
import uuid
import warnings
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import accumulate, compress, repeat
from operator import add, itemgetter, mul, sub, truediv
from pathlib import Path

from whoosh import formats
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import Filter, RegexTokenizer
from whoosh.fields import DATETIME, ID, TEXT, FieldType, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import LockError
from whoosh.lang.snowball.danish import DanishStemmer
from whoosh.reading import TermNotFound

from . import language
from .query import AllOf, AnyOf, Criteria, Node, Not, Phrase, Prefix, Word

SCHEMA_VERSION = 7  # 4: more stemmer fixes (language.py); 5: løn/lønninger, stor/større;
# 6: the lemmatiser (simplemma's word list) before Snowball, grønt; 7: ``origin`` and the
# documents of other packages' search sources (meetings, outcomes)
META_FILE = "borgerdialog.json"
CURRENT_FILE = "CURRENT"
ROLE_LOCK = "WRITER"
MAX_EXPANSION = 200  # words the prefixes of one query may stand for, together

STEM_FIELDS = {"title": 3.0, "body": 1.0, "ttitle": 0.3}  # BM25F boosts
EXACT_FIELDS = {"title": 1.2, "body": 0.4}  # fields holding "=form" terms too
AUTHOR_BOOST = 1.0
PHRASE_FIELDS = ("title", "body")
EXACT_MARK = "="
TOKEN_PATTERN = language.TOKEN_PATTERN
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


def _remember_missing_length_columns() -> None:
    """Whoosh's segment reader looks for a field-lengths file on disk (one ``stat``) for every
    posting of an unscored field, because it caches only the columns it finds. Remember the
    absent ones too: a third of the indexing time at 100,000 documents went to those stats.
    And keep the lengths it finds in memory (below)."""
    from whoosh.codec import whoosh3

    cls = whoosh3.W3PerDocReader
    if getattr(cls, "_borgerdialog_cached", False):
        return
    original = cls._cached_reader

    def _cached_reader(self, fieldname, column):
        if fieldname in self._readers:
            return self._readers[fieldname]
        reader = original(self, fieldname, column)
        if reader is None:
            self._readers[fieldname] = None
        return reader

    cls._cached_reader = _cached_reader

    # Writing a segment asks for a document's field length once per posting, each time
    # reading the lengths column back from the file: read it once, as a list.
    def doc_field_length(self, docnum, fieldname, default=0):
        cache = self.__dict__.setdefault("_borgerdialog_lengths", {})
        lengths = cache.get(fieldname)
        if lengths is None:
            reader = self._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
            lengths = cache[fieldname] = (
                False
                if reader is None
                else [whoosh3.byte_to_length(b) if b else None for b in reader.load()]
            )
        if lengths is False:
            return default
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum} of {self._doccount}")
        return lengths[docnum]

    cls.doc_field_length = doc_field_length
    cls._borgerdialog_cached = True


def _fix_and_not_start() -> None:
    """Whoosh's AndNotMatcher skips the excluded matcher forward only when both start on the
    same document: if the first excluded document comes earlier, the first included one is
    let through even when it is excluded too ("havnebad* -holbæk" returned a post about
    Holbæk's harbour bath). Always line them up."""
    from whoosh.matching.binary import AndNotMatcher

    if getattr(AndNotMatcher, "_borgerdialog_fixed", False):
        return

    def _find_first(self):
        if self.a.is_active() and self.b.is_active():
            self._find_next()

    AndNotMatcher._find_first = _find_first
    AndNotMatcher._borgerdialog_fixed = True


class CompactPostingPool:
    """Whoosh's posting pool (what a writer collects before it writes a segment), kept per
    term in arrays instead of one tuple per posting.

    Whoosh's own pool holds a tuple per posting, sorts them all at the end, and past its
    memory limit pickles them to run files and merges those back one posting at a time:
    at 100,000 documents (11 million postings) pickling, unpickling, the merge and the sort
    were over a third of a rebuild's CPU time. Here postings go straight into their term's
    arrays (documents arrive in order, so nothing is sorted but the term keys); past the
    limit a sorted run of whole terms is written as raw arrays, and runs merge term by term.
    Same interface: ``add``, ``iter_postings``, ``save``, ``cleanup``, ``fieldnames``.
    """

    _HEAD = struct.Struct("<HHII")  # field name length, term length, postings, value bytes
    TERM_COST = 600  # bytes a term's key and arrays take, roughly
    POSTING_COST = 20

    def __init__(self, tempstore, segment, limitmb: int = 128, **_kwargs) -> None:
        self.tempstore = tempstore
        self.segment = segment
        self.limit = limitmb * 1024 * 1024
        self.fieldnames: set[str] = set()
        self._terms: dict[tuple[str, bytes], tuple] = {}
        self._size = 0
        self.runs: list[str] = []

    def add(self, item) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        key = (fieldname, tbytes)
        t = self._terms.get(key)
        if t is None:
            self.fieldnames.add(fieldname)
            t = self._terms[key] = (array("I"), array("d"), bytearray(), array("I"))
            self._size += self.TERM_COST
        t[0].append(docnum)
        t[1].append(weight)
        if vbytes:
            t[2].extend(vbytes)
            self._size += len(vbytes)
        t[3].append(len(t[2]))
        self._size += self.POSTING_COST
        if self._size > self.limit:
            self.save()

    def save(self) -> None:
        """Write the terms in memory to a run file, sorted."""
        if not self._terms:
            return
        name = f"{uuid.uuid4().hex}.crun"
        f = self.tempstore.create_file(name).raw_file()
        try:
            head = self._HEAD.pack
            for (fieldname, tbytes), (docs, weights, values, ends) in sorted(self._terms.items()):
                fb = fieldname.encode("utf-8")
                f.write(head(len(fb), len(tbytes), len(docs), len(values)))
                f.write(fb)
                f.write(tbytes)
                f.write(docs.tobytes())
                f.write(weights.tobytes())
                f.write(ends.tobytes())
                f.write(values)
        finally:
            f.close()
        self.runs.append(name)
        self._terms = {}
        self._size = 0

    def _read_run(self, name: str):
        f = self.tempstore.open_file(name).raw_file()
        size = self._HEAD.size
        try:
            while True:
                head = f.read(size)
                if len(head) < size:
                    return
                nf, nt, n, nv = self._HEAD.unpack(head)
                fieldname = f.read(nf).decode("utf-8")
                tbytes = f.read(nt)
                docs, weights, ends = array("I"), array("d"), array("I")
                docs.frombytes(f.read(4 * n))
                weights.frombytes(f.read(8 * n))
                ends.frombytes(f.read(4 * n))
                values = bytearray(f.read(nv))
                yield (fieldname, tbytes), (docs, weights, values, ends)
        finally:
            f.close()

    def _terms_in_order(self):
        """(key, arrays) of every term, in order, runs merged (a term in several runs comes
        out once, its postings in the order they were added)."""
        mine = sorted(self._terms.items())
        if not self.runs:
            yield from mine
            return
        streams = [self._read_run(name) for name in self.runs] + [iter(mine)]
        merged = heapq.merge(*streams, key=itemgetter(0))  # stable: earlier runs first
        current_key, parts = None, []
        for key, arrays in merged:
            if key != current_key and parts:
                yield current_key, _concat(parts)
                parts = []
            current_key = key
            parts.append(arrays)
        if parts:
            yield current_key, _concat(parts)

    def iter_postings(self):
        for (fieldname, tbytes), (docs, weights, values, ends) in self._terms_in_order():
            if any(map(operator.gt, docs, docs[1:])):  # merged segments: never seen, but safe
                order = sorted(range(len(docs)), key=docs.__getitem__)
            else:
                order = range(len(docs))
            for i in order:
                start = ends[i - 1] if i else 0
                yield fieldname, tbytes, docs[i], weights[i], bytes(values[start : ends[i]])

    # SortingPool's names for the same things
    def items(self):
        return self.iter_postings()

    def cleanup(self) -> None:
        for name in self.runs:
            try:
                self.tempstore.delete_file(name)
            except OSError:
                pass
        self.runs = []


def _concat(parts: list[tuple]) -> tuple:
    if len(parts) == 1:
        return parts[0]
    docs, weights, values, ends = array("I"), array("d"), bytearray(), array("I")
    for d, w, v, e in parts:
        base = len(values)
        docs.extend(d)
        weights.extend(w)
        ends.extend(x + base for x in e)
        values.extend(v)
    return docs, weights, values, ends


_whoosh_pool: list = []  # Whoosh's own PostingPool, kept for the tests that compare


def _use_compact_pool() -> None:
    """Every segment writer (also those in the rebuild's worker processes, which fork from
    this one) collects postings in a ``CompactPostingPool``."""
    from whoosh import writing

    if writing.PostingPool is not CompactPostingPool:
        _whoosh_pool.append(writing.PostingPool)
        writing.PostingPool = CompactPostingPool


@contextmanager
def whoosh_posting_pool():
    """Within this block writers use Whoosh's own posting pool (tests compare the two)."""
    from whoosh import writing

    writing.PostingPool = _whoosh_pool[0]
    try:
        yield
    finally:
        writing.PostingPool = CompactPostingPool


_remember_missing_length_columns()
_fix_and_not_start()
_use_compact_pool()


# --- analysis ------------------------------------------------------------------------------

_snowball = DanishStemmer().stem
snowball_stem = _snowball  # the plain Snowball stemmer, without our fixes (tests show why)


@lru_cache(maxsize=200_000)
def stem(folded: str) -> str:
    """The stem of a folded, lower-case word (Snowball Danish plus ``language``'s fixes)."""
    return language.stem_with(folded, _snowball)


class DanishFilter(Filter):
    """Lower-case and fold every token; with ``stemming``, also drop stop words and stem;
    with ``exact`` as well, add the folded form (marked ``=``) where it differs from the stem.

    Positions are renumbered over the dropped stop words, so the phrase "skole og vej" finds
    "skole og vej" (and "skole i vej") the same way the query side reads it.
    """

    def __init__(self, stemming: bool = True, exact: bool = False) -> None:
        self.stemming = stemming
        self.exact = exact

    def __call__(self, tokens):
        fold, stop, stemming, exact = language.fold, language.STOP_WORDS, self.stemming, self.exact
        pos = 0
        for t in tokens:
            word = fold(t.text)
            if stemming:
                if word in stop:
                    continue
                stemmed = stem(word)
                t.text = stemmed
            else:
                t.text = word
            if t.positions:
                t.pos = pos
            yield t
            if exact and stemming and stemmed != word:
                t.text = EXACT_MARK + word  # same position: phrases see only the stems
                yield t
            pos += 1


def danish_analyzer(exact: bool = True):
    return RegexTokenizer(TOKEN_PATTERN) | DanishFilter(stemming=True, exact=exact)


def exact_analyzer():
    return RegexTokenizer(TOKEN_PATTERN) | DanishFilter(stemming=False)


_WORD_FORMS: dict[str, tuple[str, str | None]] = {}


def word_forms(token: str) -> tuple[str, str | None]:
    """(exact form, stem or None for a stop word) of one token, as the index holds them."""
    found = _WORD_FORMS.get(token)
    if found is None:
        exact = language.fold(token)
        found = (exact, None if exact in language.STOP_WORDS else stem(exact))
        if len(_WORD_FORMS) < 500_000:
            _WORD_FORMS[token] = found
    return found


def analyse(text: str) -> list[tuple[int, int, str, str | None]]:
    """Each word of ``text`` as ``(start, end, exact form, stem or None for a stop word)``."""
    return [(m.start(), m.end(), *word_forms(m.group())) for m in _TOKEN_RE.finditer(text)]


class StemPositions(formats.Positions):
    """Whoosh's ``Positions`` format, cheaper where we can: positions are packed as an array
    instead of pickled, and the exact forms (``=...``) keep only their count — phrases are
    matched on stems, so nobody asks for an exact form's positions."""

    def word_values(self, value, analyzer, **kwargs):
        fb = self.field_boost
        poses: dict[str, list[int]] = {}
        kwargs["positions"] = True
        for t in formats.tokens(value, analyzer, kwargs):
            found = poses.get(t.text)
            if found is None:
                poses[t.text] = [t.pos]
            else:
                found.append(t.pos)
        for w, poslist in poses.items():
            n = len(poslist)
            value = formats.pack_uint(n) if w[:1] == EXACT_MARK else self.encode(poslist)
            yield (w, n, n * fb, value)

    def encode(self, poslist):
        deltas = array("I", [poslist[0]])
        deltas.extend(map(sub, poslist[1:], poslist[:-1]))
        return formats.pack_uint(len(deltas)) + deltas.tobytes()

    def decode_positions(self, valuestring):
        deltas = array("I")
        deltas.frombytes(valuestring[formats._INT_SIZE :])
        return list(accumulate(deltas))


class EXACT(FieldType):
    """Unstemmed words, recording only which documents contain them (not scored, no
    positions): for names, at a fraction of a TEXT field's cost."""

    def __init__(self, stored: bool = False) -> None:
        self.analyzer = exact_analyzer()
        self.format = formats.Existence()
        self.scorable = False
        self.stored = stored
        self.unique = False
        self.vector = None


def make_schema() -> Schema:
    da = danish_analyzer()

    def text(analyzer, phrase: bool = True, stored: bool = False) -> TEXT:
        field_ = TEXT(analyzer=analyzer, phrase=phrase, stored=stored)
        if phrase:
            field_.format = StemPositions()
        return field_

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
        title=text(da, stored=True),
        body=text(da),
        ttitle=text(danish_analyzer(exact=False), phrase=False),
        author=EXACT(stored=True),
        origin=ID(),
    )


def to_fields(doc: dict) -> dict:
    """A document as Whoosh takes it: empty values left out."""
    return {k: v for k, v in doc.items() if v is not None and v != ""}


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
                False,
                "old_schema",
                f"{name} has schema version {meta.get('schema_version')}, "
                f"this code needs {SCHEMA_VERSION}",
                name,
            )
        problem = self._open_problem(name)
        if problem:
            self.forget(name)
            return Health(False, "unreadable", f"{name}: {problem}", name)
        return Health(True, generation=name)

    def _open_problem(self, name: str) -> str | None:
        """Why Whoosh cannot open this generation, or None."""
        # Whoosh leaves the file it failed on to the garbage collector: not worth a warning.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                ix = self.open(name)
                with ix.reader() as reader:
                    reader.doc_count()
            except Exception as exc:  # noqa: BLE001 — any failure to open means "rebuild it"
                return f"{type(exc).__name__}: {exc}"
        return None

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
        self._write_meta(
            name,
            schema_version=SCHEMA_VERSION,
            complete=False,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
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

    def delete_topic(self, topic_id: str) -> None:
        """Delete a topic's document and every post document in it."""
        self._w.delete_by_term("topic", topic_id)
        self.count += 1

    def commit(self, optimize: bool = False) -> None:
        self._w.commit(optimize=optimize)

    def cancel(self) -> None:
        self._w.cancel()


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


# --- reading: the query engine ---------------------------------------------------------------
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


@dataclass
class RawResults:
    hits: list[tuple[str, int]]  # (kind, pk), best first
    total: int
    facets: dict[str, dict[str, int]]
    exact_terms: set[str]
    stem_terms: set[str]


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
