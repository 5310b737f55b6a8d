"""Danish for the search index: letter folding, stop words and fixes to the Snowball stemmer.

Pure Python (no Whoosh here; ``search/index/analysis.py`` plugs these into its analysers).
Every word, indexed or typed, goes through the same steps, so both sides always agree:

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

Stemming alone cannot join what changes inside the word: "aften"/"aftenen", "kælder"/
"kældrene", "gammel"/"gamle", "grøn"/"grønt", "ventede", "mødtes". Between the fixes and
Snowball stands a lemmatiser with its own word list: simplemma's Danish dictionary (788,000
forms, 0.55 MB on disk; about 3.5 s and 80 MB to load, once per process, on first use). A
word it knows is stemmed as its lemma ("kældrene" → "kælder" → "kaeld"). It is used with care:

* it looks up the words as typed, so a folded word is tried in each of its spellings ("koekken"
  as "koekken" and "køkken"); when they disagree ("koen": the cow or the queue) it is left out;
* a lemma must begin like the word (three letters, or all of a shorter lemma): "tog" (train)
  is not "tage" (take), "bedre" not "god";
* the fixes above come first, and lemmas we know to be wrong here are ignored ("cyklen" is
  not "cyklus").

``tests/search/test_danish_forms.py`` measures recall and precision on a test set of our own.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import lru_cache
from os.path import commonprefix

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
    # "grønt": the word list knows only the noun (greens); here it is the green of areas
    "grønt": "grøn",
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


def stem_with(word: str, snowball, lemmatise: bool = True) -> str:
    """Stem a folded, lower-case ``word`` with ``snowball`` (a callable), applying our fixes;
    with ``lemmatise``, a word the word list knows is stemmed as its lemma."""
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
    if lemmatise:
        lem = lemma(word)
        if lem is not None:
            return stem_with(lem, snowball, lemmatise=False)
    stem = snowball(word)
    for ending, replacement in _AFTER:
        if stem.endswith(ending):
            return stem[: len(stem) - len(ending)] + replacement
    return stem


# Lemmas from the word list that are wrong for words people write here (folded).
UNTRUSTED_LEMMAS = frozenset(
    {
        "cyklus",  # "cyklen", "cykler": the bike, not the cycle
        "dy",  # "dyr" (animal; expensive) is not a form of "dy"
    }
)
_UNFOLD = {"ae": "æ", "oe": "ø", "aa": "å"}
_MAX_SPELLINGS = 8
_dictionary = None
_dictionary_lock = threading.Lock()


def lemma_dictionary():
    """simplemma's Danish word list ({form: lemma}, as written), loaded on first use."""
    global _dictionary
    if _dictionary is None:
        with _dictionary_lock:
            if _dictionary is None:
                from simplemma.strategies.dictionaries import DefaultDictionaryFactory

                _dictionary = DefaultDictionaryFactory().get_dictionary("da")
    return _dictionary


def spellings(folded: str) -> list[str]:
    """The ways a folded word may have been written: "koekken" → ["koekken", "køkken"]
    (at most eight; the first ae/oe/aa pairs decide when there are more)."""
    out = [""]
    i = 0
    while i < len(folded):
        letter = _UNFOLD.get(folded[i : i + 2])
        if letter is not None and len(out) * 2 <= _MAX_SPELLINGS:
            pair = folded[i : i + 2]
            out = [o + pair for o in out] + [o + letter for o in out]
            i += 2
        else:
            out = [o + folded[i] for o in out]
            i += 1
    return out


@lru_cache(maxsize=200_000)
def lemma(folded: str) -> str | None:
    """The folded lemma of a folded word when the word list knows it, in one sense only, and
    it begins like the word; None otherwise (and for a word that is its own lemma)."""
    words = lemma_dictionary()
    found = set()
    for spelling in spellings(folded):
        found_lemma = words.get(spelling)
        if found_lemma is not None:
            found.add(fold(found_lemma))
    if len(found) != 1:
        return None
    (lem,) = found
    if lem == folded or lem in UNTRUSTED_LEMMAS or not lem.isalpha():
        return None
    if len(commonprefix((lem, folded))) < min(3, len(lem)):
        return None
    return lem


def is_common(word: str) -> bool:
    """True for a word (any case, any spelling) too common to search for on its own."""
    return fold(word) in COMMON_WORDS
