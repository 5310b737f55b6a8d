"""The Content-Security-Policy in a real browser: the main pages load without a single
violation (no inline script, handler or style left in a template or a script), without a page
error, and the live connection (Socket.IO, same origin) still joins under ``connect-src``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Error as PlaywrightError

from .conftest import LiveServer

LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def extra(live_server: LiveServer) -> dict:
    """A live Q&A session and a citizen budget in its voting phase, on the e2e dataset."""
    from budgets import services as budgets
    from budgets.models import BallotStyle, Phase
    from forum.extensions import db
    from forum.models import Area, User, utcnow
    from qa import services as qa
    from search.indexer import Indexer

    app = live_server.app
    with app.app_context():
        admin = db.session.get(User, live_server.ids["politician"])
        staff = db.session.scalar(
            db.select(User).where(User.email == live_server.emails["moderator"])
        )
        from forum import services
        from forum.models import Role

        boss = services.register_user("csp-admin@example.dk", "Ane Admin", "correct-horse-battery")
        services.set_role(boss, Role.ADMIN)
        db.session.commit()
        now = utcnow()
        session = qa.schedule_session(
            boss,
            "Spørgetid om skolevejen",
            "Stil dine spørgsmål til udvalget.",
            now + timedelta(minutes=5),
            now + timedelta(hours=1),
            [admin.id],
            topic_id=live_server.ids["topic"],
        )
        qa.start_session(boss, session)
        db.session.commit()
        process = budgets.create_process(
            boss,
            title="Borgerbudget Tølløse",
            description="Hvad skal **pengene** bruges til?",
            total_amount=1_000_000,
            rule="greedy",
            ballot_style=BallotStyle.APPROVAL_BUDGET,
        )
        db.session.commit()
        while process.phase != Phase.IDEAS:
            budgets.advance_phase(boss, process)
        idea = budgets.propose_idea(
            boss,
            process,
            "Shelter ved søen",
            "Et shelter til spejderne.",
            200_000,
            area_id=db.session.scalar(db.select(Area.id).where(Area.slug == "toelloese")),
        )
        db.session.commit()
        budgets.review_idea(boss, idea, True, "Kan lade sig gøre.")
        while process.phase != Phase.VOTING:
            budgets.advance_phase(boss, process)
        db.session.commit()
        ids = {"session": session.id, "process": process.id, "idea": idea.id}
        assert staff is not None
        indexer = Indexer(app)
        indexer.run_once()
        indexer.close()
        db.session.remove()
    return ids


def _pages(live: LiveServer, extra: dict) -> list[tuple[str | None, str]]:
    """(role or None, path)."""
    ids = live.ids
    return [
        (None, "/"),
        (None, f"/emner/{ids['topic']}"),
        (None, "/soeg?q=cykelsti"),
        (None, f"/spoergetid/{extra['session']}"),
        (None, f"/spoergetid/{extra['session']}/projektor"),
        (None, "/borgerbudget/"),
        (None, f"/borgerbudget/{extra['process']}"),
        (None, f"/borgerbudget/ideer/{extra['idea']}"),
        (None, "/login"),
        (None, "/findes-ikke"),
        ("citizen", "/"),
        ("citizen", f"/emner/{ids['topic']}"),
        ("citizen", f"/spoergetid/{extra['session']}"),
        ("citizen", f"/borgerbudget/{extra['process']}/stemmeseddel"),
        ("citizen", "/notifikationer"),
        ("moderator", "/moderation"),
        ("moderator", f"/emner/{ids['topic']}"),
        ("moderator", "/forslag"),
    ]


def _open(browser, auth_cookies, role):
    context = browser.new_context(locale="da-DK")
    context.set_default_timeout(10_000)
    context.add_init_script(LISTEN)
    if role:
        context.add_cookies(auth_cookies(role))
    return context


def _violations(page) -> list:
    """The page's recorded violations. A page may navigate on its own just after loading
    (a live client told to reload, an old #p link sent on): read them from the page it
    settles on (the console listener keeps what earlier documents reported)."""
    for _ in range(3):
        try:
            return page.evaluate("() => window.__cspViolations || []")
        except PlaywrightError as exc:
            if "context was destroyed" not in str(exc):
                raise
            page.wait_for_load_state("load")
    return page.evaluate("() => window.__cspViolations || []")


def test_main_pages_load_without_csp_violations(browser, live_server, auth_cookies, extra):
    problems: list[str] = []
    checked = 0
    for role, path in _pages(live_server, extra):
        context = _open(browser, auth_cookies, role)
        page = context.new_page()
        console: list[str] = []
        page.on(
            "console",
            lambda m, c=console: (
                c.append(m.text)
                if "Content Security Policy" in m.text or "Refused to" in m.text
                else None
            ),
        )
        page.on("pageerror", lambda exc, c=console: c.append(f"page error: {exc}"))
        try:
            response = page.goto(live_server.url(path))
            assert response is not None
            assert response.headers.get("content-security-policy"), path
            page.wait_for_load_state("load")
            page.wait_for_timeout(300)  # deferred scripts run, fragments load
            violations = _violations(page)
            for v in violations + console:
                problems.append(f"{role or 'anonymous'} {path}: {v}")
            checked += 1
        finally:
            context.close()
    assert checked == len(_pages(live_server, extra))
    assert not problems, "\n".join(problems)


def test_live_connection_joins_under_the_policy(browser, live_server, auth_cookies, extra):
    for path in (f"/emner/{live_server.ids['topic']}", f"/spoergetid/{extra['session']}"):
        context = _open(browser, auth_cookies, "citizen")
        page = context.new_page()
        try:
            page.goto(live_server.url(path))
            page.wait_for_function(
                "() => (window.borgerdialogLive && window.borgerdialogLive.joined)"
                " || (window.borgerdialogQa && window.borgerdialogQa.joined)",
                timeout=15_000,
            )
            assert page.evaluate("() => window.__cspViolations") == []
        finally:
            context.close()


# --- reflected XSS in a real browser ---------------------------------------------------------

# Every query parameter a view reads by name (tests/forum/test_no_server_errors.py finds the
# same list in the code); the fields of each page's own GET forms are added per page.
QUERY_NAMES = [
    "citer",
    "emne",
    "fra",
    "holdning",
    "next",
    "omraade",
    "parti",
    "q",
    "reason",
    "rolle",
    "side",
    "skjulte",
    "sort",
    "til",
    "udvalg",
]
PAYLOADS = [
    "<img src=x onerror=window.__xss=1;alert(1)>",
    "\"'><svg onload=window.__xss=2;alert(2)>",
    "javascript:window.__xss=3;alert(3)//",
]
INJECTED = """() => {
  const bad = document.querySelectorAll(
    'img[src="x"], svg[onload], [onerror], [onload], a[href^="javascript:" i],'
    + ' form[action^="javascript:" i], iframe, object, embed, base');
  return {
    elements: Array.from(bad, (e) => e.outerHTML.slice(0, 120)),
    ran: window.__xss === undefined ? null : window.__xss,
  };
}"""
GET_FIELDS = """() => Array.from(
  document.querySelectorAll('main form:not([method=post]) [name]'), (e) => e.name)"""


def _reflect_pages(live: LiveServer, extra: dict) -> list[tuple[str | None, str]]:
    ids = live.ids
    return [
        (None, "/"),
        (None, "/soeg"),
        (None, f"/emner/{ids['topic']}"),
        (None, f"/udvalg/{ids['committee_slug']}"),
        (None, f"/omraader/{ids['area_slug']}"),
        (None, "/login"),
        (None, "/registrer"),
        (None, f"/spoergetid/{extra['session']}"),
        (None, "/borgerbudget/"),
        (None, f"/borgerbudget/{extra['process']}"),
        ("citizen", f"/indlaeg/{ids['root_post']}/svar"),
        ("citizen", "/notifikationer"),
        ("citizen", "/soeg/gemte"),
        ("citizen", f"/borgerbudget/{extra['process']}/stemmeseddel"),
        ("moderator", "/moderation"),
        ("moderator", "/forslag"),
        ("moderator", f"/emner/{ids['topic']}"),
    ]


def test_hostile_values_in_every_query_parameter_inject_nothing(
    browser, live_server, auth_cookies, extra
):
    from urllib.parse import urlencode

    problems: list[str] = []
    loads = 0
    for role, path in _reflect_pages(live_server, extra):
        context = _open(browser, auth_cookies, role)
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d, out=dialogs: (out.append(d.message), d.dismiss()))
        try:
            page.goto(live_server.url(path))
            names = sorted(set(QUERY_NAMES) | set(page.evaluate(GET_FIELDS)))
            for payload in PAYLOADS:
                query = urlencode([(n, payload) for n in names])
                page.goto(live_server.url(f"{path}?{query}"))
                page.wait_for_load_state("load")
                page.wait_for_timeout(100)
                found = page.evaluate(INJECTED)
                loads += 1
                who = f"{role or 'anonymous'} {path} [{payload[:12]}]"
                if found["elements"]:
                    problems.append(f"{who}: injected {found['elements']}")
                if found["ran"] is not None:
                    problems.append(f"{who}: script ran ({found['ran']})")
            if dialogs:
                problems.append(f"{role or 'anonymous'} {path}: dialog {dialogs}")
        finally:
            context.close()
    assert loads == len(_reflect_pages(live_server, extra)) * len(PAYLOADS)
    assert not problems, "\n".join(problems)
