"""Browser tests: a live server on its own database, headless Chromium, axe-core.

Every test in this directory gets the ``e2e`` marker. Without Chromium (or the playwright
package) they are skipped with a reason, except under CI (``CI=true``), where they fail:
nothing core is skipped in CI.

The live server is independent of ``tests/conftest.py``'s function-scoped ``app`` fixture:
it builds its own app on its own SQLite file, seeds it once through ``forum.services`` and
serves it from a werkzeug server thread on 127.0.0.1 for the whole session.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
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
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "correct-horse-battery"
# Generous limits: the suite logs the same accounts in many times within a minute.
UNLIMITED = "100000 per minute"


# --- marker and skip rule --------------------------------------------------------------


def _chromium_path() -> str | None:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if _chromium_path() is None:
        return "Chromium not installed: apt-get install -y chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright not installed: pip install -e '.[test]' (never `playwright install`)"
    if not AXE_JS.exists():
        return "axe-core not installed: npm ci (node_modules/axe-core/axe.min.js is missing)"
    return None


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items) -> None:
    # A sub-directory conftest sees every collected item: touch only ours.
    ours = [item for item in items if HERE in Path(item.path).resolve().parents]
    reason = browser_unavailable()
    for item in ours:
        item.add_marker(pytest.mark.e2e)
        if reason and not _in_ci():
            item.add_marker(pytest.mark.skip(reason=reason))


# --- the live server ---------------------------------------------------------------------


@dataclass
class LiveServer:
    base_url: str
    app: object
    password: str = PASSWORD
    emails: dict[str, str] = field(default_factory=dict)  # role -> e-mail
    ids: dict[str, int | str] = field(default_factory=dict)  # names of seeded rows -> id/slug

    def url(self, path: str) -> str:
        return self.base_url + path


def _compile_translations(target: Path) -> Path:
    """Compile translations/*/LC_MESSAGES/messages.po into ``target`` (what ./dev.sh does),
    so Danish pages are Danish even when nobody ran pybabel in this checkout."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        out = target / po.relative_to(ROOT / "translations").with_suffix(".mo")
        out.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as src:
            catalog = read_po(src, locale=po.parts[-3])
        with out.open("wb") as dst:
            write_mo(dst, catalog)
    return target


def _live_config(db_path: Path, tmp: Path) -> dict:
    """tests/conftest.py's test configuration, with CSRF on (the browser sends real forms),
    its own SQLite file and the moderation policy on, as in production."""
    from tests.conftest import _config

    return _config(
        f"sqlite:///{db_path}",
        tmp,
        SECRET_KEY="e2e-secret",
        WTF_CSRF_ENABLED=True,
        MODERATION_ENABLED=True,
        # The limiter object is shared by every app in the process; should another test's
        # app switch it on, these per-app limits still never bite the live server.
        RATELIMIT_ENABLED=False,
        RATELIMIT_LOGIN_IP=UNLIMITED,
        RATELIMIT_LOGIN_ACCOUNT=UNLIMITED,
        RATELIMIT_REGISTER=UNLIMITED,
        RATELIMIT_POST=UNLIMITED,
        BABEL_TRANSLATION_DIRECTORIES=str(_compile_translations(tmp / "translations")),
        INSTANCE_PATH=str(tmp / "instance"),  # uploads (the site's logo) stay out of the repo
    )


def _seed() -> tuple[dict[str, str], dict[str, int | str]]:
    """A small, complete dataset: every template has something to show."""
    from forum import services
    from forum.extensions import db
    from forum.models import Area, Committee, Role, Stance, TopicStatus, utcnow

    committee = Committee(
        slug="teknik-og-miljoe",
        name="Teknik- og Miljøudvalget",
        description="Veje, natur, affald og klima.",
    )
    tolloese = Area(slug="toelloese", name="Tølløse", description="Stationsby vest for Holbæk.")
    jyderup = Area(slug="jyderup", name="Jyderup")
    db.session.add_all([committee, tolloese, jyderup])
    db.session.flush()

    emails = {
        "citizen": "borger@example.dk",
        "citizen2": "nabo@example.dk",
        "politician": "politiker@example.dk",
        "moderator": "moderator@example.dk",
        "admin": "admin@example.dk",
    }
    citizen = services.register_user(emails["citizen"], "Karen Borger", PASSWORD)
    neighbour = services.register_user(emails["citizen2"], "Jens Nabo", PASSWORD)
    politician = services.register_user(emails["politician"], "Mette Politiker", PASSWORD)
    services.set_role(politician, Role.POLITICIAN, "Venstre", committees=[committee])
    moderator = services.register_user(emails["moderator"], "Ole Moderator", PASSWORD)
    services.set_role(moderator, Role.MODERATOR, areas=[tolloese])
    admin = services.register_user(emails["admin"], "Anne Admin", PASSWORD)
    services.set_role(admin, Role.ADMIN)

    topic = services.create_topic(
        politician,
        "Skolevej i Tølløse",
        "Skal der være **cykelsti** langs skolevejen?\n\n- tryghed\n- pris\n- natur",
        committee_id=committee.id,
        area_id=tolloese.id,
    )
    deadline_topic = services.create_topic(
        politician,
        "Høring: affaldssortering",
        "Kommunen foreslår ti fraktioner. Hvad mener du?",
        committee_id=committee.id,
        deadline=utcnow() + timedelta(days=14),
    )

    def post(author, body, parent=None, stance=None):
        return services.create_post(
            author, topic, body, parent_id=parent.id if parent else None, stance=stance
        )

    p1 = post(citizen, "Ja tak, børnene cykler på kørebanen i dag.", stance=Stance.FOR)
    p2 = post(politician, "Vi ser på det i udvalget. Hvor er det **værst**?", parent=p1)
    p3 = post(citizen, "Ved svinget efter stationen.", parent=p2)
    p4 = post(neighbour, "> Ved svinget\n\nEnig, der er ingen fortov.", parent=p3)
    p5 = post(moderator, "Husk at holde en god tone.", parent=p4)
    p6 = post(citizen, "Selvfølgelig.", parent=p5)  # deeper than the display depth
    p7 = post(neighbour, "Det bliver for dyrt.", stance=Stance.AGAINST)
    post(citizen, "Hvad koster det?", parent=p7)
    p9 = post(neighbour, "Hvornår besluttes det?", stance=Stance.QUESTION)
    post(politician, "På mødet i marts.", parent=p9)
    services.edit_post(neighbour, p7, "Det bliver for dyrt i forhold til gevinsten.")
    gone = post(neighbour, "Forkert tråd, beklager.")
    post(citizen, "Intet problem.", parent=gone)
    services.delete_post(neighbour, gone)
    services.toggle_support(citizen, p2)
    services.toggle_support(neighbour, p2)

    # A closed topic: the form gives way to a notice.
    closed = services.create_topic(
        politician,
        "Parkering ved Jyderup station",
        "Skal der være flere p-pladser?",
        committee_id=committee.id,
        area_id=jyderup.id,
    )
    services.create_post(neighbour, closed, "Ja, om morgenen er alt optaget.", stance=Stance.FOR)
    services.set_topic_status(politician, closed, TopicStatus.CLOSED)
    # The closed topic's outcome: two dated updates, the latest citing the post.
    from datetime import date

    from sqlalchemy import select

    from forum.models import Post
    from outcomes import services as outcome_services

    cited = db.session.scalar(
        select(Post.id).where(Post.topic_id == closed.id).order_by(Post.id).limit(1)
    )
    outcome_services.add_update(
        politician,
        closed,
        status="in_progress",
        body="administration",
        text="Forvaltningen tæller p-pladserne om morgenen.",
        decided_on=date(2026, 10, 1),
    )
    outcome_services.add_update(
        politician,
        closed,
        status="decided",
        body="committee",
        text="Udvalget har besluttet **20 nye** p-pladser.",
        decided_on=date(2026, 11, 3),
        link="https://www.holbaek.dk/politik/referat",
        citations=f"{cited}: Pladsmangel om morgenen",
    )

    # A citizen's proposal, accepted by the area's moderator: another notification kind.
    proposal = services.create_topic(
        citizen, "Bænke ved søen", "Der mangler bænke ved Tølløse sø.", area_id=tolloese.id
    )
    services.decide_topic_proposal(moderator, proposal, accept=True)
    # And one still waiting, for the moderator's list of proposals.
    services.create_topic(
        neighbour, "Legeplads ved skolen", "Den gamle legeplads er slidt.", area_id=tolloese.id
    )
    db.session.commit()

    ids = {
        "committee_slug": committee.slug,
        "area_slug": tolloese.slug,
        "topic": topic.id,
        "deadline_topic": deadline_topic.id,
        "closed_topic": closed.id,
        "root_post": p1.id,
        "politician_reply": p2.id,
        "deep_post": p6.id,
        "edited_post": p7.id,
        "citizen_post": p3.id,
        "citizen": citizen.id,
        "politician": politician.id,
        "committee_id": committee.id,
        "area_id": tolloese.id,
    }
    from admin import services as admin_services

    _invitation, token = admin_services.create_invitation(
        admin, "inviteret@example.dk", "politician"
    )
    db.session.commit()
    ids["invitation_token"] = token
    from reports import services as report_services

    report = report_services.create_definition(
        admin, title="Erfaringsrapport", scope="committee", committee_id=committee.id
    )
    db.session.commit()
    ids["report"] = report.id

    # An opinion round, a citizens' meeting with registration and an area's invitation to
    # a meeting (the meetings and opinions pages), a staff's API key and the open-data file.
    from meetings import invitations as meeting_invitations
    from meetings import services as meeting_services
    from opinions import services as opinion_services

    opinion_round = opinion_services.open_round(
        admin,
        topic,
        "Cykelsti langs skolevejen?",
        utcnow() + timedelta(days=7),
        True,
        ["Ja tak, det er for farligt i dag", "Nej, pengene skal bruges på fortov"],
    )
    now = utcnow()
    meeting = meeting_services.create_meeting(
        admin,
        {
            "kind": "citizens",
            "title": "Borgermøde om skolevejen i Tølløse",
            "starts_at": now + timedelta(days=5),
            "ends_at": now + timedelta(days=5, hours=2),
            "committee_id": committee.id,
            "area_id": tolloese.id,
            "topic_id": topic.id,
            "registration": True,
            "capacity": 40,
        },
    )
    meeting_services.register(citizen, meeting.id, "")
    invitation = meeting_invitations.invite(
        admin, tolloese.id, subject="Dialog om torvet", committee_id=committee.id
    )
    from api import dump, keys

    keys.create_key(admin, "Sagssystemet", "read")
    db.session.commit()
    dump.write_dump()
    ids.update(round=opinion_round.id, meeting=meeting.id, meeting_invitation=invitation.id)
    return emails, ids


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    from app import create_app
    from forum.extensions import db

    tmp = tmp_path_factory.mktemp("e2e")
    app = create_app(_live_config(tmp / "e2e.sqlite3", tmp))
    with app.app_context():
        db.create_all()
        # Seed with the moderation policy off for a moment (new accounts' posts would be
        # held); the server then runs with it on.
        app.config["MODERATION_ENABLED"] = False
        emails, ids = _seed()
        app.config["MODERATION_ENABLED"] = True
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(
            base_url=f"http://127.0.0.1:{server.server_port}", app=app, emails=emails, ids=ids
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- the browser ------------------------------------------------------------------------


# Module scope: other test packages start Playwright's sync API themselves, which fails
# while another instance is still running ("Sync API inside the asyncio loop").
@pytest.fixture(scope="module")
def browser():
    reason = browser_unavailable()
    if reason:
        # Only reached under CI=true (elsewhere the tests were marked skip at collection).
        pytest.fail(f"{reason} (CI=true: browser tests must run, not skip)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="da-DK")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def auth_cookies(browser, live_server):
    """``auth_cookies(role)``: the cookies of a session logged in through the real form.

    Each role logs in once per run (in a context of its own); tests add the cookies to
    their fresh context instead of filling the login form again, which keeps the module
    fast. The dataset is never changed in ways that end these sessions.
    """
    cache: dict[str, list] = {}

    def get(role: str) -> list:
        if role not in cache:
            context = browser.new_context(locale="da-DK")
            try:
                login(context.new_page(), live_server, live_server.emails[role])
                cache[role] = context.cookies()
            finally:
                context.close()
        return cache[role]

    return get


# --- helpers ------------------------------------------------------------------------------


def login(page, live_server: LiveServer, email: str, password: str = PASSWORD) -> None:
    """Log in through the real form (CSRF token and all) and wait for the redirect."""
    page.goto(live_server.url("/login"))
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    if page.url.rstrip("/").endswith("/login"):
        raise AssertionError(f"login as {email} failed; page says: {page.inner_text('main')}")


def inject_axe(page) -> None:
    """Load axe-core into the page. Not as a <script> tag (``add_script_tag``): the pages'
    Content-Security-Policy (script-src 'self') blocks inline scripts, and a test must not
    weaken the policy it checks. An evaluation through the DevTools protocol is not a script
    of the page, so the policy does not apply to it."""
    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")


def axe_check(page) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page; returns the violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        inject_axe(page)
    return page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: tags},
                resultTypes: ['violations'],  // skip details of passes: faster
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({
                    target: n.target, html: n.html, summary: n.failureSummary,
                })),
            }));
        }""",
        WCAG_TAGS,
    )


def format_violations(violations: list[dict], url: str = "", max_nodes: int = 3) -> str:
    lines = [f"{len(violations)} axe violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} ({len(v['nodes'])} node(s))")
        for n in v["nodes"][:max_nodes]:
            lines.append(f"    target: {', '.join(map(str, n['target']))}")
            lines.append(f"    html:   {n['html'][:200]}")
            if n.get("summary"):
                summary = " ".join(n["summary"].split())
                lines.append(f"    why:    {summary[:300]}")
    return "\n".join(lines)


def assert_no_axe_violations(page) -> None:
    violations = axe_check(page)
    assert not violations, format_violations(violations, page.url)
