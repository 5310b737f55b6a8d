"""The live queue in headless Chromium against a real server process: an item arrives and is
decided by someone else while a moderator has /moderation open.

Uses the live tests' server fixtures (tests/live/conftest.py) on a world of its own, with
moderation on. Skipped with the reason without Chromium or playwright, except under CI.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.live.conftest import (  # noqa: F401  (fixtures)
    PASSWORD,
    World,
    http_login,
    start_server,
)
from tests.live.test_browser import browser, logged_in_page, wait_joined  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    from app import create_app
    from forum import services
    from forum.extensions import db
    from forum.models import Area, Committee, Role
    from moderation import services as moderation_services

    db_url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "live-test",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
            "MODERATION_ENABLED": True,
            "MAIL_REQUIRE_VERIFICATION": False,
        }
    )
    w = World(db_url=db_url, channel=f"borgerdialog-test-{uuid.uuid4().hex[:12]}")
    with app.app_context():
        db.create_all()
        moderation_services.ensure_default_rules()
        committee = Committee(slug="klima", name="Udvalget for Klima og Miljø")
        area = Area(slug="toelloese", name="Tølløse")
        db.session.add_all([committee, area])
        db.session.flush()
        people = {}
        for key, role in (
            ("admin", Role.ADMIN),
            ("moderator", Role.MODERATOR),
            ("local", Role.MODERATOR),
            ("citizen", Role.CITIZEN),
        ):
            email = f"{key}@example.dk"
            people[key] = services.register_user(email, f"Person {key}", PASSWORD)
            services.set_role(people[key], role, None, None, [area] if key == "local" else None)
            w.emails[key] = email
        topic = services.create_topic(
            people["admin"],
            "Cykelsti til Tølløse",
            "Skal der være en cykelsti?",
            committee_id=committee.id,
            area_id=area.id,
        )
        db.session.commit()
        w.ids = {"topic": topic.id, "area": area.id, **{k: u.id for k, u in people.items()}}
        db.session.remove()
        db.engine.dispose()
    yield w


def test_the_queue_follows_arrivals_and_others_decisions(  # noqa: F811
    browser,  # noqa: F811
    start_server,  # noqa: F811
    world,  # noqa: F811
    http_login,  # noqa: F811
):
    server = start_server("threading", MODERATION_ENABLED=True)
    ctx, page = logged_in_page(browser, server.url, world.emails["moderator"])
    try:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/moderation")
        wait_joined(page)
        assert page.locator("[data-queue-empty]").is_visible()
        assert page.get_attribute("[data-moderation-waiting]", "data-moderation-waiting") == "0"

        # A new citizen writes: the post is held, and the open queue shows it without reload.
        citizen = http_login(server.url, world.emails["citizen"])
        r = citizen.post(
            f"{server.url}/emner/{world.ids['topic']}/indlaeg",
            data={"body": "Et indlæg, der venter på en moderator"},
            timeout=10,
        )
        assert r.status_code in (200, 302), r.text[:300]
        page.wait_for_selector("li.queue-item", timeout=15_000)
        item_id = int(page.get_attribute("li.queue-item", "data-item-id"))
        assert "venter på en moderator" in page.inner_text(f"#item-{item_id}")
        page.wait_for_function(
            "() => document.querySelector('[data-moderation-waiting] .badge')?.textContent === '1'"
        )
        assert page.locator("[data-queue-empty]").is_hidden()
        assert page.locator("[data-queue-bulk]").is_visible()
        page.wait_for_function(
            "() => document.querySelector('[data-queue-announcer]').textContent.length > 0"
        )

        # The area's own moderator rejects it elsewhere: it leaves the list, the count drops.
        local = http_login(server.url, world.emails["local"])
        rules = local.get(f"{server.url}/moderation/items/{item_id}", timeout=10).text
        rule_id = rules.split('<option value="')[2].split('"')[0]  # the first real rule
        r = local.post(
            f"{server.url}/moderation/items/{item_id}/decide",
            data={"action": "reject", "rule_id": rule_id, "text": "Ikke relevant"},
            allow_redirects=False,
            timeout=10,
        )
        assert r.status_code == 302, r.text[:500]
        page.wait_for_selector(f"#item-{item_id}", state="detached", timeout=15_000)
        page.wait_for_function("() => !document.querySelector('[data-moderation-waiting] .badge')")
        assert page.locator("[data-queue-empty]").is_visible()
        page.wait_for_function(
            f"() => document.querySelector('[data-queue-announcer]').textContent"
            f".includes('#{item_id}')"
        )
        # Nothing was reloaded and nothing went wrong.
        assert page.url.endswith("/moderation") and errors == []
    finally:
        ctx.close()


def test_moderation_counts_need_a_moderator(start_server, world, http_login):  # noqa: F811
    server = start_server("threading", MODERATION_ENABLED=True)
    citizen = http_login(server.url, world.emails["citizen"])
    assert citizen.get(f"{server.url}/moderation/items/1/row", timeout=10).status_code == 403
    assert (
        requests.get(
            f"{server.url}/moderation/items/1/row", timeout=10, allow_redirects=False
        ).status_code
        == 403
    )
