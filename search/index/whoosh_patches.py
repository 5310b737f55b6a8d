"""Changes to Whoosh's internals (package whoosh-reloaded), applied once when ``search.index``
is imported: a cache of absent field-length columns, the AndNotMatcher fix, and the compact
posting pool writers collect postings in.

They replace private methods and classes of Whoosh, so they are written against one exact
version: ``WHOOSH_VERSION``, pinned in pyproject.toml. ``apply`` refuses to patch any other
version (``check_version``): upgrading Whoosh means reading these patches against the new code,
then moving the pin and ``WHOOSH_VERSION`` together (tests/search/test_whoosh_patches.py checks
that they agree).
"""

from __future__ import annotations

import heapq
import importlib.metadata
import operator
import struct
import uuid
from array import array
from contextlib import contextmanager
from operator import itemgetter

WHOOSH_DISTRIBUTION = "whoosh-reloaded"
WHOOSH_VERSION = "2.7.5"  # the version these patches were written against (pyproject.toml)


class WhooshVersionMismatch(RuntimeError):
    """The installed Whoosh is not the version the patches were written against."""

    def __init__(self, found: str | None) -> None:
        super().__init__(
            f"search.index patches Whoosh's internals for {WHOOSH_DISTRIBUTION} "
            f"{WHOOSH_VERSION}, but {found or 'no version'} is installed: install "
            f"{WHOOSH_DISTRIBUTION}=={WHOOSH_VERSION} (pyproject.toml), or read "
            f"search/index/whoosh_patches.py against the new version before moving the pin"
        )
        self.expected = WHOOSH_VERSION
        self.found = found


def installed_version() -> str | None:
    try:
        return importlib.metadata.version(WHOOSH_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_version(found: str | None) -> None:
    """``WhooshVersionMismatch`` unless ``found`` (``installed_version()``; None: not
    installed) is ``WHOOSH_VERSION``."""
    if found != WHOOSH_VERSION:
        raise WhooshVersionMismatch(found)


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


def apply() -> None:
    """Check the installed version, then patch (each patch only once per process)."""
    check_version(installed_version())
    _remember_missing_length_columns()
    _fix_and_not_start()
    _use_compact_pool()
