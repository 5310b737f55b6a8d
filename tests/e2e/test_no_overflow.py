"""No page scrolls sideways on a phone: every GET page of the app, at 390×844 (an iPhone
12-15), as every kind of person, must fit its width.

The URLs come from the app's own URL map (every GET rule of every blueprint), filled with
real values from the robustness sweep's seeded world (``tests/forum/test_no_server_errors``:
posts in every state, a queue item, an appealable decision, a suspension, two citizen
budgets, a live Q&A session, a saved search, mail tokens) plus the demo's committees and
areas (their real, long names) and content that tends to break layouts: an unbroken long
word and a long link. A page overflows when ``document.documentElement.scrollWidth`` is
larger than ``innerWidth``; the failure names the page, the role and the widest element.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import CHROMIUM_ARGS, LiveServer, _chromium_path, _live_config, login

VIEWPORT = {"width": 390, "height": 844}
ROLES = ("anonymous", "citizen", "politician", "moderator", "admin")
BLUEPRINTS = (
    "forum",
    "moderation",
    "search",
    "mail",
    "budgets",
    "qa",
    "admin",
    "outcomes",
    "opinions",
    "reports",
    "meetings",
    "privacy",
    "api_pages",  # the API's documentation, the open-data page, the staff's keys
    "api_dump",
)
# GET endpoints that answer something other than a page a person reads on its own: files
# (CSV, calendar, Pabulib) and fragments the pages fetch to insert into themselves.
NOT_PAGES = {
    "moderation.audit_csv": "CSV file",
    "search.export": "CSV file",
    "budgets.result_csv": "CSV file",
    "budgets.result_pb": "Pabulib file",
    "qa.calendar": "calendar file",
    "forum.post_fragment": "fragment inserted into the topic page",
    "forum.topic_head": "fragment inserted into the topic page",
    "moderation.item_row": "fragment inserted into the queue page",
    "qa.banner": "fragment inserted into pages",
    "qa.projector_content": "fragment inserted into the projector page",
    "qa.item": "fragment inserted into the session page",
    "forum.user_redirect": "redirect to the profile page",
    "admin.theme_css": "stylesheet of the site's colours",
    "admin.logo": "the municipality's logo (an image)",
    "reports.pdf": "PDF file",
    "reports.csv_appendix": "CSV file",
    "meetings.attendees_csv": "CSV file",
    "meetings.meeting_ics": "calendar file",
    "meetings.topic_ics": "calendar file",
    "meetings.committee_ics": "calendar file",
    "meetings.area_ics": "calendar file",
    "meetings.personal_ics": "calendar file",
    "api_pages.openapi_json": "the API's description (JSON)",
    "api_dump.latest": "the open-data zip file",
    "opinions.export": "the statements round as a Pol.is zip file",
}
LONG_WORD = "Kommunalbestyrelsesmedlemsvederlagsberegningsbekendtgørelsesændringsforslaget"
LONG_LINK = (
    "https://www.holbaek.dk/borger/trafik-og-veje/cykelstier/planlaegning/"
    "cykelstiplan-2026-2030-hoeringsudgave-med-bilag-og-kortmateriale.pdf"
)

# The widest element that sticks out: of all elements whose right edge is past the
# viewport, the one reaching furthest (the outermost of those, on a tie), as a CSS path.
WIDEST_JS = """() => {
  const vw = window.innerWidth;
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 5; e = e.parentElement) {
      let s = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(s + '#' + e.id); break; }
      if (e.classList.length) s += '.' + [...e.classList].join('.');
      parts.unshift(s);
    }
    return parts.join(' > ');
  };
  // Content inside a box that scrolls or clips (a table in its scroll box) cannot widen
  // the page: only the box itself counts. (An absolutely positioned element escapes a box
  // that is not positioned: the box does not clip it.)
  const clipped = (el) => {
    const absolute = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.overflowX !== 'visible' && (!absolute || style.position !== 'static')) {
        return true;
      }
    }
    return false;
  };
  let best = null;
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 0.5 || clipped(el)) continue;
    if (!best || r.right > best.right + 0.5) best = {right: r.right, width: r.width, el};
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: vw,
    widest: best ? `${path(best.el)} (${Math.round(best.width)} px wide, right edge at `
      + `${Math.round(best.right)} px)` : 'none found',
  };
}"""


# --- the world and its server ----------------------------------------------------------


def _seed_world():
    """The sweep's world, plus Holbæk's real place names and layout-breaking content."""
    from forum import services
    from forum.demo import _seed_places
    from forum.extensions import db
    from tests.forum.test_no_server_errors import _moderation, _seed

    world = _seed()
    _seed_places()  # the demo's committees and areas: long names in selects and lists
    topic_id = world.ids["topic_id"][0]
    from forum.models import Topic

    topic = db.session.get(Topic, topic_id)
    with _moderation(False):
        post = services.create_post(
            world.users["citizen"],
            topic,
            f"Se {LONG_LINK} og {LONG_WORD}.\n\n    kode uden linjeskift " + "x" * 120,
        )
    db.session.commit()
    world.ids["post_id"].append(post.id)
    _seed_budget_results(world)
    return world


def _seed_budget_results(world) -> None:
    """A ballot in the voting process (its receipt) and a counted process (its result)."""
    from budgets import services as budgets
    from budgets.models import BallotStyle, BudgetProcess, Idea, Phase
    from forum.extensions import db
    from forum.models import Area

    admin, citizen = world.users["admin"], world.users["citizen"]
    voting = db.session.get(BudgetProcess, world.ids["process_id"][1])
    ideas = db.session.scalars(db.select(Idea.id).where(Idea.process_id == voting.id)).all()
    budgets.cast_ballot(citizen, voting, ideas)
    db.session.commit()

    area = db.session.scalar(db.select(Area).where(Area.slug == "toelloese"))
    counted = budgets.create_process(
        admin,
        title="Borgerbudget 2025 for Tølløse og omegn",
        description="Resultatet af afstemningen.",
        total_amount=750_000,
        rule="greedy",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    while counted.phase != Phase.IDEAS:
        budgets.advance_phase(admin, counted)
    projects = []
    for title, cost in (
        ("Shelterplads og bålsted ved Tølløse sø", 300_000),
        ("Multibane ved skolen", 450_000),
        ("Blomstereng langs stationsvejen", 100_000),
    ):
        idea = budgets.propose_idea(admin, counted, title, "Et projekt.", cost, area_id=area.id)
        budgets.review_idea(admin, idea, True, "Kan lade sig gøre.")
        projects.append(idea.id)
    while counted.phase != Phase.VOTING:
        budgets.advance_phase(admin, counted)
    budgets.cast_ballot(citizen, counted, projects[:1] + projects[2:])
    budgets.cast_ballot(world.target, counted, projects[1:])
    while counted.phase != Phase.RESULT:
        budgets.advance_phase(admin, counted)
    db.session.commit()
    world.ids["process_id"] = [world.ids["process_id"][1], counted.id, world.ids["process_id"][0]]


@pytest.fixture(scope="module")
def world_server(tmp_path_factory) -> Iterator[tuple[LiveServer, object]]:
    from werkzeug.serving import make_server

    from app import create_app
    from forum.extensions import db
    from search.indexer import Indexer, stop_thread

    tmp = tmp_path_factory.mktemp("overflow")
    app = create_app(_live_config(tmp / "overflow.sqlite3", tmp))
    with app.app_context():
        db.create_all()
        world = _seed_world()
        stop_thread(timeout=5)  # another module's app may have left the indexer running
        indexer = Indexer(app)
        indexer.run_once()  # search shows real hits
        indexer.close()
        emails = {role: user.email for role, user in world.users.items()}
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="overflow-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, emails=emails), world
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def role_pages(world_server) -> Iterator[dict]:
    """A 390×844 page per role, logged in once; a Playwright instance of this module's own."""
    from playwright.sync_api import sync_playwright

    live, _world = world_server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        pages = {}
        try:
            for role in ROLES:
                context = browser.new_context(locale="da-DK", viewport=VIEWPORT)
                context.set_default_timeout(15_000)
                page = context.new_page()
                if role != "anonymous":
                    login(page, live, live.emails[role])
                pages[role] = page
            yield pages
        finally:
            browser.close()


