"""Live Q&A in headless Chromium against a real server (tests/live/server.py, CSRF on):
a citizen, a moderator and a politician, each in a browser context of their own, do what
the real-server test does through the real pages, with no reload; axe-core checks the
session page and the projector. Skipped (with the reason) without Chromium, playwright or
axe-core, except under CI."""

from __future__ import annotations

import re

import pytest
import requests

from tests.e2e.conftest import (
    CHROMIUM_ARGS,
    PASSWORD,
    _chromium_path,
    axe_check,
    browser_unavailable,
    format_violations,
)
from tests.live.conftest import start_server  # noqa: F401  (the fixture)

from .server_world import world  # noqa: F401  (the fixture start_server serves)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(browser_unavailable() is not None, reason=str(browser_unavailable())),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_as(browser, base: str, email: str | None, path: str):
    context = browser.new_context(locale="da-DK")
    context.set_default_timeout(15_000)
    page = context.new_page()
    if email:
        page.goto(base + "/login")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert not page.url.endswith("/login"), page.inner_text("main")
    page.goto(base + path)
    page.wait_for_function("() => window.borgerdialogQa && window.borgerdialogQa.joined")
    page.evaluate("() => { window.__notReloaded = true; }")
    return context, page


def token_of(http: requests.Session, url: str) -> str:
    """The CSRF token of a page's forms (the test server checks CSRF, as production does)."""
    page = http.get(url, timeout=10).text
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]


def no_violations(page) -> None:
    violations = axe_check(page)
    assert not violations, format_violations(violations, page.url)


def test_three_people_in_one_session(browser, start_server, world):  # noqa: F811
    server = start_server("threading", MODERATION_ENABLED=True, WTF_CSRF_ENABLED=True)
    base, sid = server.url, world.ids["session"]
    path = f"/spoergetid/{sid}"
    first = world.ids["first"]
    contexts = []
    sessions: list[requests.Session] = []
    try:
        for key in ("citizen0", "staff", "politician"):
            contexts.append(open_as(browser, base, world.emails[key], path))
        (_c, citizen), (_m, staff), (_p, pol) = contexts
        errors: list[str] = []
        for page in (citizen, staff, pol):
            page.on("pageerror", lambda exc: errors.append(str(exc)))

        # The citizen asks; the question waits for a moderator, seen by them two only.
        citizen.fill("#ask-body", "Hvornår kommer cykelstien til Tølløse?")
        citizen.click("form[data-qa-form=ask] button[type=submit]")
        held = citizen.wait_for_selector("li.qa-question.qa-held")
        q = int(held.get_attribute("data-post-id"))
        assert citizen.input_value("#ask-body") == ""
        staff.wait_for_selector(f"#q{q} form[data-qa-form=approve]")
        pol.wait_for_timeout(700)
        assert pol.query_selector(f"#q{q}") is None

        # The moderator approves; it appears for the politician, unmarked for the citizen.
        staff.click(f"#q{q} form[data-qa-form=approve] button")
        pol.wait_for_selector(f"#q{q}")
        citizen.wait_for_selector(f"#q{q}:not(.qa-held)")
        assert "cykelstien" in pol.inner_text(f"#q{q}")

        # Three votes: the moderator here, two citizens through their own (no-JS) forms.
        staff.click(f"#q{q} form[data-qa-form=vote] button")
        for key in ("citizen1", "citizen2"):
            s = requests.Session()
            sessions.append(s)
            r = s.post(
                base + "/login",
                data={
                    "email": world.emails[key],
                    "password": PASSWORD,
                    "csrf_token": token_of(s, base + "/login"),
                },
                allow_redirects=False,
                timeout=10,
            )
            assert r.status_code == 302
            token = token_of(s, base + path)
            r = s.post(
                f"{base}{path}/spoergsmaal/{q}/stem",
                data={"vote": "1", "csrf_token": token},
                allow_redirects=False,
                timeout=10,
            )
            assert r.status_code == 302, r.text[:300]
        for page in (citizen, staff, pol):
            page.wait_for_function(f"() => document.getElementById('q{q}').dataset.votes === '3'")
            # Sorted by votes: the new question is now above the older one with one vote.
            order = page.eval_on_selector_all(
                "#qa-questions > li", "els => els.map(e => Number(e.dataset.postId))"
            )
            assert order.index(q) < order.index(first), order
        staff.wait_for_selector(f"#q{q} form[data-qa-form=vote] button[aria-pressed=true]")

        # The moderator pins it: the banner for everyone.
        staff.click(f"#q{q} form[data-qa-form=pin] button")
        for page in (citizen, staff, pol):
            page.wait_for_selector("#qa-banner:not([hidden])")
            assert "cykelstien" in page.inner_text("#qa-banner")

        # The politician answers; the answer appears for everyone at once.
        pol.click(f"#q{q} details.qa-answer-form summary")
        pol.fill(f"#answer-{q}", "Vi **bygger** den til foråret.")
        pol.click(f"#q{q} form[data-qa-form=answer] button[type=submit]")
        for page in (citizen, staff, pol):
            page.wait_for_selector(f"#q{q} .qa-answer strong")
            assert "Vi bygger den til foråret." in page.inner_text(f"#q{q} .qa-answers")
            assert page.locator(f"#q{q} .qa-answer").count() == 1
            assert page.evaluate("() => window.__notReloaded === true")
        # Presence: the politician is shown as present.
        citizen.wait_for_selector(
            f"[data-politician='{world.ids['politician']}'].present", timeout=15_000
        )
        assert errors == []

        no_violations(citizen)
        no_violations(staff)
        no_violations(pol)
        anon_ctx = browser.new_context(locale="da-DK")
        contexts.append((anon_ctx, None))
        projector = anon_ctx.new_page()
        projector.goto(f"{base}{path}/projektor")
        assert "cykelstien" in projector.inner_text(".pj-now")
        assert "Vi bygger den til foråret." in projector.inner_text(".pj-now")
        no_violations(projector)
        # The projector follows along: the question is marked answered, nothing is pinned.
        staff.click(f"#q{q} form[data-qa-form=status] button >> nth=0")
        projector.wait_for_function("() => !document.querySelector('.pj-question')", timeout=15_000)
    finally:
        for context, _page in contexts:
            context.close()
        for s in sessions:
            s.close()


