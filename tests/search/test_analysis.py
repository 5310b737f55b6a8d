"""Danish analysis: folding, stemming and its fixes, stop words, English; and snippets."""

from __future__ import annotations

import pytest

from search import index, language
from search.text import markdown_to_text, snippet


def stem(word: str) -> str:
    return index.stem(language.fold(word))


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("Holbaek", "Holbæk"),
        ("holbæk", "HOLBÆK"),
        ("Toelloese", "Tølløse"),
        ("Aarhus", "Århus"),
        ("Århus", "Aarhus"),
        ("Moerkoev", "Mørkøv"),
        ("Oroe", "Orø"),
    ],
)
def test_danish_letters_fold_both_ways(typed, written):
    assert language.fold(typed) == language.fold(written)
    assert stem(typed) == stem(written)


def test_folding_never_loses_the_second_letter():
    # ø is not o and æ is not a: "sø" (lake) and "so" (sow), "får" and "far" stay apart.
    assert language.fold("sø") != language.fold("so")
    assert language.fold("får") != language.fold("far")
    assert language.fold("læse") != language.fold("lase")
    assert language.fold("Café") == "cafe"


@pytest.mark.parametrize(
    "group",
    [
        ["skole", "skolen", "skoler", "skolerne", "skolernes"],
        ["cykelsti", "cykelstien", "cykelstier", "cykelstierne"],
        ["kommune", "kommunen", "kommunerne"],
        ["lokalplan", "lokalplanen", "lokalplaner"],
    ],
)
def test_inflections_share_a_stem(group):
    assert len({stem(w) for w in group}) == 1


@pytest.mark.parametrize(
    "groups",
    [
        # "budget" → "budg" but "budgettet" → "budget"; compounds end the same way.
        [
            ["budget", "budgets", "budgettet", "budgetter", "budgetterne"],
            ["kommunebudget", "kommunebudgettet"],
        ],
        [["billet", "billetten", "billetter"], ["busbillet", "busbilletten"]],  # billet → bil
        [["planet", "planeten", "planeter"]],  # planet → plan
        [["plads", "pladsen", "pladser"], ["parkeringsplads", "parkeringspladser"]],
        [["cykel", "cyklen", "cykler", "cyklerne"], ["ladcykel", "ladcyklen"]],
        [["regel", "reglen", "regler"]],
        [["middel", "midler", "midlerne"]],
        [["center", "centret", "centre"], ["sundhedscenter", "sundhedscentret"]],
        [["teater", "teatret", "teatre"]],
        [["by", "byen", "byer", "byerne"]],  # too short for the stemmer
        [["sti", "stien", "stier", "stierne"]],
        [["sø", "søen", "søer"]],
        [["barn", "barnet", "børn", "børnene"], ["skolebarn", "skolebørn", "skolebørnene"]],
        # Oddities that folding æ/ø to two letters makes:
        [
            ["miljø", "miljøet", "miljøer", "miljøerne", "miljøs"],
            ["arbejdsmiljø", "arbejdsmiljøet"],
        ],
        [["træ", "træet", "træer", "træerne"], ["egetræ", "egetræerne"]],
        [["knæ", "knæet", "knæene"]],
        [["idræt", "idrætten", "idrætter"], ["skoleidræt", "skoleidrætten"]],
        [["portræt", "portrættet", "portrætter"]],
        [["arbejdsløs", "arbejdsløse", "arbejdsløshed"], ["hjemløs", "hjemløse"]],
        [["kø", "køen", "køer", "køerne"], ["ventekø", "ventekøen"]],
        # Latin and "-sel" nouns:
        [["museum", "museet", "museer"], ["kunstmuseum", "kunstmuseet"]],
        [["gymnasium", "gymnasiet", "gymnasier", "gymnasierne"]],
        [["rundkørsel", "rundkørslen", "rundkørsler"]],
        [["trussel", "truslen", "trusler"]],
        [["uge", "ugen", "uger", "ugerne"]],
        # Irregular plural and comparison:
        [["løn", "lønnen", "lønninger", "lønningerne"], ["timeløn", "timelønninger"]],
        [["stor", "større", "størst", "største"]],
    ],
)
def test_stemmer_oddities_are_fixed(groups):
    snowball = index.snowball_stem
    plain = {snowball(language.fold(w)) for w in groups[0]}
    assert len(plain) > 1, "folding and the plain stemmer get this wrong"
    for group in groups:
        assert len({stem(w) for w in group}) == 1, {w: stem(w) for w in group}


def test_budget_oddity_exactly_as_documented():
    snowball = index.snowball_stem
    assert snowball("budget") == "budg" and snowball("budgettet") == "budget"
    assert stem("budget") == stem("budgettet") == "budget"


