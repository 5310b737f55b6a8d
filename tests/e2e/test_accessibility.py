"""WCAG 2.1 A/AA checks (axe-core) on every page template and its error states.

Each case opens a page in headless Chromium (logged in when the page needs it), then checks:
no axe violations, exactly one ``<h1>``, and ``<html lang>`` matching the chosen language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from .conftest import LiveServer, assert_no_axe_violations

Action = Callable[["object", LiveServer], int | None]


@dataclass(frozen=True)
class Case:
    id: str
    action: Action  # opens the page; returns the HTTP status of the page shown
    user: str | None = None  # a key of live_server.emails, or None for anonymous
    status: int = 200
    lang: str = "da"
    expect: str | None = None  # a CSS selector the page must show (proves the state)


def goto(path: str | Callable[[LiveServer], str]) -> Action:
    def action(page, live: LiveServer) -> int:
        target = path(live) if callable(path) else path
        response = page.goto(live.url(target))
        return response.status

    return action


def submit(
    path, fill: dict[str, str | bool], button: str = "main form button[type=submit]"
) -> Action:
    """Open ``path``, fill the fields (CSS selector -> value; True ticks a box) and send the
    form."""

    def action(page, live: LiveServer) -> int:
        goto(path)(page, live)
        for selector, value in fill.items():
            if value is True:
                page.check(selector)
            else:
                page.fill(selector, value)
        with page.expect_navigation() as nav:
            page.click(button)
        return nav.value.status

    return action


def switch_to_english(path) -> Action:
    """Open a page in Danish and switch language with the header's form."""

    def action(page, live: LiveServer) -> int:
        goto(path)(page, live)
        assert page.get_attribute("html", "lang") == "da"
        with page.expect_navigation() as nav:
            page.click("header form.lang button[name=lang]")
        return nav.value.status

    return action


def topic(key: str = "topic") -> Callable[[LiveServer], str]:
    return lambda live: f"/emner/{live.ids[key]}"


def paged(key: str, side: int) -> Action:
    """A page of a debate long enough to have pages (one top-level post a page)."""

    def action(page, live: LiveServer) -> int:
        config = live.app.config
        before = config["THREAD_PAGE_ROOTS"]
        config["THREAD_PAGE_ROOTS"] = 1
        try:
            return goto(f"/emner/{live.ids[key]}?side={side}")(page, live)
        finally:
            config["THREAD_PAGE_ROOTS"] = before

    return action


def post(key: str, suffix: str = "") -> Callable[[LiveServer], str]:
    return lambda live: f"/indlaeg/{live.ids[key]}{suffix}"