# --- the URLs ------------------------------------------------------------------------------


def _rules():
    from app import create_app
    from tests.conftest import _config

    app = create_app(_config("sqlite://", Path("/tmp"), SEARCH_INDEX_DIR="/tmp/overflow-rules"))
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint.split(".")[0] in BLUEPRINTS and "GET" in r.methods
    ]
    return sorted(rules, key=lambda r: (r.endpoint, r.rule))


RULES = _rules()


def _urls(rule, world) -> list[str]:
    from tests.forum.test_no_server_errors import _valid_urls

    return _valid_urls(None, rule, world)


def test_every_get_rule_is_checked_or_named_as_not_a_page():
    """A new GET page is checked by the sweep below unless it is listed in NOT_PAGES."""
    endpoints = {r.endpoint for r in RULES}
    assert set(NOT_PAGES) <= endpoints, set(NOT_PAGES) - endpoints


@pytest.mark.parametrize("rule", RULES, ids=[f"{r.endpoint}:{r.rule}" for r in RULES])
def test_page_fits_a_phone(world_server, role_pages, rule):
    if rule.endpoint in NOT_PAGES:
        pytest.skip(f"not a page: {NOT_PAGES[rule.endpoint]}")
    live, world = world_server
    urls = _urls(rule, world)
    assert urls, f"no values for {rule.rule}: add them to the seeded world"
    problems, shown = [], 0
    for role, page in role_pages.items():
        for url in urls:
            response = page.goto(live.url(url))
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            if response.url.split("?")[0] != live.url(url).split("?")[0]:
                continue  # redirected (to the login page, say): that page has a rule of its own
            shown += 1
            m = page.evaluate(WIDEST_JS)
            if m["scrollWidth"] > m["innerWidth"]:
                problems.append(
                    f"{url} as {role} ({response.status}): {m['scrollWidth']} px wide, "
                    f"widest: {m['widest']}"
                )
    assert shown, f"{rule.rule} showed no HTML page to anyone"
    assert not problems, "scrolls sideways at 390 px:\n" + "\n".join(problems)
