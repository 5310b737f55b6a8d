"""Danish for the search index: letter folding, stop words and fixes to the Snowball stemmer.

Pure Python (no Whoosh here; ``search/index.py`` plugs these into its analysers). Every word,
indexed or typed, goes through the same steps, so both sides always agree:

1. lower-case (``str.casefold``);
2. fold the Danish letters to their two-letter spellings — æ→ae, ø→oe, å→aa (and ä→ae, ö→oe,
   ü→ue; other accents are dropped). "Holbæk" and "Holbaek" both become ``holbaek``,
   "Århus" and "Aarhus" both ``aarhus``. We never fold ø to o or æ to a: "sø" (lake) and
   "so" (sow), "får" and "far" must stay apart;
3. drop stop words (the Snowball Danish list, folded the same way) — stemmed field only;
4. stem with the Danish Snowball stemmer, after the small dictionary below has fixed the
   cases where it goes wrong for words people write to their municipality.

The stemmer's known oddities, and what we do about them (tests/search/test_analysis.py shows
each one):

* Words whose stem ends in "-et": "budget" → "budg" but "budgettet" → "budget", "billet" →
  "bil" (car!), "planet" → "plan", "internet" → "intern". We keep such words (and compounds
  ending in them, like "kommunebudget") whole, so they meet their inflected forms.
* "plads" → "plad" but "pladsen" → "plads": same treatment ("parkeringsplads" too).
* Words that drop an "e" when inflected: "cykel" → "cykel" but "cyklen" → "cykl"; likewise
  regel/reglen, middel/midler, titel, artikel, kapitel, center/centret, teater/teatret. We
  rewrite the base form (and compounds ending in it, like "ladcykel") to the inflected stem.
* Short words are never stemmed (the stemmer needs three letters before a suffix): "by",
  "byen", "byer" stay three different words. A table maps the forms of the short nouns that
  matter here (by, sti, sø, ø, å, bro, ski, kø, uge) to the noun.
* Irregular plurals: "børn" → "barn", "mænd" → "mand" (also in compounds: "skolebørnene").
* Folding itself makes new oddities, because æ and ø become two letters ending in "e":
  "miljø" → "miljo" but "miljøet" → "miljoe"; "træ", "træet", "træer" stay apart; "idræt"
  (folded "idraet") → "idra" but "idrætten" → "idraet"; "arbejdsløs" → "arbejdslo" but
  "arbejdsløse" → "arbejdsloes". A word ending in a folded æ/ø plus a noun ending (miljøet,
  træerne, knæene, Orøs) is cut before the ending; idræt, portræt, -løs, græs, næs and tøs
  are kept whole.
* Latin nouns and "-sel" nouns: "museum" → "museum" but "museet" → "muse" (likewise
  gymnasium, kriterium, ministerium); "rundkørsel" → "rundkoersel" but "rundkørslen" →
  "rundkoersl" (likewise trussel, fængsel, centrum).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# What counts as a word: letters and digits, and numbers like 1.000,50 in one piece.
TOKEN_PATTERN = r"\d+(?:[.,]\d+)+|\w+"

_FOLD = str.maketrans(
    {"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "œ": "oe"}
)


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Lower-case ``word`` and spell Danish letters the way people do without them."""
    word = word.casefold()
    if word.isascii():
        return word
    word = word.translate(_FOLD)
    if word.isascii():
        return word
    # Other accents (é, è, ñ, ...): drop the combining marks.
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# The Snowball project's Danish stop words (the list Whoosh ships), written out so this module
# needs no Whoosh; folded like every other word.
_DANISH_STOP_WORDS = """
ad af alle alt anden at blev blive bliver da de dem den denne der deres det dette dig din disse
dog du efter eller en end er et for fra ham han hans har havde have hende hendes her hos hun hvad
hvis hvor i ikke ind jeg jer jo kunne man mange med meget men mig min mine mit mod ned noget
nogle nu når og også om op os over på selv sig sin sine sit skal skulle som sådan thi til ud
under var vi vil ville vor være været
"""
# English stop words only count when deciding that a query has nothing specific in it; they are
# not removed from indexed text (the unstemmed field keeps English findable word by word).
_ENGLISH_STOP_WORDS = """
a about above after again against all am an and any are as at be because been before being below
between both but by can did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same
she should so some such than that the their theirs them themselves then there these they this
those through to too under until up very was we were what when where which while who whom why
will with you your yours yourself yourselves
"""

STOP_WORDS: frozenset[str] = frozenset(fold(w) for w in _DANISH_STOP_WORDS.split())
COMMON_WORDS: frozenset[str] = STOP_WORDS | frozenset(_ENGLISH_STOP_WORDS.split())

