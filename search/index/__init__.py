"""The search index: the only package that imports ``whoosh`` (package whoosh-reloaded).

Layout on disk: ``SEARCH_INDEX_DIR`` holds one directory per *generation* (a complete index)
and a file ``CURRENT`` naming the generation in use. A rebuild fills a new generation while
the current one keeps serving, then replaces ``CURRENT`` atomically (write a temporary file,
``os.replace``). Readers notice the new name on their next search. Each generation carries
``borgerdialog.json`` with its schema version; an index without one, of an older version, or
that Whoosh cannot open is reported as unavailable and gets rebuilt.

Whoosh allows one writer per index (a second ``ix.writer()`` fails at once); the indexer is the
only writer, and the extra file lock ``WRITER.lock`` makes sure only one process or thread
plays that part at a time. Queries do not use Whoosh's searchers (see the comment at the
top of ``snapshots.py``): each process keeps the segments it has opened and what it decoded
from them.

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

The modules: ``analysis`` (tokens, stems, the schema), ``storage`` (generations, writing),
``snapshots`` (reading segments, caches, BM25 statistics), ``engine`` (evaluating a query,
``run``, ``percolate``) and ``whoosh_patches`` (changes to Whoosh's internals, for the pinned
version only; applied on import). Everything public is importable from here
(``from search.index import IndexStore``).
"""

from . import whoosh_patches
from .analysis import (
    AUTHOR_BOOST,
    EXACT,
    EXACT_FIELDS,
    EXACT_MARK,
    PHRASE_FIELDS,
    SCHEMA_VERSION,
    STEM_FIELDS,
    TOKEN_PATTERN,
    DanishFilter,
    StemPositions,
    analyse,
    danish_analyzer,
    exact_analyzer,
    make_schema,
    snowball_stem,
    stem,
    to_fields,
    word_forms,
)
from .engine import MAX_EXPANSION, Match, RawResults, TooBroad, percolate, run
from .snapshots import CACHE_POSTINGS, CACHE_TERM_SCORES, K1, B, Snapshot, SnapshotSource
from .storage import (
    CURRENT_FILE,
    META_FILE,
    ROLE_LOCK,
    Health,
    IndexBusy,
    IndexStore,
    IndexUnavailable,
    Writer,
    doc_count,
    fingerprint,
)
from .whoosh_patches import CompactPostingPool, whoosh_posting_pool

whoosh_patches.apply()

__all__ = [
    "AUTHOR_BOOST",
    "B",
    "CACHE_POSTINGS",
    "CACHE_TERM_SCORES",
    "CURRENT_FILE",
    "CompactPostingPool",
    "DanishFilter",
    "EXACT",
    "EXACT_FIELDS",
    "EXACT_MARK",
    "Health",
    "IndexBusy",
    "IndexStore",
    "IndexUnavailable",
    "K1",
    "MAX_EXPANSION",
    "META_FILE",
    "Match",
    "PHRASE_FIELDS",
    "ROLE_LOCK",
    "RawResults",
    "SCHEMA_VERSION",
    "STEM_FIELDS",
    "Snapshot",
    "SnapshotSource",
    "StemPositions",
    "TOKEN_PATTERN",
    "TooBroad",
    "Writer",
    "analyse",
    "danish_analyzer",
    "doc_count",
    "exact_analyzer",
    "fingerprint",
    "make_schema",
    "percolate",
    "run",
    "snowball_stem",
    "stem",
    "to_fields",
    "whoosh_posting_pool",
    "word_forms",
]