def test_fixes_do_not_merge_different_words():
    assert stem("bil") != stem("billet")
    assert stem("plan") != stem("planet")
    assert stem("skole") != stem("skov")
    assert stem("kø") != stem("ko")  # queue and cow
    assert stem("græs") == stem("græsset") == "graes"  # the s is the word's
    assert stem("idræt") != stem("idé")
    # Words ending in a vowel before -en/-et are not mistaken for a folded æ/ø:
    assert stem("naboen") == stem("nabo") and stem("klimaet") == stem("klima")
    assert stem("radioen") == stem("radio")


@pytest.mark.parametrize(
    "word", ["miljøet", "træerne", "idrætten", "arbejdsløse", "museet", "rundkørslen", "køen"]
)
def test_oddity_fixes_keep_both_spellings_equal(word):
    ascii_spelling = word.replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    assert stem(word) == stem(ascii_spelling) == stem(word.upper())


def test_stop_words_are_dropped_from_the_stemmed_field():
    words = index.analyse("Vi og de andre på Orø")
    assert [w[2] for w in words] == ["vi", "og", "de", "andre", "paa", "oroe"]
    assert [w[3] for w in words][:3] == [None, None, None]
    assert language.is_common("og") and language.is_common("THE") and language.is_common("på")
    assert not language.is_common("skole")


def test_english_words_keep_their_exact_form():
    words = index.analyse("The bicycle lanes")
    assert [w[2] for w in words] == ["the", "bicycle", "lanes"]
    assert all(w[3] for w in words)  # English words are not Danish stop words


def test_indexed_tokens_hold_stems_and_exact_forms_at_one_position():
    analyzer = index.danish_analyzer()
    tokens = [(t.text, t.pos) for t in analyzer("Skolerne og budgettet", positions=True)]
    assert tokens == [("skol", 0), ("=skolerne", 0), ("budget", 1), ("=budgettet", 1)]


def test_markdown_source_becomes_plain_words():
    text = markdown_to_text(
        "# Overskrift\n\n**Fed** og *kursiv*, [et link](https://example.dk/x) og `kode`.\n"
        "> citat\n- punkt\n\n![billede](/a.png)"
    )
    assert text == "Overskrift\n\nFed og kursiv, et link og kode.\ncitat\npunkt\n\nbillede"
    assert "https" not in text


def test_snippet_marks_matches_and_escapes_everything_else():
    text = "<script>alert(1)</script> Skolerne i Holbæk & omegn har brug for cykelstier."
    out = str(snippet(text, index.word_forms, {"holbaek"}, {stem("skole")}))
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<mark>Skolerne</mark>" in out and "<mark>Holbæk</mark>" in out
    assert "&amp; omegn" in out


def test_snippet_centres_on_the_matches_of_a_long_text():
    text = ("Indledning. " * 60) + "Her står noget om cykelstien til skolen. " + ("Slut. " * 60)
    out = str(snippet(text, index.word_forms, set(), {stem("cykelsti")}, max_chars=120))
    assert "<mark>cykelstien</mark>" in out
    assert out.startswith("… ") and out.endswith(" …")
    assert len(out) < 200


def test_markdown_shortcuts_change_nothing():
    """markdown_to_text skips the expressions whose marks a text lacks: same result as
    running them all, on random mixes of Markdown pieces."""
    import random

    from search import text as t

    def everything(source: str) -> str:
        out = source.replace("\r\n", "\n")
        for rx, repl in (
            (t._FENCE, ""),
            (t._IMAGE, r"\1"),
            (t._LINK, r"\1"),
            (t._REF_LINK, r"\1"),
            (t._REF_DEF, ""),
            (t._AUTOLINK, r"\1"),
            (t._HTML_TAG, " "),
            (t._RULE, ""),
            (t._LINE_MARKS, ""),
        ):
            out = rx.sub(repl, out)
        for _ in range(2):
            out = t._EMPHASIS.sub(r"\2", out)
        out = t._SPACES.sub(" ", out)
        return t._BLANKS.sub("\n\n", out).strip()

    pieces = [
        "skole",
        " ",
        "  ",
        "\t",
        "\n",
        "\n\n\n",
        "# ",
        "> ",
        "- ",
        "1. ",
        "* ",
        "**",
        "_",
        "~~",
        "`",
        "```",
        "[link](https://x.dk)",
        "![b](/a.png)",
        "<b>",
        "</b>",
        "<https://x.dk>",
        "---",
        "[ref][1]",
        "[1]: https://y.dk",
        "Tølløse",
        "3.000,50",
    ]
    rng = random.Random(4)
    for _ in range(3000):
        source = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        assert markdown_to_text(source) == everything(source), repr(source)