# Words (and compounds ending in them) whose final "-et"/"-s" belongs to the stem. "idræt" and
# "portræt" are here because folding makes them end in "-aet", which the stemmer cuts; "-løs"
# (arbejdsløs, hjemløs), "græs", "næs" and "tøs" because their "s" follows a folded æ/ø.
KEEP_WHOLE = (
    "budget",
    "billet",
    "toilet",
    "kabinet",
    "internet",
    "planet",
    "raket",
    "magnet",
    "tablet",
    "ballet",
    "plads",
    "idræt",
    "portræt",
    "løs",
    "græs",
    "næs",
    "tøs",
    "løn",  # timeløn: the stemmer would cut a compound's "-en" of the folded "loen"
)
# Base forms that lose an "e" when inflected (cykel, cyklen): rewritten to the inflected stem.
SYNCOPE = {
    "cykel": "cykl",
    "regel": "regl",
    "middel": "midl",
    "titel": "titl",
    "artikel": "artikl",
    "kapitel": "kapitl",
    "center": "centr",
    "centeret": "centr",
    "teater": "teatr",
    "teateret": "teatr",
    "centrum": "centr",
    "kørsel": "kørsl",
    "trussel": "trusl",
    "fængsel": "fængsl",
}
# Latin nouns: museum/museet/museer, gymnasium/gymnasiet/gymnasier (compounds too).
LATIN_ENDINGS = {"ium": "i", "eum": "e"}
# Short nouns the stemmer leaves alone, with the endings of their inflected forms.
SHORT_NOUNS = ("by", "sti", "sø", "ø", "å", "bro", "ski", "kø")
_SHORT_ENDINGS = ("", "s", "en", "ens", "er", "ers", "erne", "ernes", "ene", "enes", "e")
# Short nouns ending in "-e" (uge, ugen, uger), with their endings.
SHORT_E_NOUNS = ("uge",)
_SHORT_E_ENDINGS = ("", "s", "n", "ns", "r", "rs", "rne", "rnes")
# Irregular plurals, matched at the end of the stem (so compounds work too).
STEM_ENDINGS = {
    "børn": "barn",
    "mænd": "mand",
    "lønning": "løn",
    # comparative and superlative of stor (større, størst, største)
    "størst": "stor",
    "stør": "stor",
}
# Words ending in æ or ø (miljø, træ, knæ, frø, kø) are folded to end in "ae"/"oe": the
# stemmer then cuts the bare word's final "e" ("miljo") but keeps it in the inflected forms
# ("miljøet" → "miljoe"), and short ones (træet) it does not stem at all. When a folded word
# is such an ending plus one of these noun endings (or the genitive "s": Orøs, miljøs), the
# stem is the word up to the ending. Words whose "s" belongs to them are in KEEP_WHOLE.
DIGRAPH_ENDINGS = ("", "s", "en", "ens", "er", "ers", "erne", "ernes", "et", "ets", "ene", "enes")
_DIGRAPHS = ("ae", "oe")


Pairs = tuple[tuple[str, str], ...]
# Ending tables by length, longest first: {length: {ending: replacement}}.
Endings = tuple[tuple[int, dict[str, str]], ...]


def _build_tables() -> tuple[Endings, dict[str, str], Pairs]:
    by_length: dict[int, dict[str, str]] = {}
    for word in KEEP_WHOLE:
        w = fold(word)
        by_length.setdefault(len(w) + 1, {})[w + "s"] = w
        by_length.setdefault(len(w), {})[w] = w
    for base, stem in SYNCOPE.items():
        b, s = fold(base), fold(stem)
        by_length.setdefault(len(b) + 1, {})[b + "s"] = s
        by_length.setdefault(len(b), {})[b] = s
    for ending, replacement in LATIN_ENDINGS.items():
        by_length.setdefault(len(ending) + 1, {})[ending + "s"] = replacement
        by_length.setdefault(len(ending), {})[ending] = replacement
    # Longest ending first, so "centeret" wins over shorter matches.
    endings = tuple(sorted(by_length.items(), reverse=True))
    whole: dict[str, str] = {}
    for nouns, suffixes in ((SHORT_NOUNS, _SHORT_ENDINGS), (SHORT_E_NOUNS, _SHORT_E_ENDINGS)):
        for noun in nouns:
            n = fold(noun)
            for ending in suffixes:
                whole.setdefault(n + ending, n)
    whole["koen"] = whole["koens"] = "ko"  # the cow, not the queue (kø)
    after = tuple(
        sorted(
            ((fold(k), fold(v)) for k, v in STEM_ENDINGS.items()), key=lambda pair: -len(pair[0])
        )
    )
    return endings, whole, after


# Longest first, so "knæene" is "knæ" + "ene", not "knæen" + "e".
_DIGRAPH_ENDINGS = tuple(sorted(DIGRAPH_ENDINGS, key=len, reverse=True))


def _digraph_stem(word: str) -> str | None:
    """The stem of a word ending in a folded æ/ø plus a noun ending, or None."""
    size = len(word)
    for ending in _DIGRAPH_ENDINGS:
        cut = size - len(ending)
        if cut >= 3 and word.endswith(ending) and word[cut - 2 : cut] in _DIGRAPHS:
            return word[:cut]
    return None


_ENDINGS, _WHOLE, _AFTER = _build_tables()


def stem_with(word: str, snowball) -> str:
    """Stem a folded, lower-case ``word`` with ``snowball`` (a callable), applying our fixes."""
    fixed = _WHOLE.get(word)
    if fixed is not None:
        return fixed
    size = len(word)
    for length, table in _ENDINGS:  # a few dictionary lookups, not one test per ending
        if length <= size:
            replacement = table.get(word[size - length :])
            if replacement is not None:
                return word[: size - length] + replacement
    if word[-1:] in "enrst":  # every ending the digraph rule knows ends in one of these
        fixed = _digraph_stem(word)
        if fixed is not None:
            return fixed
    stem = snowball(word)
    for ending, replacement in _AFTER:
        if stem.endswith(ending):
            return stem[: len(stem) - len(ending)] + replacement
    return stem


def is_common(word: str) -> bool:
    """True for a word (any case, any spelling) too common to search for on its own."""
    return fold(word) in COMMON_WORDS
