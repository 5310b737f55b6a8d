"""Analysis and the schema: Danish tokens folded, stop words dropped, stemmed (Snowball plus
``language``'s fixes) and marked exact forms; the positions format and the fields a document
has."""

from __future__ import annotations

import re
from array import array
from functools import lru_cache
from itertools import accumulate
from operator import sub

from whoosh import formats
from whoosh.analysis import Filter, RegexTokenizer
from whoosh.fields import DATETIME, ID, TEXT, FieldType, Schema
from whoosh.lang.snowball.danish import DanishStemmer

from .. import language

SCHEMA_VERSION = 7  # 4: more stemmer fixes (language.py); 5: løn/lønninger, stor/større;
# 6: the lemmatiser (simplemma's word list) before Snowball, grønt; 7: ``origin`` and the
# documents of other packages' search sources (meetings, outcomes)

STEM_FIELDS = {"title": 3.0, "body": 1.0, "ttitle": 0.3}  # BM25F boosts
EXACT_FIELDS = {"title": 1.2, "body": 0.4}  # fields holding "=form" terms too
AUTHOR_BOOST = 1.0
PHRASE_FIELDS = ("title", "body")
EXACT_MARK = "="
TOKEN_PATTERN = language.TOKEN_PATTERN
_TOKEN_RE = re.compile(TOKEN_PATTERN, re.UNICODE)


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
