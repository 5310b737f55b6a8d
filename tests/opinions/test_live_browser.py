"""An open opinion map updates itself in headless Chromium when the map is recomputed: a real
server (tests/live/server.py) recomputes in its periodic thread after new votes, pushes
``opinion_map_updated`` to the round's room, and the page fetches the map's fragment — no
reload. Skipped without Chromium or playwright, except under CI."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.conftest import CHROMIUM_ARGS, _chromium_path, browser_unavailable
from tests.live.conftest import start_server, world  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(browser_unavailable() is not None, reason=str(browser_unavailable())),
]


def _app(world):  # noqa: F811
    from app import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "live-test",
            "SQLALCHEMY_DATABASE_URI": world.db_url,
            "SEARCH_INDEX_DIR": world.db_url.removeprefix("sqlite:///") + "-ix",
            "MODERATION_ENABLED": False,
        }
    )


def _votes(app, round_id: int, people: range) -> None:
    from forum.extensions import db
    from forum.models import utcnow
    from opinions import services
    from opinions.models import OpinionRound, OpinionStatement

    with app.app_context():
        rnd = db.session.get(OpinionRound, round_id)
        sts = db.session.query(OpinionStatement).filter_by(round_id=rnd.id).all()
        t = utcnow() - timedelta(minutes=1)
        for i in people:
            p = services.participant_for(rnd, anon_key=f"anon-{i}")
            for j, st in enumerate(sts):
                agree = (j < 4) == (i % 2 == 0) or j == 7
                services.cast_vote(rnd, p, st.id, "agree" if agree else "disagree", t)
        db.session.commit()
        db.session.remove()


def test_open_map_page_updates_when_the_map_is_recomputed(start_server, world):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from forum.extensions import db
    from forum.models import Topic, User, utcnow
    from opinions import services

    app = _app(world)
    with app.app_context():
        admin = db.session.get(User, world.ids["admin"])
        topic = db.session.get(Topic, world.ids["topic"])
        rnd = services.open_round(
            admin, topic, "Hvor skal cykelstien gå?", utcnow() + timedelta(days=7), True,
            [f"Udsagn om cykelstien nummer {i}" for i in range(8)],
        )  # fmt: skip
        db.session.commit()
        round_id = rnd.id
        db.session.remove()
    _votes(app, round_id, range(12))
    with app.app_context():
        from opinions.models import OpinionRound

        services.recompute(db.session.get(OpinionRound, round_id))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    server = start_server(
        OPINIONS_DEBOUNCE_SECONDS=0, OPINIONS_INTERVAL_SECONDS=0.5, SEARCH_WORKER="external"
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="da-DK")
            context.set_default_timeout(20_000)
            page = context.new_page()
            page.goto(server.url + f"/holdninger/{round_id}/kort")
            box = page.locator("[data-opinion-map-live]")
            assert "12 deltagere" in box.inner_text()
            page.wait_for_function("() => window.borgerdialogLiveClient.state.joined")
            page.evaluate("() => { window.__notReloaded = true; }")
            _votes(app, round_id, range(12, 20))  # eight more people vote
            page.wait_for_function(
                "() => document.querySelector('[data-opinion-map-live]')"
                ".textContent.includes('20 deltagere')"
            )
            assert page.evaluate("() => window.__notReloaded === true")
            assert "Udsagn om cykelstien" in box.inner_text()
            announced = page.locator("#live-announcer").inner_text()
            assert announced == "Holdningskortet er opdateret med nye stemmer."
        finally:
            browser.close()
        with app.app_context():
            db.engine.dispose()
