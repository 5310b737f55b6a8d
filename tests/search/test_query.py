"""Query syntax: words, phrases, prefixes, OR, exclusion; malformed input; what is refused."""

from __future__ import annotations

import pytest

from search.query import AllOf, AnyOf, Not, Phrase, Prefix, Word, parse


def codes(text: str) -> list[str]:
    return [n.code for n in parse(text).notices]


def test_parse_the_whole_syntax():
    q = parse('skole "cykel sti" holb* -vej (bus OR tog)')
    assert q.node == AllOf(
        (
            Word("skole"),
            Phrase("cykel sti"),
            Prefix("holb"),
            Not(Word("vej")),
            AnyOf((Word("bus"), Word("tog"))),
        )
    )
    assert not q.notices and not q.fallback


def test_or_binds_tighter_than_and():
    assert parse("skole vej OR sti").node == AllOf(
        (Word("skole"), AnyOf((Word("vej"), Word("sti"))))
    )


def test_typographic_quotes_and_excluded_phrases():
    assert parse("„skolens vej“").node == Phrase("skolens vej")
    assert parse('skole -"lukket vej"').node == AllOf((Word("skole"), Not(Phrase("lukket vej"))))
    assert parse("skole -(bus tog)").node == AllOf(
        (Word("skole"), Not(AllOf((Word("bus"), Word("tog")))))
    )


def test_hyphen_inside_a_word_is_not_an_exclusion():
    assert parse("cykel-sti").node == Word("cykel-sti")


@pytest.mark.parametrize(
    "text",
    [
        '"skole',
        'skole"',
        "(skole",
        "skole)",
        "OR skole",
        "skole OR",
        "skole OR OR vej",
        "skole - vej",
        "--skole",
        "sk*le",
        "*skole",
        "skole -",
        "skole ()",
        "(skole OR -vej)",
    ],
)
def test_malformed_syntax_falls_back_to_plain_words(text):
    q = parse(text)
    assert q.fallback and "fallback" in codes(text)
    assert not q.refused
    assert q.node is not None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("*", "short_prefix"),
        ("s*", "short_prefix"),
        ("skole s*", "short_prefix"),
        ('"*"', "short_prefix"),
        ("-*", "short_prefix"),
        ("og det", "only_common"),
        ("the and of", "only_common"),
        ('"og det"', "only_common"),
        ("-skole", "only_exclusions"),
        ("-skole -vej", "only_exclusions"),
        ("x" * 1000, "too_long"),
        (" ".join(f"ord{i}" for i in range(13)), "too_many_terms"),
    ],
)
def test_refused_with_a_message(text, code):
    q = parse(text)
    assert q.refused and code in codes(text)
    assert q.node is None


def test_common_words_are_dropped_not_required():
    assert parse("skole og vej").node == AllOf((Word("skole"), Word("vej")))
    assert parse('"skole og vej"').node == Phrase("skole og vej")  # a phrase keeps them


@pytest.mark.parametrize("text", ["", "   ", '""', "()", "!!! ???"])
def test_no_words_is_an_empty_search(text):
    q = parse(text)
    assert q.node is None and not q.refused


# --- the same syntax against an index ----------------------------------------------------------


def test_all_words_must_match(corpus, reindex, texts):
    reindex()
    assert texts("skolerne cykelstier") == ["Skolerne i Tølløse mangler sikre cykelstier."]
    assert texts("skolerne havnebad") == []


def test_phrase_prefix_or_and_exclusion(corpus, reindex, texts):
    reindex()
    p = corpus["posts"]
    assert texts('"mangler sikre"') == [p["skolerne"].body_source]
    assert texts('"sikre mangler"') == []
    assert set(texts("havneb*")) == {p["havn"].body_source, p["aarhus"].body_source}
    assert set(texts("virker OR bicycle")) == {p["aarhus"].body_source, p["english"].body_source}
    assert texts("havnebad* -virker") == [p["havn"].body_source]
    assert texts("havnebad* -holbæk") == []  # the topic title counts too


def test_prefix_finds_written_forms_not_only_stems(corpus, reindex, texts):
    reindex()
    assert texts("skolern*") == [corpus["posts"]["skolerne"].body_source]
    assert texts("Tølløs*", emne=corpus["topics"]["harbour"].id) == []


def test_a_quoted_word_means_that_form(corpus, reindex, texts):
    reindex()
    assert texts('"Budgettet"') == [corpus["posts"]["budget"].body_source]
    assert texts('"budgetterne"') == []
    assert texts("budgetterne") == [corpus["posts"]["budget"].body_source]  # stems meet


def test_malformed_query_still_searches(corpus, reindex, find):
    reindex()
    page = find('"skolerne (cykelstier')
    assert [n.code for n in page.notices] == ["fallback"]
    assert [h.post.id for h in page.hits] == [corpus["posts"]["skolerne"].id]


@pytest.mark.parametrize("app_config", [{"SEARCH_MAX_EXPANSION": 3}])
def test_a_prefix_may_expand_to_a_limited_number_of_words(corpus, reindex, find):
    reindex()
    page = find("ha*")
    assert page.refused and [n.code for n in page.notices] == ["too_broad"]
    assert not page.hits
    assert find("havneb*").total == 2
