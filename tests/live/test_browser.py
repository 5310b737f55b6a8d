"""Two browsers on one topic page, in headless Chromium (Debian's), against a real server.

Skipped with the reason when Chromium or playwright is missing, except under CI (CI=true),
where that is a failure. Marked ``e2e`` like the other browser tests.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .conftest import PASSWORD, in_ci

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "socket.io.min.js"


def _unavailable() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return "Chromium not installed: apt-get install -y chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright not installed: pip install -e '.[test]' (never `playwright install`)"
    if not VENDOR.exists():
        return "static/vendor/socket.io.min.js missing: run ./dev.sh test (it copies it from npm)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _unavailable()
    if reason:
        if in_ci():
            pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
        )
        try:
            yield chromium
        finally:
            chromium.close()


def logged_in_page(browser, base_url: str, email: str):
    context = browser.new_context(locale="da-DK")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(base_url + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert not page.url.endswith("/login"), page.inner_text("main")
    return context, page


def wait_joined(page) -> None:
    page.wait_for_function("() => window.borgerdialogLive && window.borgerdialogLive.joined")


def post_id(page) -> int:
    return int(re.search(r"/indlaeg/(\d+)", page.url).group(1))


def test_a_reply_appears_live_and_a_missed_post_after_going_offline(browser, start_server, world):
    server = start_server("threading")
    topic_url = f"{server.url}/emner/{world.ids['topic']}"
    first = world.ids["first_post"]
    writer_ctx, writer = logged_in_page(browser, server.url, world.emails["neighbour"])
    reader_ctx, reader = logged_in_page(browser, server.url, world.emails["citizen"])
    try:
        reader.goto(topic_url)
        wait_joined(reader)
        errors: list[str] = []
        reader.on("pageerror", lambda exc: errors.append(str(exc)))

        # The writer replies to the reader's post; the reader sees it without reloading.
        writer.goto(f"{server.url}/indlaeg/{first}/svar")
        writer.fill("#body", "Et svar, der dukker op af sig selv")
        with writer.expect_navigation():
            writer.click("main form button[type=submit]")
        reply = post_id(writer)
        reader.wait_for_selector(f"#p{first} ~ ol.replies #p{reply}")
        assert "dukker op af sig selv" in reader.inner_text(f"#p{reply}")
        reader.wait_for_function(  # the reader's bell: a reply to their post
            "() => document.querySelector('.bell .count .badge')?.textContent === '1'"
        )
        reader.wait_for_function(
            "() => document.getElementById('live-announcer').textContent.includes('1')"
        )

        # The reader goes offline; a post is written meanwhile; back online, it appears.
        reader_ctx.set_offline(True)
        reader.wait_for_function("() => !window.borgerdialogLive.socket.connected")
        writer.goto(topic_url)
        writer.fill("#body", "Skrevet mens du var offline")
        with writer.expect_navigation():
            writer.click("form[action$='/indlaeg'] button[type=submit]")
        missed = post_id(writer)
        reader.wait_for_timeout(500)
        assert reader.query_selector(f"#p{missed}") is None
        reader_ctx.set_offline(False)
        reader.wait_for_selector(f"#p{missed}", timeout=15_000)
        assert "offline" in reader.inner_text(f"#p{missed}")
        assert reader.evaluate("() => window.borgerdialogLive.lastEventId") > 0
        # A post arriving out of view: a notice, not a jump; the notice leads to it.
        reader.locator(f"#p{missed}").scroll_into_view_if_needed()  # seen: no notice left
        reader.wait_for_selector(".live-notice:has([data-live-new-posts])", state="hidden")
        reader.set_viewport_size({"width": 800, "height": 300})
        reader.evaluate("() => window.scrollTo(0, 0)")
        writer.goto(topic_url)
        writer.fill("#body", "Langt nede på siden")
        with writer.expect_navigation():
            writer.click("form[action$='/indlaeg'] button[type=submit]")
        below = post_id(writer)
        reader.wait_for_selector(f"#p{below}", state="attached")
        notice = reader.locator("[data-live-new-posts]")
        notice.wait_for(state="visible")
        assert reader.evaluate("() => window.scrollY") == 0
        assert "1" in notice.inner_text()
        notice.click()
        reader.wait_for_function(f"() => document.activeElement?.id === 'p{below}'")
        reader.wait_for_selector(".live-notice:has([data-live-new-posts])", state="hidden")
        assert errors == []
        # Nothing was added twice.
        assert reader.locator(f"#p{reply}").count() == 1
        assert reader.locator(f"#p{missed}").count() == 1
    finally:
        writer_ctx.close()
        reader_ctx.close()


def test_a_topic_status_change_updates_the_open_page(browser, start_server, world, http_login):
    server = start_server("threading")
    topic_url = f"{server.url}/emner/{world.ids['topic']}"
    reader_ctx, reader = logged_in_page(browser, server.url, world.emails["citizen"])
    try:
        reader.goto(topic_url)
        wait_joined(reader)
        title = reader.title()
        assert reader.inner_text("[data-live-topic-head] .status") == "Åben"
        assert reader.locator(".live-stale").is_hidden()
        admin = http_login(server.url, world.emails["admin"])
        r = admin.post(f"{topic_url}/status", data={"status": "closed"}, timeout=10)
        assert r.status_code == 200, r.text[:300]
        reader.wait_for_function(
            "() => document.querySelector('[data-live-topic-head]').dataset.status === 'closed'"
        )
        assert reader.inner_text("[data-live-topic-head] .status") == "Lukket"
        assert reader.inner_text("h1") == "Cykelsti til Tølløse" and reader.title() == title
        assert reader.locator("h1#topic-title").count() == 1
        reader.wait_for_function(
            "() => document.getElementById('live-announcer').textContent.length > 0"
        )
        # Closed for posts: the write form on the page is out of date, so it says so.
        reader.locator(".live-stale").wait_for(state="visible")
    finally:
        reader_ctx.close()


def test_a_new_outcome_shows_a_notice_on_the_open_page(browser, start_server, world, http_login):
    server = start_server("threading")
    topic_url = f"{server.url}/emner/{world.ids['topic']}"
    reader_ctx, reader = logged_in_page(browser, server.url, world.emails["citizen"])
    try:
        reader.goto(topic_url)
        wait_joined(reader)
        notice = reader.locator("[data-live-outcome]")
        assert notice.is_hidden()
        admin = http_login(server.url, world.emails["admin"])
        r = admin.post(
            f"{topic_url}/resultat/ny",
            data={
                "status": "decided",
                "body": "committee",
                "decided_on": "2026-11-30",
                "text": "Udvalget har besluttet cykelstien.",
                "nonce": "browser-1",
            },
            timeout=10,
        )
        assert r.status_code == 200 and "/resultat" in r.url, r.text[:300]
        notice.wait_for(state="visible")
        assert (
            notice.locator("a")
            .get_attribute("href")
            .endswith(f"/emner/{world.ids['topic']}/resultat")
        )
    finally:
        reader_ctx.close()


def test_home_page_activity_counts_update_live(browser, start_server, world, http_login):
    server = start_server("threading")
    context = browser.new_context(locale="da-DK")  # anonymous: public rooms only
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(server.url + "/")
        wait_joined(page)
        count = page.locator(f"[data-post-count='{world.ids['topic']}']").first
        before = count.inner_text()
        assert before.startswith("1 ")
        writer = http_login(server.url, world.emails["neighbour"])
        r = writer.post(
            f"{server.url}/emner/{world.ids['topic']}/indlaeg",
            data={"body": "Endnu et indlæg"},
            allow_redirects=False,
            timeout=10,
        )
        assert r.status_code == 302, r.text[:300]
        page.wait_for_function(
            f"() => document.querySelector(\"[data-post-count='{world.ids['topic']}']\")"
            ".textContent.startsWith('2 ')"
        )
    finally:
        context.close()


def test_a_long_debate_gets_new_top_level_posts_on_the_page_they_belong_to(
    browser, start_server, world, http_login
):
    """Pages of two top-level posts: a new one appears live on the last page (oldest
    first); on the first page a link says there is a new post on the last page. An old
    link to a post (``/emner/7#p42``, from before the pages) opens the page showing it."""
    server = start_server("threading", THREAD_PAGE_ROOTS=2)
    topic_url = f"{server.url}/emner/{world.ids['topic']}"
    writer = http_login(server.url, world.emails["neighbour"])

    def write(body: str) -> int:
        r = writer.post(
            f"{topic_url}/indlaeg", data={"body": body}, allow_redirects=False, timeout=10
        )
        assert r.status_code == 302, r.text[:300]
        return int(re.search(r"/indlaeg/(\d+)", r.headers["Location"]).group(1))

    second, third = write("Nummer to"), write("Nummer tre")  # pages: [first, second], [third]
    context = browser.new_context(locale="da-DK")
    context.set_default_timeout(10_000)
    first_page, last_page = context.new_page(), context.new_page()
    try:
        errors: list[str] = []
        for page in (first_page, last_page):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        first_page.goto(topic_url)
        last_page.goto(topic_url + "?side=2")
        assert first_page.locator("nav.pager a[aria-current='page']").inner_text().endswith("1")
        assert last_page.locator(f"#p{third}").count() == 1
        wait_joined(first_page)
        wait_joined(last_page)
        fourth = write("Nummer fire")
        last_page.wait_for_selector(
            f"#p{third} >> xpath=ancestor::li/following-sibling::li//*[@id='p{fourth}']"
        )
        link = first_page.locator("[data-live-elsewhere] a")
        link.wait_for(state="visible")
        assert link.inner_text() == "1 nyt indlæg på side 2"
        assert first_page.locator(f"#p{fourth}").count() == 0
        assert first_page.locator(f"#p{world.ids['first_post']}").count() == 1
        with first_page.expect_navigation():
            link.click()
        assert first_page.url.endswith("?side=2")
        # An old link to a post on page 2.
        first_page.goto(f"{topic_url}#p{third}")
        first_page.wait_for_url(f"{topic_url}?side=2#p{third}")
        assert first_page.locator(f"#p{third}").count() == 1
        assert second and errors == []
    finally:
        context.close()