def _requests_login(base: str, email: str) -> requests.Session:
    s = requests.Session()
    r = s.post(
        base + "/login",
        data={"email": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    return s


def test_one_connection_that_comes_back_after_the_server_ends_it(
    browser,
    start_server,  # noqa: F811
    world,  # noqa: F811
):
    """A signed-in citizen's Q&A page opens one Socket.IO connection (static/js/live-client.js
    serves live.js and qa.js alike). "Log out everywhere" elsewhere ends it on the server:
    the page connects again, follows the public rooms on (a vote still arrives) and offers a
    reload; after logging in again, back on the page, it joins the citizen's rooms again."""
    server = start_server("threading")
    base, sid = server.url, world.ids["session"]
    path = f"/spoergetid/{sid}"
    first = world.ids["first"]
    me = "citizen3"
    context = browser.new_context(locale="da-DK")
    context.set_default_timeout(15_000)
    sessions: list[requests.Session] = []
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(base + "/login")
        page.fill("#email", world.emails[me])
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        # Count the Socket.IO clients the page's scripts create (each is a connection of its
        # own; a reconnection reuses its client).
        page.add_init_script(
            """(() => {
              let real;
              window.__ioClients = 0;
              Object.defineProperty(window, "io", {
                configurable: true,
                get() {
                  return real && ((...args) => { window.__ioClients += 1; return real(...args); });
                },
                set(value) { real = value; },
              });
            })();"""
        )
        page.goto(base + path)
        page.wait_for_function("() => window.borgerdialogQa && window.borgerdialogQa.joined")
        page.wait_for_timeout(1000)
        assert page.evaluate("() => window.__ioClients") == 1
        rooms = page.evaluate("() => window.borgerdialogQa.rooms")
        user_room = next(r for r in rooms if r.startswith("user:"))
        assert {f"qa:{sid}", user_room} <= set(rooms)
        page.evaluate("() => { window.__notReloaded = true; }")

        def vote(key: str, expected: int) -> None:
            s = _requests_login(base, world.emails[key])
            sessions.append(s)
            r = s.post(
                f"{base}{path}/spoergsmaal/{first}/stem",
                data={"vote": "1"},
                allow_redirects=False,
                timeout=10,
            )
            assert r.status_code == 302, r.text[:300]
            page.wait_for_function(
                f"() => document.getElementById('q{first}').dataset.votes === '{expected}'"
            )

        votes = int(page.get_attribute(f"#q{first}", "data-votes"))
        vote("citizen1", votes + 1)

        # Another device logs out everywhere: the server ends this page's connection.
        other = _requests_login(base, world.emails[me])
        sessions.append(other)
        r = other.post(base + "/konto/log-ud-overalt", allow_redirects=False, timeout=10)
        assert r.status_code == 302
        page.wait_for_function("() => window.borgerdialogQa.limited")
        page.wait_for_function("() => window.borgerdialogQa.joined")
        assert user_room not in page.evaluate("() => window.borgerdialogQa.rooms")
        page.locator(".qa-js-message").wait_for(state="visible")
        vote("citizen2", votes + 2)  # the public rooms still follow

        # Logged in again (another tab of the same browser), back on the page: the
        # citizen's rooms again, on one connection, without a reload.
        tab = context.new_page()
        tab.goto(base + "/login")
        tab.fill("#email", world.emails[me])
        tab.fill("#password", PASSWORD)
        with tab.expect_navigation():
            tab.click("main form button[type=submit]")
        tab.close()
        page.bring_to_front()
        page.evaluate("() => window.dispatchEvent(new Event('focus'))")
        page.wait_for_function(
            f"() => !window.borgerdialogQa.limited && window.borgerdialogQa.joined"
            f" && window.borgerdialogQa.rooms.includes('{user_room}')"
        )
        vote("citizen0", votes + 3)
        assert page.evaluate("() => window.__notReloaded === true")
        assert page.evaluate("() => window.__ioClients") == 1
        assert page.evaluate("() => window.borgerdialogQa.socket.connected")
        assert errors == []
    finally:
        context.close()
        for s in sessions:
            s.close()
