"""Citizen-budget pages in headless Chromium: axe-core (WCAG 2.1 A/AA) on every page and error
state, the running total while choosing (mouse and keyboard), and a phone-sized screen.

Marked ``e2e`` (the default run deselects them); skipped without Chromium, playwright or
axe-core, as the browser tests in tests/e2e are. Run: ``pytest -m e2e tests/budgets``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.e2e.conftest import (
    CHROMIUM_ARGS,
    PASSWORD,
    _chromium_path,
    _live_config,
    axe_check,
    browser_unavailable,
    format_violations,
    login,
)

from .conftest import DATA

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(browser_unavailable() is not None, reason=str(browser_unavailable())),
]


@dataclass
class Site:
    base_url: str
    ids: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path


def _seed() -> dict[str, int]:
    from budgets import services
    from budgets.elections import import_election
    from budgets.models import BallotStyle, Phase
    from budgets.pabulib import load
    from forum import services as forum_services
    from forum.extensions import db
    from forum.models import Area, Role, utcnow

    north = Area(slug="toelloese", name="Tølløse")
    south = Area(slug="jyderup", name="Jyderup")
    db.session.add_all([north, south])
    db.session.flush()
    admin = forum_services.register_user("admin@example.dk", "Ada Admin", PASSWORD)
    forum_services.set_role(admin, Role.ADMIN)
    citizen = forum_services.register_user("borger@example.dk", "Karen Borger", PASSWORD)
    for user in (admin, citizen):
        user.email_verified_at = utcnow()

    def moved(process, phase):
        while process.phase != phase:
            services.advance_phase(admin, process)

    voting = services.create_process(
        admin,
        title="Borgerbudget 2027",
        description="Hvad skal **pengene** bruges til?",
        total_amount=1_000_000,
        rule="equalshares/add1",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    moved(voting, Phase.IDEAS)
    ideas = []
    for title, cost, area in (
        ("Legeplads i Tølløse", 400_000, north),
        ("Bænke ved søen", 300_000, north),
        ("Shelter i skoven", 500_000, south),
        ("Cykelstativer ved stationen", 60_000, south),
    ):
        idea = services.propose_idea(admin, voting, title, f"Om {title}.", cost, area.id)
        services.review_idea(admin, idea, True, "Kan lade sig gøre.")
        ideas.append(idea)
    moved(voting, Phase.VOTING)

    collecting = services.create_process(
        admin, title="Idéer til Jyderup", total_amount=200_000, area_id=south.id
    )
    moved(collecting, Phase.IDEAS)
    held = services.propose_idea(citizen, collecting, "Hundeskov", "En hundeskov.", 50_000)

    imported = import_election(load(DATA / "Netherlands_Assen_2024.pb"))
    services.count_process(None, imported)
    db.session.commit()
    return {
        "voting": voting.id,
        "idea": ideas[0].id,
        "ideas": collecting.id,
        "held": held.id,
        "imported": imported.id,
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    from werkzeug.serving import make_server

    from app import create_app
    from forum.extensions import db

    tmp = tmp_path_factory.mktemp("budgets-e2e")
    app = create_app(_live_config(tmp / "budgets.sqlite3", tmp))
    with app.app_context():
        db.create_all()
        ids = _seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", ids)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def cookies(browser, site) -> dict[str, list]:
    out = {}
    for email in ("admin@example.dk", "borger@example.dk"):
        context = browser.new_context(locale="da-DK")
        try:
            login(context.new_page(), site, email)  # type: ignore[arg-type]
            out[email] = context.cookies()
        finally:
            context.close()
    return out


@pytest.fixture
def page_as(browser, cookies):
    contexts = []

    def open_page(email: str | None = None, **options):
        context = browser.new_context(locale="da-DK", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        if email:
            context.add_cookies(cookies[email])
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _assert_accessible(page, status: int | None = 200) -> None:
    if status is not None:
        assert page.locator("h1").count() == 1, page.url
    violations = axe_check(page)
    assert not violations, format_violations(violations, page.url)


PAGES = [
    ("index", None, lambda ids: "/borgerbudget/"),
    ("process", None, lambda ids: f"/borgerbudget/{ids['voting']}"),
    ("process-staff", "admin@example.dk", lambda ids: f"/borgerbudget/{ids['voting']}"),
    ("idea", None, lambda ids: f"/borgerbudget/ideer/{ids['idea']}"),
    ("idea-held-staff", "admin@example.dk", lambda ids: f"/borgerbudget/ideer/{ids['held']}"),
    ("ballot-anonymous", None, lambda ids: f"/borgerbudget/{ids['voting']}/stemmeseddel"),
    ("ballot", "borger@example.dk", lambda ids: f"/borgerbudget/{ids['voting']}/stemmeseddel"),
    ("new-idea", "borger@example.dk", lambda ids: f"/borgerbudget/{ids['ideas']}/ideer/ny"),
    ("new-process", "admin@example.dk", lambda ids: "/borgerbudget/ny"),
    ("edit-process", "admin@example.dk", lambda ids: f"/borgerbudget/{ids['voting']}/rediger"),
    ("review", "admin@example.dk", lambda ids: f"/borgerbudget/{ids['ideas']}/behandling"),
    ("result", None, lambda ids: f"/borgerbudget/{ids['imported']}/resultat"),
]


@pytest.mark.parametrize(("name", "user", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_pages_pass_axe(site, page_as, name, user, path) -> None:
    page = page_as(user)
    response = page.goto(site.url(path(site.ids)))
    assert response.status == 200
    _assert_accessible(page)


def test_error_states_pass_axe(site, page_as) -> None:
    page = page_as("admin@example.dk")
    page.goto(site.url("/borgerbudget/ny"))
    page.fill("#title", "Kort")
    with page.expect_navigation():
        page.click("main form button[type=submit].btn")
    assert page.locator(".error-summary").count() == 1
    _assert_accessible(page)

    page = page_as("borger@example.dk")
    page.goto(site.url(f"/borgerbudget/{site.ids['ideas']}/ideer/ny"))
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.locator("[aria-invalid=true]").count() >= 1
    _assert_accessible(page)


def test_running_total_follows_mouse_and_keyboard_and_errors_are_announced(site, page_as) -> None:
    page = page_as("borger@example.dk")
    page.goto(site.url(f"/borgerbudget/{site.ids['voting']}/stemmeseddel"))
    total = page.locator("[data-running-total]")
    assert page.locator("button[data-no-js-only]").is_hidden()
    boxes = page.locator("input[name=idea]")
    boxes.nth(0).check()  # Bænke ved søen, 300,000 (projects are listed by title)
    assert "300.000" in total.inner_text()
    boxes.nth(1).focus()
    page.keyboard.press("Space")  # Cykelstativer, 60,000
    assert "360.000" in total.inner_text() and "640.000" in total.inner_text()
    boxes.nth(2).check()  # Legeplads, 400,000
    boxes.nth(3).check()  # Shelter, 500,000: 1,260,000 in all
    assert "260.000" in total.inner_text() and "over" in total.get_attribute("class")
    # Sent anyway: refused by the server, the choices kept, the error announced and linked.
    with page.expect_navigation():
        page.click("main form button[type=submit].btn")
    assert page.locator(".error-summary[role=alert] a[href='#projects']").count() == 1
    assert page.locator("input[name=idea]:checked").count() == 4
    _assert_accessible(page)
    boxes = page.locator("input[name=idea]")
    boxes.nth(3).uncheck()
    with page.expect_navigation():
        page.click("main form button[type=submit].btn")
    assert page.url.endswith("/kvittering")
    assert page.locator(".receipt-code").inner_text().count("-") == 1
    _assert_accessible(page)


def test_the_ballot_fits_a_phone(site, page_as) -> None:
    page = page_as(
        "borger@example.dk", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page.goto(site.url(f"/borgerbudget/{site.ids['voting']}/stemmeseddel"))
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    before = page.locator("[data-running-total]").inner_text()
    page.locator("input[name=idea]").nth(0).tap()
    assert page.locator("[data-running-total]").inner_text() != before
    for path in (
        f"/borgerbudget/{site.ids['imported']}/resultat",
        f"/borgerbudget/{site.ids['voting']}",
    ):
        page.goto(site.url(path))
        assert (
            page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            <= 0
        ), path
