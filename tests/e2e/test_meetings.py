"""A meeting's page and registration in the browser, without JavaScript help, with axe-core
(WCAG 2.1 A/AA) on the meeting page before and after registering and on the planning form."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import assert_no_axe_violations


@pytest.fixture(scope="module")
def meeting_id(live_server) -> int:
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import User, utcnow
    from meetings import services

    with live_server.app.app_context():
        admin = db.session.scalar(select(User).where(User.email == live_server.emails["admin"]))
        starts = (utcnow() + timedelta(days=9)).replace(second=0, microsecond=0)
        m = services.create_meeting(
            admin,
            {
                "kind": "citizens",
                "title": "Borgermøde om skolevejen",
                "description": "Kom og sig din **mening**.",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "address": "Tølløse Hallen",
                "step_free": True,
                "hearing_loop": True,
                "registration": True,
                "capacity": 30,
            },
        )
        db.session.commit()
        meeting_id = m.id
        db.session.remove()
    return meeting_id


def test_meeting_page_and_registration_are_accessible(page, live_server, auth_cookies, meeting_id):
    page.context.add_cookies(auth_cookies("citizen2"))
    page.goto(live_server.url(f"/moeder/{meeting_id}"))
    assert page.locator("h1").inner_text() == "Borgermøde om skolevejen"
    assert_no_axe_violations(page)
    page.fill("#question", "Glutenfri kage, tak")
    with page.expect_navigation():
        page.click("form[action$='/tilmeld'] button[type=submit]")
    # In the reader's language: another browser test may have set this account to English.
    main = page.inner_text("main")
    assert "Du er tilmeldt" in main or "You are registered" in main
    assert "Du har en plads." in main or "You have a seat." in main
    assert_no_axe_violations(page)


def test_planning_form_is_accessible(page, live_server, auth_cookies):
    page.context.add_cookies(auth_cookies("admin"))
    page.goto(live_server.url("/moeder/ny"))
    assert_no_axe_violations(page)
    page.click("main form button[type=submit]")  # empty: errors beside the fields
    page.wait_for_load_state()
    assert_no_axe_violations(page)
