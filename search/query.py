"""What people type into the search box, read into a small tree (pure Python, no Whoosh).

Syntax: plain words (all must match), ``"quoted phrases"``, ``prefix*``, ``OR`` between
alternatives (it binds tighter than the implicit AND: ``skole vej OR sti`` is skole AND (vej OR
sti)), ``-exclusion`` and ``(groups)``. Anything the grammar cannot read — a lone quote or
bracket, a stray operator — is searched as its plain words instead, with a note saying so.

A few things are refused with a message instead of searched: a query longer than
``max_length`` characters or with more than ``max_terms`` words, a lone ``*`` or a prefix of
fewer than two letters, a query made only of very common words ("og", "det", "the") or only
of exclusions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from forum.i18n import lazy_gettext as _l

from .language import STOP_WORDS, fold, is_common

MAX_LENGTH = 200
MAX_TERMS = 12
MIN_PREFIX = 2

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "″": '"'})
_LEX = re.compile(r'(?P<quote>")|(?P<lpar>\()|(?P<rpar>\))|(?P<ws>\s+)|(?P<word>[^\s"()]+)')
_WORD = re.compile(r"\w+", re.U)


# --- the tree --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class Phrase:
    text: str


@dataclass(frozen=True)
class Prefix:
    text: str  # without the star


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class AllOf:
    children: tuple[Node, ...]


Node = Word | Phrase | Prefix | Not | AnyOf | AllOf


@dataclass(frozen=True)
class Notice:
    """A message for the results page. ``refused``: nothing was searched because of it."""

    code: str
    text: object  # a lazy string
    refused: bool = False


@dataclass
class ParsedQuery:
    text: str
    node: Node | None
    notices: list[Notice] = field(default_factory=list)
    fallback: bool = False

    @property
    def refused(self) -> bool:
        return any(n.refused for n in self.notices)


class _Malformed(Exception):
    pass


# --- reading ---------------------------------------------------------------------------------


def _word_token(word: str) -> tuple[str, str]:
    if word.endswith("*") and "*" not in word[:-1]:
        return ("prefix", word[:-1])
    if "*" in word:
        raise _Malformed("star inside a word")
    return ("word", word)


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokens: ("phrase", text), ("(", ""), (")", ""), ("or", ""), ("not", ""), ("word", w),
    ("prefix", p). Raises ``_Malformed`` for a quote without its partner or a stray minus."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    prev_space = True
    while pos < len(text):
        m = _LEX.match(text, pos)
        assert m is not None  # the alternatives cover every character
        kind = m.lastgroup
        if kind == "quote":
            end = text.find('"', m.end())
            if end < 0:
                raise _Malformed("lone quote")
            tokens.append(("phrase", text[m.end() : end]))
            pos = end + 1
            prev_space = False
            continue
        pos = m.end()
        if kind == "ws":
            prev_space = True
            continue
        if kind in ("lpar", "rpar"):
            tokens.append(("(" if kind == "lpar" else ")", ""))
            prev_space = kind == "lpar"
            continue
        word = m.group()
        if word == "OR":
            tokens.append(("or", ""))
        elif word == "AND":
            pass  # AND is what words do anyway
        elif word == "-" and prev_space and text[pos : pos + 1] in ("(", '"'):
            tokens.append(("not", ""))  # -(a b) or -"a phrase"
        elif word.startswith("-") and prev_space:
            if len(word) == 1 or word[1] == "-":
                raise _Malformed("stray minus")
            tokens.append(("not", ""))
            tokens.append(_word_token(word[1:]))
        else:
            tokens.append(_word_token(word))
        prev_space = False
    return tokens


class _Parser:
    """sequence := alternatives* ; alternatives := unary (OR unary)* ;
    unary := [-] primary ; primary := ( sequence ) | "phrase" | word | prefix*"""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node | None:
        node = self.sequence()
        if self.i != len(self.tokens):
            raise _Malformed("unexpected )")
        return node

    def sequence(self) -> Node | None:
        items: list[Node] = []
        while self.peek() not in (None, ")"):
            items.append(self.alternatives())
        if not items:
            return None
        return items[0] if len(items) == 1 else AllOf(tuple(items))

    def alternatives(self) -> Node:
        items = [self.unary()]
        while self.peek() == "or":
            self.take()
            if self.peek() in (None, ")", "or"):
                raise _Malformed("OR without a right side")
            items.append(self.unary())
        if len(items) == 1:
            return items[0]
        if any(isinstance(item, Not) for item in items):
            raise _Malformed("an exclusion cannot be an alternative")
        return AnyOf(tuple(items))

    def unary(self) -> Node:
        if self.peek() == "not":
            self.take()
            if self.peek() in (None, ")", "or", "not"):
                raise _Malformed("minus without a word")
            return Not(self.primary())
        return self.primary()

    def primary(self) -> Node:
        kind = self.peek()
        if kind == "(":
            self.take()
            inner = self.sequence()
            if self.peek() != ")":
                raise _Malformed("lone bracket")
            self.take()
            if inner is None:
                raise _Malformed("empty brackets")
            return inner
        if kind in (None, ")", "or"):
            raise _Malformed(f"unexpected {kind}")
        kind, value = self.take()
        if kind == "phrase":
            return Phrase(value)
        if kind == "prefix":
            return Prefix(value)
        return Word(value)


# --- checks and simplification ---------------------------------------------------------------


def _words_in(node: Node) -> list[str]:
    if isinstance(node, Word | Phrase | Prefix):
        return _WORD.findall(node.text)
    if isinstance(node, Not):
        return _words_in(node.child)
    return [w for child in node.children for w in _words_in(child)]


def _drop_common(node: Node) -> Node | None:
    """Remove bare words too common to mean anything ("og", "the"); None if nothing is left.

    A quoted phrase keeps its common words (they matter for word order) unless it has nothing
    else; a word that is only punctuation goes too.
    """
    if isinstance(node, Word):
        words = _WORD.findall(node.text)
        if not words or all(is_common(w) for w in words):
            return None
        return node
    if isinstance(node, Phrase):
        words = _WORD.findall(node.text)
        if not words or all(fold(w) in STOP_WORDS for w in words):
            return None
        return node
    if isinstance(node, Prefix):
        return node
    if isinstance(node, Not):
        child = _drop_common(node.child)
        return Not(child) if child is not None else None
    kept = tuple(c for c in (_drop_common(c) for c in node.children) if c is not None)
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0]
    return type(node)(kept)


def _has_positive(node: Node) -> bool:
    if isinstance(node, Not):
        return False
    if isinstance(node, AllOf):
        return any(_has_positive(c) for c in node.children)
    if isinstance(node, AnyOf):
        return all(_has_positive(c) for c in node.children)
    return True


def _short_prefix(raw_words: list[str]) -> bool:
    """A lone ``*`` or a ``*`` after fewer than two letters (it would expand to half the index)."""
    for w in raw_words:
        core = w.strip('-()"')
        if core.endswith("*") and len("".join(_WORD.findall(core.rstrip("*")))) < MIN_PREFIX:
            return True
    return False


def _refuse(raw: str, notices: list[Notice], code: str, text, fallback: bool = False):
    return ParsedQuery(raw, None, [*notices, Notice(code, text, refused=True)], fallback)


def parse(
    text: str | None, max_length: int = MAX_LENGTH, max_terms: int = MAX_TERMS
) -> ParsedQuery:
    """Read a search string. Never raises: problems become notices on the result."""
    raw = " ".join((text or "").translate(_QUOTES).split())
    if not raw:
        return ParsedQuery("", None)
    if len(raw) > max_length:
        return _refuse(
            raw[:max_length],
            [],
            "too_long",
            _l("Your search is too long. Use at most %(n)d characters.", n=max_length),
        )
    if _short_prefix(raw.split()):
        return _refuse(
            raw, [], "short_prefix", _l("Write at least %(n)d letters before a *.", n=MIN_PREFIX)
        )
    notices: list[Notice] = []
    fallback = False
    try:
        node = _Parser(_lex(raw)).parse()
    except _Malformed:
        fallback = True
        words = _WORD.findall(raw.replace("*", " "))
        node = (
            AllOf(tuple(Word(w) for w in words))
            if len(words) > 1
            else Word(words[0])
            if words
            else None
        )
        notices.append(
            Notice(
                "fallback",
                _l(
                    "We could not read the search operators (quotes, brackets, OR, -), so we "
                    "searched for the words alone."
                ),
            )
        )
    if node is None or not _words_in(node):
        notices.append(Notice("no_words", _l("Your search has no words in it.")))
        return ParsedQuery(raw, None, notices, fallback)
    if len(_words_in(node)) > max_terms:
        return _refuse(
            raw,
            notices,
            "too_many_terms",
            _l("Your search has too many words. Use at most %(n)d.", n=max_terms),
            fallback,
        )
    simplified = _drop_common(node)
    if simplified is None:
        return _refuse(
            raw,
            notices,
            "only_common",
            _l(
                "Your search has only very common words (like “og”, “det”, “the”). "
                "Add a word that says what you are looking for."
            ),
            fallback,
        )
    if not _has_positive(simplified):
        return _refuse(
            raw,
            notices,
            "only_exclusions",
            _l("Your search only excludes words. Add a word to search for."),
            fallback,
        )
    return ParsedQuery(raw, simplified, notices, fallback)


# --- the whole request ------------------------------------------------------------------------

SORTS = ("relevance", "newest")
ROLES = ("politician", "citizen")
STANCES = ("for", "against", "question")


@dataclass
class Criteria:
    """One search: the parsed query and its filters (ids already checked against the DB)."""

    query: ParsedQuery
    committee_id: int | None = None
    area_id: int | None = None
    topic_id: int | None = None
    role: str | None = None
    party: str | None = None
    stance: str | None = None
    origin: str | None = None  # a registered post origin's key (forum.hooks.PostOrigin)
    kind: str | None = None  # "post", "topic" or a registered source's kind ("outcome")
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    # The date range as naive UTC datetimes [from, until), worked out in the local time zone.
    created_from: datetime | None = None
    created_until: datetime | None = None
    sort: str = "relevance"
    include_restricted: bool = False
    # With include_restricted: the areas whose non-public documents count (a scoped
    # moderator's), or None for every area (a moderator without a scope, an admin).
    restricted_areas: frozenset[int] | None = None

    @property
    def effective_sort(self) -> str:
        return "newest" if self.query.node is None else self.sort
