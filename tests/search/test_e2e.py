"""The search pages in a real browser: WCAG 2.1 A/AA (axe-core), one h1, no JavaScript needed.

Uses the live server and browser of tests/e2e (its seeded debate), with the search index built
by hand: the live server runs with ``TESTING`` on, so no indexer thread.
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import assert_no_axe_violations, browser_unavailable

_reason = browser_unavailable()
pytestmark = [pytest.mark.e2e]
if _reason and os.environ.get("CI", "").lower() != "true":
    pytestmark.append(pytest.mark.skip(reason=_reason))


@pytest.fixture(scope="module")
def indexed(live_server):
    import search
    from search.indexer import Indexer

    app = live_server.app
    with app.app_context():
        indexer = Indexer(app)
        try:
            indexer.run_once()
        finally:
            indexer.close()
    yield live_server
    search.state(app).close()


PAGES = [
    ("newest", "/soeg", None),
    ("query", "/soeg?q=cykelsti", None),
    ("filters", "/soeg?q=skolevej&udvalg=teknik-og-miljoe&omraade=toelloese&sort=newest", None),
    ("nothing found", "/soeg?q=rumraket", None),
    ("refused", "/soeg?q=*", None),
    ("fallback", '/soeg?q="cykelsti (', None),
    ("logged in", "/soeg?q=cykelsti", "politician"),
    ("moderator switch", "/soeg?q=cykelsti&skjulte=1", "moderator"),
    ("saved searches", "/soeg/gemte", "politician"),
]


@pytest.mark.parametrize(("name", "path", "role"), PAGES, ids=[p[0] for p in PAGES])
def test_search_pages_are_accessible(name, path, role, indexed, page, auth_cookies):
    if role:
        page.context.add_cookies(auth_cookies(role))
    response = page.goto(indexed.url(path))
    assert response.status == 200
    assert page.locator("h1").count() == 1
    assert page.get_attribute("html", "lang") == "da"
    assert_no_axe_violations(page)


def test_search_from_the_header_without_javascript(indexed, browser):
    context = browser.new_context(locale="da-DK", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(indexed.url("/"))
        page.fill("#header-q", "cykelsti")
        with page.expect_navigation():
            page.press("#header-q", "Enter")
        assert "/soeg?q=cykelsti" in page.url
        assert page.locator("ol.hits li").count() >= 1
        assert page.locator("mark").first.inner_text().lower().startswith("cykelsti")
        page.select_option("#omraade", "toelloese")
        with page.expect_navigation():
            page.click("main form.search-form button[type=submit]")
        assert "omraade=toelloese" in page.url
    finally:
        context.close()