CASES = [
    # Pages anyone can see.
    Case("home", goto("/"), expect="ul.topic-list"),
    Case("committees", goto("/udvalg"), expect="ul.place-list li"),
    Case("committee", goto(lambda live: f"/udvalg/{live.ids['committee_slug']}")),
    Case("areas", goto("/omraader"), expect="ul.place-list li"),
    Case("area", goto(lambda live: f"/omraader/{live.ids['area_slug']}")),
    Case("topic-anonymous", goto(topic()), expect="ol.thread p.continue"),
    Case("topic-page-2", paged("topic", 2), expect="nav.pager a[aria-current=page]"),
    Case("permalink", goto(post("deep_post")), expect="ol.ancestors"),
    Case("post-history", goto(post("edited_post", "/historik")), expect="article.revision"),
    Case(
        "profile-politician",
        goto(lambda live: f"/profil/{live.ids['politician']}"),
        expect=".badge-politician",
    ),
    Case("login", goto("/login")),
    Case("register", goto("/registrer")),
    Case("not-found", goto("/emner/999999"), status=404),
    # Pages for a logged-in user.
    Case("topic-citizen", goto(topic()), user="citizen", expect="button[aria-pressed=true]"),
    Case("topic-moderator", goto(topic()), user="moderator", expect="select#status"),
    Case("topic-closed", goto(topic("closed_topic")), user="citizen"),
    Case(
        "reply",
        goto(post("politician_reply", "/svar?citer=1")),
        user="citizen",
        expect="blockquote.parent-post",
    ),
    Case("edit-post", goto(post("citizen_post", "/rediger")), user="citizen"),
    Case("delete-post", goto(post("citizen_post", "/slet")), user="citizen"),
    Case(
        "profile-own",
        goto(lambda live: f"/profil/{live.ids['citizen']}"),
        user="citizen",
        expect="ul.contributions li",
    ),
    Case("notifications", goto("/notifikationer"), user="citizen", expect="li.unread"),
    Case("new-topic", goto("/emner/nyt"), user="politician"),
    Case("change-password", goto("/konto/adgangskode"), user="citizen"),
    Case("privacy-policy", goto("/privatliv"), expect="p.address"),
    Case("privacy-my-data", goto("/privatliv/mine-data"), user="citizen", expect="input#mode-0"),
    Case(
        "privacy-delete-empty",
        submit("/privatliv/mine-data", {}, "#delete-h ~ form button[type=submit]"),
        user="citizen",
        status=400,
        expect="#password[aria-invalid=true]",
    ),
    Case("proposals", goto("/forslag"), user="moderator", expect="article.proposal"),
    # Administration (admins only).
    Case("admin-index", goto("/admin/"), user="admin", expect="nav.admin-nav"),
    Case("admin-committees", goto("/admin/udvalg"), user="admin", expect="table.data"),
    Case("admin-areas", goto("/admin/omraader"), user="admin", expect="td.order form"),
    Case(
        "admin-committee",
        goto(lambda live: f"/admin/udvalg/{live.ids['committee_id']}"),
        user="admin",
    ),
    Case(
        "admin-area",
        goto(lambda live: f"/admin/omraader/{live.ids['area_id']}"),
        user="admin",
        expect="#target_id",
    ),
    Case("admin-people", goto("/admin/personer?q=e"), user="admin", expect="table.data"),
    Case(
        "admin-person",
        goto(lambda live: f"/admin/personer/{live.ids['politician']}"),
        user="admin",
        expect="fieldset.checkboxes",
    ),
    Case("admin-invitations", goto("/admin/invitationer"), user="admin", expect="table.data"),
    Case("admin-topics", goto("/admin/emner"), user="admin", expect="table.data"),
    Case("admin-new-topic", goto("/admin/emner/nyt"), user="admin"),
    Case("admin-topic", goto(lambda live: f"/admin/emner/{live.ids['topic']}"), user="admin"),
    Case(
        "synthesis",
        goto(lambda live: f"/emner/{live.ids['topic']}/hvad-mener-borgerne"),
        user="politician",
        expect="svg.chart",
    ),
    Case("reports", goto("/rapporter"), user="admin", expect="select#scope"),
    Case(
        "report",
        goto(lambda live: f"/rapporter/{live.ids['report']}"),
        user="admin",
        expect="nav.report-toc",
    ),
    Case(
        "report-english",
        goto(lambda live: f"/rapporter/{live.ids['report']}?sprog=en"),
        user="admin",
        lang="en",
        expect="table.data",
    ),
    Case(
        "admin-create-area-empty",
        submit("/admin/omraader", {}, button="main form[action='/admin/omraader'] button"),
        user="admin",
        status=400,
        expect="#name[aria-invalid=true]",
    ),
    Case(
        "invitation",
        goto(lambda live: f"/invitation/{live.ids['invitation_token']}"),
        expect="#display_name",
    ),
    Case("invitation-invalid", goto("/invitation/not-a-token"), status=404),
    # Error states.
    Case(
        "login-failed",
        submit("/login", {"#email": "borger@example.dk", "#password": "wrong-password-here"}),
        expect=".flash-error",
    ),
    Case(
        "register-empty",
        submit("/registrer", {}),
        status=400,
        expect=".error-summary a[href='#email']",
    ),
    Case(
        "register-sent",
        submit(
            "/registrer",
            {
                "#email": "ny.a11y@example.dk",
                "#display_name": "Ny Borger",
                "#password": "a-long-password-1",
                "#confirm": "a-long-password-1",
                "#accept": True,
            },
        ),
        expect="main a.btn[href='/login']",
    ),
    Case(
        "register-mismatch",
        submit(
            "/registrer",
            {
                "#email": "ny@example.dk",
                "#display_name": "Ny Borger",
                "#password": "a-long-password-1",
                "#confirm": "another-password-2",
            },
        ),
        status=400,
        expect="#confirm[aria-invalid=true]",
    ),
    Case(
        "new-topic-short-title",
        submit("/emner/nyt", {"#title": "Vej", "#intro": "Kort."}),
        user="politician",
        status=400,
        expect="#title[aria-invalid=true]",
    ),
    Case(
        "post-empty-body",
        submit(topic(), {"#body": ""}, button="section.write form button[type=submit]"),
        user="citizen",
        status=400,
        expect="#body[aria-invalid=true]",
    ),
    Case(
        "reply-empty-body",
        submit(post("politician_reply", "/svar"), {"#body": ""}),
        user="citizen",
        status=400,
        expect="#body[aria-invalid=true]",
    ),
    Case(
        "change-password-errors",
        submit(
            "/konto/adgangskode",
            {
                "#current_password": "not-my-password",
                "#new_password": "short",
                "#confirm": "different",
            },
        ),
        user="citizen",
        status=400,
        expect=".error-summary",
    ),
    # Outcomes: the topic's box, the timeline, the results list, the update form.
    Case("topic-outcome-box", goto(topic("closed_topic")), expect="section.outcome-box"),
    Case(
        "outcome",
        goto(lambda live: f"/emner/{live.ids['closed_topic']}/resultat"),
        expect="ol.outcome-timeline ul.outcome-citations",
    ),
    Case("results", goto("/resultater?status=decided"), expect="ul.outcome-list"),
    Case(
        "outcome-form",
        goto(lambda live: f"/emner/{live.ids['topic']}/resultat/ny"),
        user="politician",
        expect="#citations",
    ),
    Case(
        "outcome-form-errors",
        submit(
            lambda live: f"/emner/{live.ids['topic']}/resultat/ny",
            {"#text": "Besluttet.", "#link": "javascript:alert(1)"},
        ),
        user="politician",
        status=400,
        expect="#link[aria-invalid=true]",
    ),
    # Open data and the API: the endpoints in words, the open-data page, the staff's keys.
    Case("api-docs", goto("/api"), expect="table.data code"),
    Case("open-data", goto("/aabne-data"), expect="a[rel=license]"),
    Case("api-keys", goto("/api/noegler"), user="admin", expect="#name"),
    Case(
        "api-keys-errors",
        submit("/api/noegler", {"#name": ""}, button="main form[action='/api/noegler'] button"),
        user="admin",
        status=400,
        expect="#name[aria-invalid=true]",
    ),
    Case("admin-site-settings", goto("/admin/indstillinger"), user="admin", expect="#licence"),
    # Meetings: the calendar, a meeting, the forms, the invitations, the personal calendar.
    Case("meetings", goto("/moeder")),
    Case("meeting", goto(lambda live: f"/moeder/{live.ids['meeting']}")),
    Case("meeting-registered", goto(lambda live: f"/moeder/{live.ids['meeting']}"), user="citizen"),
    Case("meeting-new", goto("/moeder/ny"), user="admin"),
    Case("meeting-edit", goto(lambda live: f"/moeder/{live.ids['meeting']}/rediger"), user="admin"),
    Case("meeting-invitations", goto("/moeder/invitationer"), user="admin"),
    Case(
        "meeting-invitation",
        goto(lambda live: f"/moeder/invitationer/{live.ids['meeting_invitation']}"),
        user="admin",
    ),
    Case("meeting-invitation-new", goto("/moeder/invitationer/ny"), user="admin"),
    Case("my-calendar", goto("/moeder/min-kalender"), user="citizen"),
    # Opinions: the round (statements to vote on), its map, the form that opens one.
    Case("opinion-round", goto(lambda live: f"/holdninger/{live.ids['round']}")),
    Case("opinion-map", goto(lambda live: f"/holdninger/{live.ids['round']}/kort")),
    Case(
        "opinion-round-new",
        goto(lambda live: f"/emner/{live.ids['deadline_topic']}/holdninger/ny"),
        user="admin",
    ),
    # Privacy and reach: the optional facts, the settings, the reach figures.
    Case("privacy-facts", goto("/privatliv/om-dig"), user="citizen"),
    Case("privacy-settings", goto("/privatliv/indstillinger"), user="admin"),
    Case("reach", goto("/deltagelse"), user="admin"),
    Case("reach-population", goto("/deltagelse/befolkning/area"), user="admin"),
    # Another language.
    Case("english-home", switch_to_english("/"), lang="en"),
    # Switching stores the choice on the account: a user of its own, so others stay Danish.
    Case("english-topic", switch_to_english(topic()), user="citizen2", lang="en"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_page_is_accessible(page, live_server, auth_cookies, case: Case):
    if case.user:
        page.context.add_cookies(auth_cookies(case.user))
    status = case.action(page, live_server)
    assert status == case.status, f"{page.url} answered {status}, expected {case.status}"
    assert page.get_attribute("html", "lang") == case.lang
    assert page.locator("h1").count() == 1, f"{page.url} needs exactly one <h1>"
    if case.expect:
        assert page.locator(case.expect).count() >= 1, f"{page.url} shows no {case.expect}"
    assert_no_axe_violations(page)


def test_skip_link_is_first_and_moves_focus_to_main(page, live_server):
    page.goto(live_server.url(f"/emner/{live_server.ids['topic']}"))
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({cls: document.activeElement.className,"
        " href: document.activeElement.getAttribute('href'),"
        " visible: document.activeElement.getBoundingClientRect().left >= 0})"
    )
    assert focused["cls"] == "skip-link" and focused["href"] == "#main", focused
    assert page.inner_text(".skip-link") == "Spring til indholdet"  # Danish by default
    assert focused["visible"], "the skip link must be visible when focused"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    # The next Tab continues inside main, not back at the header.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)")


def test_language_choice_is_remembered(page, live_server):
    switch_to_english("/")(page, live_server)
    page.goto(live_server.url("/udvalg"))
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("h1") == "Committees"
    with page.expect_navigation():
        page.click("header form.lang button[name=lang]")
    assert page.get_attribute("html", "lang") == "da"
    assert page.inner_text("h1") == "Udvalg"
