"""Opinion map pages in headless Chromium: axe-core (WCAG 2.1 A/AA) on the round page, the
map (with the signed-in participant's own position) and the form for a new round.

Marked ``e2e`` (the default run deselects them); skipped without Chromium, playwright or
axe-core. Run: ``pytest -m e2e tests/opinions``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

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

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(browser_unavailable() is not None, reason=str(browser_unavailable())),
]


def _seed() -> dict[str, int]:
    from forum import services as fs
    from forum.extensions import db
    from forum.models import Committee, Role, utcnow
    from opinions import services
    from opinions.models import OpinionStatement

    committee = Committee(slug="plan", name="Plan- og Boligudvalget")
    db.session.add(committee)
    db.session.flush()
    admin = fs.register_user("admin@example.dk", "Ada Admin", PASSWORD)
    fs.set_role(admin, Role.ADMIN)
    admin.email_verified_at = utcnow()
    topic = fs.create_topic(admin, "Havnen", "Hvad skal havnen bruges til?", committee.id)
    rnd = services.open_round(
        admin, topic, "Hvad skal havnen bruges til?", utcnow() + timedelta(days=7), True,
        [f"Udsagn om havnen nummer {i}" for i in range(8)],
    )  # fmt: skip
    sts = db.session.query(OpinionStatement).filter_by(round_id=rnd.id).all()
    t = utcnow() - timedelta(hours=1)
    voters = [services.participant_for(rnd, anon_key=f"a{i}") for i in range(14)]
    voters.append(services.participant_for(rnd, user=admin))
    for i, p in enumerate(voters):
        for j, st in enumerate(sts):
            agree = (j < 4) == (i % 2 == 0) or j == 7
            services.cast_vote(rnd, p, st.id, "agree" if agree else "disagree", t)
    services.recompute(rnd)
    db.session.commit()
    return {"round": rnd.id, "topic": topic.id}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, dict]]:
    from werkzeug.serving import make_server

    from app import create_app
    from forum.extensions import db

    tmp = tmp_path_factory.mktemp("opinions-e2e")
    app = create_app(_live_config(tmp / "opinions.sqlite3", tmp))
    with app.app_context():
        db.create_all()
        ids = _seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", ids
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


class _Server:
    def __init__(self, base: str) -> None:
        self.base = base

    def url(self, path: str) -> str:
        return self.base + path


def test_pages_pass_axe(site) -> None:
    from playwright.sync_api import sync_playwright

    base, ids = site
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="da-DK")
            context.set_default_timeout(10_000)
            page = context.new_page()
            for path in (f"/holdninger/{ids['round']}", f"/holdninger/{ids['round']}/kort"):
                page.goto(base + path)
                violations = axe_check(page)
                assert not violations, format_violations(violations, page.url)
            login(page, _Server(base), "admin@example.dk")
            for path in (
                f"/holdninger/{ids['round']}/kort",
                f"/emner/{ids['topic']}/holdninger/ny",
                f"/emner/{ids['topic']}",
            ):
                page.goto(base + path)
                violations = axe_check(page)
                assert not violations, format_violations(violations, page.url)
            page.goto(base + f"/holdninger/{ids['round']}/kort")
            assert page.locator("circle.own").count() == 1
        finally:
            browser.close()
