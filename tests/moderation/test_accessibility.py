"""WCAG 2.1 AA (axe-core in headless Chromium) on every moderation page, as the people who
see them: moderators, an admin, a post's author, a suspended user, anonymous visitors."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from forum.extensions import db
from moderation import services
from moderation.models import AuditEntry, QueueItem

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "correct-horse-battery"


def _chromium() -> str | None:
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")


@pytest.fixture
def server(app):
    if _chromium() is None or not AXE_JS.exists():
        pytest.skip("Chromium or axe-core missing")
    pytest.importorskip("playwright.sync_api")
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield b
        b.close()


def _axe(page) -> list[str]:
    # Not add_script_tag: the pages' CSP blocks inline scripts (see tests/e2e/conftest.py).
    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})"
        for v in result["violations"]
    ]


def _login(browser, base, user):
    ctx = browser.new_context(locale="da-DK")
    page = ctx.new_page()
    if user is not None:
        page.goto(f"{base}/login")
        page.fill("#email", user.email)
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
    return page


def test_moderation_pages_meet_wcag_21_aa(
    server,
    browser,
    app,
    make_user,
    moderator,
    admin,
    topic,
    held,
    in_state,
    rules,
    make_area,
    make_topic,
):
    author = make_user(name="Anne Afvist")
    rejected = in_state("rejected", topic, author=author)
    pending = held(topic, author, body="Et indlæg der venter")
    reported = in_state("published", topic, body="Et anmeldt indlæg")
    services.report_post(make_user(), reported, "spam")
    entry = db.session.query(AuditEntry).filter_by(post_id=rejected.id, action="reject").one()
    services.appeal_decision(author, entry, "Jeg synes ikke, det var et angreb.")
    suspended = make_user(name="Sune Suspenderet")
    services.suspend_user(moderator, suspended, "Gentagne personangreb")
    # A citizen budget's ideas in the queue: one held, one rejected and appealed.
    from budgets import services as budgets

    process = budgets.create_process(
        admin, title="Borgerbudget", total_amount=100_000, area_id=topic.area_id or make_area().id
    )
    budgets.advance_phase(admin, process)
    held_idea = budgets.propose_idea(author, process, "Bænke ved søen", "Tre **bænke**.", 9000)
    bad_idea = budgets.propose_idea(author, process, "Køb mine ure", "Reklame.", 1000)
    db.session.commit()
    idea_items = {i.target_id: i for i in db.session.query(QueueItem).filter_by(kind="idea")}
    services.decide_item(admin, idea_items[bad_idea.id], "reject", rules["spam"].id, "Reklame")
    idea_entry = db.session.query(AuditEntry).filter_by(target_type="idea", action="reject").one()
    services.appeal_decision(author, idea_entry, "Det er en god idé til byen, ikke reklame.")
    db.session.commit()
    idea_appeal = db.session.query(QueueItem).filter_by(kind="appeal", post_id=None).one()
    item = db.session.query(QueueItem).filter_by(post_id=pending.id).one()
    pages = {
        moderator: [
            "/moderation",
            f"/moderation/items/{item.id}",
            f"/moderation/items/{idea_items[held_idea.id].id}",
            f"/moderation/items/{idea_appeal.id}",
            f"/borgerbudget/ideer/{held_idea.id}",
            f"/moderation/posts/{reported.id}",
            f"/moderation/users/{author.id}",
            "/moderation/suspensions",
            "/moderation/audit",
            "/moderation/words",
            "/moderation/rules",
            "/moderation/modes",
            f"/emner/{topic.id}",
        ],
        admin: [
            "/moderation/rules/new",
            f"/moderation/rules/{rules['spam'].id}",
            "/moderation/words",
        ],
        author: [
            f"/emner/{topic.id}",
            f"/indlaeg/{rejected.id}",
            "/notifikationer",
            f"/borgerbudget/ideer/{bad_idea.id}",
            f"/borgerbudget/ideer/{held_idea.id}",
            f"/borgerbudget/ideer/{held_idea.id}/rediger",
            f"/afgoerelser/{idea_entry.id}/klage",
            f"/indlaeg/{reported.id}/anmeld",
            f"/afgoerelser/{entry.id}/klage",
        ],
        suspended: [f"/emner/{topic.id}", "/notifikationer"],
        None: ["/debatregler", "/gennemsigtighed", f"/emner/{topic.id}"],
    }
    problems = {}
    for user, urls in pages.items():
        page = _login(browser, server, user)
        for url in urls:
            response = page.goto(server + url)
            assert response.status == 200, (url, response.status)
            found = _axe(page)
            if found:
                problems[(user.display_name if user else "anonymous", url)] = found
        page.context.close()
    assert not problems, problems
