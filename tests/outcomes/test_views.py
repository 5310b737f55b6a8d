"""Outcome pages and the update form, without JavaScript (CSRF is off in tests)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Notification, TopicStatus
from outcomes.models import Outcome, OutcomeUpdate

from .conftest import add

FORM = {
    "status": "decided",
    "body": "committee",
    "decided_on": "2026-11-30",
    "text": "Udvalget har besluttet at bygge cykelstien i 2027.",
    "link": "https://holbaek.dk/dagsorden/12",
    "citations": "",
    "nonce": "n-1",
}


def form_url(world) -> str:
    return f"/emner/{world.topic.id}/resultat/ny"


@pytest.mark.parametrize(
    ("who", "get_status", "post_status"),
    [
        (None, 302, 302),  # to the login page
        ("citizen", 403, 403),
        ("other_politician", 403, 403),
        ("politician", 200, 302),
        ("scoped", 403, 403),
        ("staff", 200, 302),
        ("municipal", 200, 302),
        ("admin", 200, 302),
    ],
)
def test_authorisation_matrix_of_the_write_route(world, client_for, who, get_status, post_status):
    c = client_for(getattr(world, who) if who else None)
    r = c.get(form_url(world))
    assert r.status_code == get_status
    if who is None:
        assert "/login" in r.headers["Location"]
    r = c.post(form_url(world), data=FORM)
    assert r.status_code == post_status
    written = db.session.scalar(select(func.count(OutcomeUpdate.id)))
    assert written == (1 if post_status == 302 and who else 0)
    if written:
        assert r.headers["Location"].endswith(
            f"/emner/{world.topic.id}/resultat#u{db.session.scalar(select(OutcomeUpdate.id))}"
        )


def test_a_bad_link_is_a_form_error_that_keeps_what_was_typed(world, client_for):
    c = client_for(world.staff)
    data = {**FORM, "link": "javascript:alert(1)", "text": "Mit **særlige** referat af sagen."}
    r = c.post(form_url(world), data=data)
    assert r.status_code == 400
    assert "http://" in r.text and "https://" in r.text  # the error says what is wanted
    assert "Mit **særlige** referat af sagen." in r.text
    assert 'value="javascript:alert(1)"' in r.text
    assert db.session.scalar(select(func.count(Outcome.id))) == 0


def test_citing_a_hidden_post_is_a_form_error(world, client_for):
    world.posts[0].state = "hidden"
    db.session.commit()
    c = client_for(world.staff)
    r = c.post(form_url(world), data={**FORM, "citations": f"{world.posts[0].id}: note"})
    assert r.status_code == 400
    assert f"{world.posts[0].id}: note" in r.text
    assert db.session.scalar(select(func.count(OutcomeUpdate.id))) == 0


def test_a_double_submitted_form_creates_one_update(world, client_for):
    c = client_for(world.politician)
    assert c.post(form_url(world), data=FORM).status_code == 302
    assert c.post(form_url(world), data=FORM).status_code == 302
    assert db.session.scalar(select(func.count(OutcomeUpdate.id))) == 1


def test_topic_page_shows_the_outcome_at_the_top(world, client_for):
    add(world, status="in_progress", text="Sagen er sendt til forvaltningen.")
    add(world, status="decided", text="Udvalget har **besluttet** cykelstien.")
    r = client_for(None).get(f"/emner/{world.topic.id}")
    assert r.status_code == 200
    box = r.text.split('class="outcome-box"')[1].split("</section>")[0]
    assert "Besluttet" in box and "<strong>besluttet</strong>" in box
    assert "Sagen er sendt" not in box  # only the latest update
    assert f'href="/emner/{world.topic.id}/resultat"' in box
    assert r.text.index('class="outcome-box"') < r.text.index('id="debate-h"')


def test_outcome_page_shows_the_timeline_and_the_cited_posts(world, client_for):
    a, b = world.posts
    first = add(
        world, status="in_progress", decided_on=date(2026, 10, 1), text="Under behandling nu."
    )
    second = add(world, citations=f"{a.id}: Cykelstien kommer\n{b.id}: Bussen undersøges")
    r = client_for(None).get(f"/emner/{world.topic.id}/resultat")
    assert r.status_code == 200
    assert r.text.index(f'id="u{second.id}"') < r.text.index(f'id="u{first.id}"')
    assert "Cykelstien kommer" in r.text and f"/indlaeg/{a.id}#p{a.id}" in r.text
    assert 'href="https://holbaek.dk' not in r.text or 'rel="noopener noreferrer"' in r.text
    # A cited post hidden afterwards drops out of the page for those who may not read it.
    b.state = "hidden"
    db.session.commit()
    r = client_for(world.citizen).get(f"/emner/{world.topic.id}/resultat")
    assert f"/indlaeg/{b.id}#" not in r.text and "Bussen undersøges" not in r.text
    assert f"/indlaeg/{a.id}#" in r.text


def test_cited_posts_carry_a_note_on_the_topic_page_and_their_permalink(world, client_for):
    a, b = world.posts
    update = add(world, citations=f"{a.id}: Cykelstien kommer")
    anon = client_for(None)
    for url in (f"/emner/{world.topic.id}", f"/indlaeg/{a.id}"):
        text = anon.get(url).text
        article = text.split(f'id="p{a.id}"')[1].split("</article>")[0]
        assert "Citeret i resultatet: Besluttet" in article
        assert f"/emner/{world.topic.id}/resultat#u{update.id}" in article
    other = anon.get(f"/emner/{world.topic.id}").text.split(f'id="p{b.id}"')[1]
    assert "Citeret i resultatet" not in other.split("</article>")[0]
    fragment = anon.get(f"/indlaeg/{a.id}/fragment").text
    assert "Citeret i resultatet" in fragment


def test_the_anonymous_cache_shows_a_new_citation_at_once(world, client_for):
    a = world.posts[0]
    anon = client_for(None)
    assert "Citeret i resultatet" not in anon.get(f"/emner/{world.topic.id}").text
    add(world, citations=f"{a.id}: x")
    assert "Citeret i resultatet" in anon.get(f"/emner/{world.topic.id}").text


def test_topic_page_query_count_stays_constant_with_citations(
    world, client_for, make_post, count_queries
):
    add(world, citations="\n".join(f"{p.id}: note" for p in world.posts))
    viewer = client_for(world.citizen)
    url = f"/emner/{world.topic.id}"  # read now: the test's own commits expire world.topic
    assert viewer.get("/").status_code == 200  # the site's look, kept for a while, read here
    with count_queries() as small:
        assert viewer.get(url).status_code == 200
    posts = [make_post(world.topic) for _ in range(12)]
    add(world, citations="\n".join(f"{p.id}: note" for p in posts))
    with count_queries() as large:
        text = viewer.get(url).text
    assert text.count("Citeret i resultatet") == 14
    assert small() == large()


def test_an_outcome_on_a_topic_that_is_no_longer_public_is_hidden(world, client_for):
    add(world)
    world.topic.status = TopicStatus.PROPOSED
    db.session.commit()
    for who in (None, world.citizen, world.other_politician):
        c = client_for(who)
        assert c.get(f"/emner/{world.topic.id}/resultat").status_code == 404
        assert world.topic.title not in c.get("/resultater").text
    # Its author (who may see the proposed topic) and moderators in scope still see it.
    for who in (world.politician, world.scoped, world.admin):
        c = client_for(who)
        assert c.get(f"/emner/{world.topic.id}/resultat").status_code == 200
        assert world.topic.title in c.get("/resultater").text
    # And nobody may write one there.
    r = client_for(world.admin).post(form_url(world), data={**FORM, "nonce": "n-2"})
    assert r.status_code == 409
    assert db.session.scalar(select(func.count(OutcomeUpdate.id))) == 1


def test_results_pages_filter_by_status_place_and_paginate(
    world, client_for, make_topic, make_committee, make_area
):
    add(world, status="decided")
    other_committee, other_area = make_committee(), make_area()
    topics = [
        make_topic(committee=other_committee, area=other_area, title=f"Sag nummer {i:02d}")
        for i in range(22)
    ]
    for t in topics:
        from outcomes import services

        services.add_update(
            world.admin,
            t,
            status="in_progress",
            body="administration",
            text="Forvaltningen arbejder på sagen.",
            decided_on=date(2026, 12, 1),
        )
    db.session.commit()
    c = client_for(None)
    page1 = c.get("/resultater").text
    assert "23 resultater" in page1 and "Side 1 af 2" in page1
    page2 = c.get("/resultater?side=2").text
    assert world.topic.title in page2  # the oldest date comes last
    decided = c.get("/resultater?status=decided").text
    assert world.topic.title in decided and "Sag nummer" not in decided
    assert "1 resultat" in decided
    per_committee = c.get(f"/resultater/udvalg/{world.topic.committee.slug}").text
    assert world.topic.title in per_committee and "Sag nummer" not in per_committee
    per_area = c.get(f"/resultater/omraader/{other_area.slug}?status=in_progress").text
    assert "Sag nummer 21" in per_area and "22 resultater" in per_area
    assert world.topic.title not in per_area
    assert c.get("/resultater?status=nonsense").status_code == 400
    assert c.get("/resultater/udvalg/findes-ikke").status_code == 404


def test_notifications_page_links_to_the_outcome(world, client_for):
    author = world.posts[0].author
    add(world)
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == author.id, Notification.kind == "outcome_update"
            )
        )
        == 1
    )
    text = client_for(author).get("/notifikationer").text
    assert f'href="/emner/{world.topic.id}/resultat"' in text
    assert "en debat du deltog i" in text


def test_outcome_path_is_the_route(app, world):
    from flask import url_for

    from outcomes.services import outcome_path

    with app.test_request_context():
        assert url_for("outcomes.topic_outcome", topic_id=world.topic.id) == outcome_path(
            world.topic.id
        )


def test_topic_page_holds_the_hidden_live_notice(world, client_for):
    text = client_for(None).get(f"/emner/{world.topic.id}").text
    # No outcome yet: only the notice live.js shows when one arrives (hidden until then).
    assert "data-live-outcome" in text and 'class="outcome-box"' not in text
    notice = text.split("data-live-outcome")[0].rsplit("<p", 1)[1]
    assert "hidden" in notice
    add(world)
    text = client_for(None).get(f"/emner/{world.topic.id}").text
    assert 'class="outcome-box"' in text and "data-live-outcome" in text


def test_notification_of_a_topic_no_longer_visible_says_so(world, client_for):
    author = world.posts[0].author
    add(world)
    world.topic.status = TopicStatus.PROPOSED
    db.session.commit()
    text = client_for(author).get("/notifikationer").text
    assert f"/emner/{world.topic.id}/resultat" not in text
    assert "ikke længere tilgængelig" in text


def test_the_form_is_offered_only_to_writers(world, client_for):
    path = f'href="/emner/{world.topic.id}/resultat/ny"'
    assert path in client_for(world.politician).get(f"/emner/{world.topic.id}").text
    assert path not in client_for(world.citizen).get(f"/emner/{world.topic.id}").text
    assert path not in client_for(world.scoped).get(f"/emner/{world.topic.id}").text


def test_signed_in_readers_see_citations_in_the_shared_thread(world, client_for):
    """Signed-in readers who see the thread as everyone does get a shared rendering
    (forum/views/topics.py, shared thread): the citation notes are in it too."""
    a = world.posts[0]
    add(world, citations=f"{a.id}: Cykelstien kommer")
    for _ in range(2):  # the first GET renders the shared page, the second reads it
        text = client_for(world.citizen).get(f"/emner/{world.topic.id}").text
        article = text.split(f'id="p{a.id}"')[1].split("</article>")[0]
        assert "Citeret i resultatet: Besluttet" in article
