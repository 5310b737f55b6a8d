"""Who sees what: the database decides for every hit, stale index or not."""

from __future__ import annotations

import pytest

from forum.extensions import db
from forum.models import PostState, TopicStatus

from .conftest import set_state


@pytest.fixture
def states(make_topic, make_post, make_user, make_committee, make_area):
    """One published post and one in each non-public state, all about "vindmøller"."""
    area = make_area(name="Jyderup", slug="jyderup")
    topic = make_topic(
        committee=make_committee(),
        area=area,
        title="Energi i Jyderup",
        intro="Hvordan skal vi have energi?",
    )
    author = make_user(name="Anna Afsender")
    posts = {
        s: make_post(topic, author, f"Vindmøller ved søen ({s}).")
        for s in ("published", "pending", "hidden", "rejected", "removed", "deleted")
    }
    set_state(posts["pending"], PostState.PENDING)
    set_state(posts["hidden"], PostState.HIDDEN)
    set_state(posts["rejected"], PostState.REJECTED)
    set_state(posts["removed"], PostState.REMOVED)
    from forum import services as forum_services

    forum_services.delete_post(author, posts["deleted"])
    db.session.commit()
    return {"topic": topic, "author": author, "posts": posts, "area": area}


def shown(page) -> set[str]:
    return {h.post.body_source.split("(")[1].rstrip(").") for h in page.hits if h.post}


def test_only_published_content_for_everyone(states, reindex, find, make_user):
    reindex()
    assert shown(find("vindmøller")) == {"published"}
    assert shown(find("vindmøller", viewer=make_user())) == {"published"}
    # Their author sees them on their pages, but search shows everyone the same public set.
    assert shown(find("vindmøller", viewer=states["author"])) == {"published"}


def test_moderators_may_include_held_rejected_and_hidden(states, reindex, find, make_user):
    reindex()
    moderator = make_user("moderator")
    assert shown(find("vindmøller", viewer=moderator)) == {"published"}
    assert shown(find("vindmøller", viewer=moderator, skjulte=1)) == {
        "published",
        "pending",
        "hidden",
        "rejected",
        "removed",
    }  # deleted: gone for all
    # The switch means nothing to others.
    assert shown(find("vindmøller", viewer=make_user(), skjulte=1)) == {"published"}


def test_area_moderators_see_restricted_content_only_in_their_areas(
    states, reindex, find, make_user, make_area
):
    reindex()
    elsewhere = make_user("moderator", areas=[make_area()])
    here = make_user("moderator", areas=[states["area"]])
    assert shown(find("vindmøller", viewer=elsewhere, skjulte=1)) == {"published"}
    assert "hidden" in shown(find("vindmøller", viewer=here, skjulte=1))


def test_a_post_hidden_after_indexing_is_never_shown(states, reindex, find, client):
    reindex()
    set_state(states["posts"]["published"], PostState.HIDDEN)  # the index has not heard yet
    assert find("vindmøller").hits == []
    html = client.get("/soeg?q=vindmøller").get_data(as_text=True)
    assert "(published)" not in html
    reindex()
    assert find("vindmøller").total == 0


def test_stale_hits_leave_no_holes_in_pages(
    app, make_topic, make_post, reindex, find, make_committee
):
    app.config["SEARCH_PER_PAGE"] = 3
    topic = make_topic(committee=make_committee(), title="Grøn omstilling", intro="Ideer?")
    posts = [make_post(topic, body=f"Solceller på taget nummer {i}.") for i in range(8)]
    reindex()
    for p in posts[:4]:  # the best-ranked ones, say: hidden behind the index's back
        set_state(p, PostState.HIDDEN)
    first, second = find("solceller", side=1), find("solceller", side=2)
    assert len(first.hits) == 3 and len(second.hits) == 1
    ids = [h.post.id for h in first.hits + second.hits]
    assert sorted(ids) == sorted(p.id for p in posts[4:])


def test_topics_that_are_not_public(make_topic, make_user, make_area, reindex, find):
    area = make_area()
    citizen = make_user()
    proposal = make_topic(
        author=citizen, area=area, title="Forslag om shelter i skoven", intro="Et shelter ved søen."
    )
    assert proposal.status == TopicStatus.PROPOSED
    reindex()
    assert find("shelter").hits == []
    assert find("shelter", viewer=citizen).hits == []
    moderator = make_user("moderator")
    assert [h.topic.id for h in find("shelter", viewer=moderator, skjulte=1).hits] == [proposal.id]


def test_one_visibility_query_per_kind_of_hit(corpus, reindex, find, count_queries):
    reindex()
    find("")  # warm: places
    with count_queries() as n:
        page = find("")
    kinds = {h.kind for h in page.hits}
    assert kinds == {"post", "topic"}
    # places (committees, areas, parties) + one query for posts + one for topics
    assert n() == 5


def facets(page) -> dict[str, dict[str, int]]:
    return {name: {x.slug: n for x, n in rows} for name, rows in page.facets.items()}


def test_facets_count_only_what_the_viewer_may_see(
    states, reindex, find, make_user, make_area, make_topic, make_post, make_committee, client
):
    """A scoped moderator with the switch on must not learn from the facets that held or
    rejected text exists elsewhere ("0 found" but "Jyderup (1)"); nor may anyone else."""
    mine = make_area(name="Tølløse", slug="toelloese")
    topic = make_topic(committee=make_committee(), area=mine, title="Vand i åen", intro="Hvad nu?")
    held_here = make_post(topic, body="Vindmøller ved åen (mine).")
    set_state(held_here, PostState.PENDING)
    reindex()
    elsewhere = make_user("moderator", areas=[mine])
    # "hidden" is a word only the hidden post in Jyderup holds.
    page = find("hidden", viewer=elsewhere, skjulte=1)
    assert page.total == 0 and facets(page) == {"committee": {}, "area": {}}
    page = find("vindmøller", viewer=elsewhere, skjulte=1)
    assert page.total == 2 and facets(page)["area"] == {"jyderup": 1, "toelloese": 1}
    page = find("", viewer=elsewhere, skjulte=1)  # the empty search counts the same way
    assert facets(page)["area"] == {"jyderup": 2, "toelloese": 2}  # topics and posts
    assert facets(find("", viewer=elsewhere, skjulte=1, omraade="jyderup"))["area"] == {
        "jyderup": 2
    }
    # Citizens, and moderators without the switch, count only what is public.
    for viewer, params in ((make_user(), {"skjulte": 1}), (elsewhere, {}), (states["author"], {})):
        page = find("vindmøller", viewer=viewer, **params)
        assert page.total == 1 and facets(page)["area"] == {"jyderup": 1}
        assert facets(find("hidden", viewer=viewer, **params))["area"] == {}
    # A moderator of Jyderup, and one of every area, count Jyderup's held posts.
    here = make_user("moderator", areas=[states["area"]])
    assert facets(find("vindmøller", viewer=here, skjulte=1))["area"] == {"jyderup": 5}
    everywhere = make_user("moderator")
    assert facets(find("vindmøller", viewer=everywhere, skjulte=1))["area"] == {
        "jyderup": 5,
        "toelloese": 1,
    }
