"""The results page: language, filters, facets, sorting, highlighting, pagination."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from forum import services as forum_services
from forum.extensions import db


def test_danish_forms_and_spellings_find_each_other(corpus, reindex, texts):
    reindex()
    p = corpus["posts"]
    assert texts("skole") == [p["skolerne"].body_source]  # "skolerne" finds "skole" and back
    assert texts("cykelsti") == texts("cykelstierne")
    assert set(texts("cykelsti")) >= {p["skolerne"].body_source, p["budget"].body_source}
    assert texts("budget") == [p["budget"].body_source]  # "Budgettet" in the text
    assert texts("Holbaek havnebad")[0] == p["havn"].body_source  # the other: topic title
    assert texts("Aarhus") == texts("Århus") == [p["aarhus"].body_source]
    assert texts("Toelloese mangler") == [p["skolerne"].body_source]


def test_english_text_is_findable(corpus, reindex, texts):
    reindex()
    assert texts("bicycle lanes") == [corpus["posts"]["english"].body_source]
    assert texts('"too narrow"') == [corpus["posts"]["english"].body_source]


def test_title_ranks_above_body(make_topic, make_post, reindex, texts, make_committee):
    c = make_committee()
    body_topic = make_topic(committee=c, title="Trafik ved hallen", intro="Vi skal tale om busser.")
    title_topic = make_topic(committee=c, title="Busser til Orø", intro="Hvad mener I?")
    make_post(body_topic, body="Flere busser om aftenen, tak.")
    reindex()
    assert texts("busser")[0] == title_topic.title


def test_filters(corpus, reindex, texts, find):
    reindex()
    p, c, a = corpus["posts"], corpus["committees"], corpus["areas"]
    assert set(texts("", udvalg=c["climate"].slug)) == {
        p["havn"].body_source,
        p["aarhus"].body_source,
        corpus["topics"]["harbour"].title,
    }
    assert set(texts("", omraade=a["tolloese"].slug)) == {
        p["skolerne"].body_source,
        p["budget"].body_source,
        p["english"].body_source,
        corpus["topics"]["road"].title,
    }
    assert texts("cykelsti", rolle="politician") == [p["budget"].body_source]
    assert texts("cykelstier", rolle="citizen") == [p["skolerne"].body_source]
    assert texts("cykelsti", parti="Socialdemokratiet") == [p["budget"].body_source]
    assert texts("", holdning="against") == [p["havn"].body_source]
    assert set(texts("", emne=corpus["topics"]["harbour"].id)) == {
        p["havn"].body_source,
        p["aarhus"].body_source,
        corpus["topics"]["harbour"].title,
    }
    page = find("", udvalg=c["climate"].slug, holdning="for")
    assert page.total == 0 and not page.notices


def test_date_range_in_local_time(corpus, reindex, texts):
    p = corpus["posts"]
    # 23:30 UTC on 31 December 2025 is already 1 January 2026 in Copenhagen.
    p["havn"].created_at = datetime(2025, 12, 31, 23, 30)
    p["aarhus"].created_at = datetime(2025, 12, 31, 22, 30)
    forum_services.edit_post(p["havn"].author, p["havn"], p["havn"].body_source + " ")
    forum_services.edit_post(p["aarhus"].author, p["aarhus"], p["aarhus"].body_source + "!")
    db.session.commit()
    reindex()
    assert texts("havnebad", fra="2026-01-01", til="2026-01-01") == [p["havn"].body_source]
    assert texts("havnebad", til="2025-12-31") == [p["aarhus"].body_source]


def test_facets_count_per_committee_and_area(corpus, reindex, find):
    reindex()
    page = find("")
    committees = {c.slug: n for c, n in page.facets["committee"]}
    areas = {a.slug: n for a, n in page.facets["area"]}
    assert committees == {"boern-og-skole": 4, "klima-og-miljoe": 3}
    assert areas == {"toelloese": 4, "holbaek-by": 3}
    page = find("havnebad")
    assert {c.slug: n for c, n in page.facets["committee"]} == {"klima-og-miljoe": 2}


def test_sort_newest_and_empty_query_shows_newest(corpus, reindex, find):
    reindex()
    newest = [h.created_at for h in find("").hits]
    assert newest == sorted(newest, reverse=True)
    assert len(newest) == 7
    by_date = [h.created_at for h in find("cykelsti", sort="newest").hits]
    assert by_date == sorted(by_date, reverse=True)


def test_highlighted_snippets(corpus, reindex, find):
    reindex()
    hit = find("skole holbaek*")
    assert not hit.hits
    hit = find("skolerne")
    assert "<mark>Skolerne</mark>" in str(hit.hits[0].snippet)
    hit = [h for h in find("Toelloese cykelstier").hits if h.kind == "post"][0]
    assert "<mark>Tølløse</mark>" in str(hit.snippet)
    assert "<mark>cykelstier</mark>" in str(hit.snippet)
    assert "<mark>Tølløse</mark>" in str(hit.title)  # the topic's title


def test_snippets_escape_what_people_wrote(make_topic, make_post, reindex, client):
    topic = make_topic()
    make_post(topic, body="Farlig <script>alert('x')</script> skolevej & <b>fed</b>.")
    reindex()
    html = client.get("/soeg?q=skolevej").get_data(as_text=True)
    assert "<script>alert" not in html  # markup in the source is dropped from the text ...
    assert "alert(&#39;x&#39;) <mark>skolevej</mark> &amp; fed" in html  # ... and text escaped


@pytest.mark.parametrize("app_config", [{"SEARCH_PER_PAGE": 2}])
def test_pagination(make_topic, make_post, reindex, find, make_committee):
    topic = make_topic(committee=make_committee(), title="Affald i byen", intro="Spørgsmål?")
    posts = [make_post(topic, body=f"Skraldespande nummer {i}.") for i in range(5)]
    reindex()
    pages = [find("skraldespande", side=n) for n in (1, 2, 3)]
    assert [len(p.hits) for p in pages] == [2, 2, 1]
    seen = [h.post.id for p in pages for h in p.hits]
    assert sorted(seen) == sorted(p.id for p in posts)
    assert pages[0].has_next and pages[1].has_next and not pages[2].has_next
    assert pages[0].last_page == 3
    beyond = find("skraldespande", side=9)
    assert not beyond.hits and [n.code for n in beyond.notices] == ["page_beyond"]


def test_results_page_works_without_javascript(corpus, reindex, client):
    reindex()
    r = client.get("/soeg", query_string={"q": "cykelsti", "udvalg": "boern-og-skole"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert html.count("<h1") == 1
    assert re.search(r'<form method="get" action="/soeg"[^>]*role="search"', html)
    for control in ("q", "udvalg", "omraade", "rolle", "parti", "holdning", "fra", "til", "sort"):
        assert f'<label for="{control}">' in html, control
    assert "<script" not in html.split("<main")[1]
    post = corpus["posts"]["skolerne"]
    assert f'href="/indlaeg/{post.id}#p{post.id}"' in html  # the permalink in its thread
    assert 'aria-current="true"' in html  # the chosen committee in the facets


def test_search_box_in_every_page_header(client):
    html = client.get("/").get_data(as_text=True)
    header = html.split("</header>")[0]
    assert 'action="/soeg"' in header and 'role="search"' in header
    assert '<label for="header-q"' in header
