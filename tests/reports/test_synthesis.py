"""The synthesis page: who may see it, what it counts, k-anonymity, diversity, the cache."""

from __future__ import annotations

from forum import services as forum_services
from forum.extensions import db
from forum.models import TopicStatus
from reports.synthesis import Contribution, strongest, synthesise

from .conftest import set_state


def url(w) -> str:
    return f"/emner/{w.topic.id}/hvad-mener-borgerne"


def test_who_may_see_it(world, client_for, make_user):
    assert client_for(None).get(url(world)).status_code == 302  # to the login page
    assert client_for(world.citizen).get(url(world)).status_code == 403
    for role in ("politician", "staff", "moderator", "admin"):
        r = client_for(make_user(role)).get(url(world))
        assert r.status_code == 200, role
    # the topic page links it for them, not for citizens
    link = url(world)
    assert link in client_for(world.politician).get(f"/emner/{world.topic.id}").text
    assert link not in client_for(world.citizen).get(f"/emner/{world.topic.id}").text
    assert client_for(world.staff).get("/emner/999999/hvad-mener-borgerne").status_code == 404


def test_a_topic_that_is_not_public_has_no_synthesis(world, client_for):
    world.topic.status = TopicStatus.PROPOSED
    db.session.commit()
    assert client_for(world.staff).get(url(world)).status_code == 404


def test_figures_count_published_posts_and_people(world, client_for, make_post):
    # a second post by the first person changes their stance: counted once, by the newest
    make_post(world.topic, world.posts[0].author, body="Jeg har skiftet mening.", stance="against")
    s = synthesise([world.topic.id])
    assert (s.posts, s.participants) == (10, 9)
    assert s.stance_people == {"for": 4, "against": 4, "question": 1, "none": 0}
    assert s.stance_posts["for"] == 5 and s.stance_posts["against"] == 4
    page = client_for(world.staff).get(url(world)).text
    assert "9 participants" in page and "10 posts" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in page
    assert page.count("<table") >= 3  # a table beside each chart


def test_hidden_pending_and_rejected_posts_never_count(world, client_for):
    for post, state in zip(world.posts[:3], ("hidden", "pending", "rejected"), strict=True):
        set_state(post, state)
    s = synthesise([world.topic.id])
    assert s.posts == 6
    page = client_for(world.staff).get(url(world)).text
    for i in range(3):
        assert f"Argument nummer {i} " not in page
    assert "Argument nummer 3 " in page


def test_small_groups_are_suppressed_and_said_so(world, client_for):
    s = synthesise([world.topic.id])
    assert [(g.name, g.people) for g in s.areas] == [("Tølløse", 6)]
    assert (s.suppressed_groups, s.suppressed_people) == (1, 3)
    page = client_for(world.staff).get(url(world)).text
    assert "1 area with fewer than 5 people is left out" in page
    table = page.split('id="syn-area-table"')[1].split("</table>")[0]
    assert "Orø" not in table and "Tølløse" in table


def test_strongest_arguments_are_diverse(world):
    first = world.posts[0]
    for i in range(3):  # the same person's three more, the most supported of all
        p = forum_services.create_post(first.author, world.topic, f"Mere {i}.", stance="for")
        p.support_count = 50 + i
    db.session.commit()
    s = synthesise([world.topic.id])
    authors = [c.author_id for c in s.arguments["for"]]
    assert len(authors) == len(set(authors)) == 3
    assert s.arguments["for"][0].excerpt == "Mere 2."  # 52 supports: the strongest
    assert first.author_id not in authors[1:]


def test_arguments_spread_over_areas_before_repeating_one():
    def c(i, supports, area):
        return Contribution(i, 1, "for", supports, "x", 100 + i, "n", False, None, area, None)

    chosen = strongest([c(1, 9, 1), c(2, 8, 1), c(3, 7, 1), c(4, 2, 2)])
    assert [x.post_id for x in chosen] == [1, 2, 4]  # area 2 gets in before a third from 1


def test_unanswered_questions_and_politicians_replies(world, client_for, make_post):
    question = next(p for p in world.posts if p.stance.value == "question")
    other = make_post(world.topic, world.citizen, body="Hvornår åbner I?", stance="question")
    make_post(world.topic, world.politician, body="Vi svarer her.", parent=question)
    s = synthesise([world.topic.id])
    assert [c.post_id for c in s.unanswered] == [other.id]
    assert [c.excerpt for c in s.replies] == ["Vi svarer her."]
    page = client_for(world.politician).get(url(world)).text
    assert "Hvornår åbner I?" in page and "Vi svarer her." in page


def test_cached_on_the_topics_newest_event(world, client_for, make_post, count_queries):
    staff = client_for(world.staff)
    staff.get(url(world))
    with count_queries() as n:
        staff.get(url(world))
    cached = n()
    make_post(world.topic, world.citizen, body="Et nyt indlæg.", stance="for")
    page = staff.get(url(world)).text
    assert "10 posts" in page  # the new event made a new key
    with count_queries() as n:
        staff.get(url(world))
    assert n() == cached


def test_an_empty_debate_says_so(client_for, make_topic, make_user):
    topic = make_topic()
    page = client_for(make_user("staff")).get(f"/emner/{topic.id}/hvad-mener-borgerne").text
    assert "Nobody has written in this debate yet." in page


def test_a_given_area_of_residence_wins_over_where_someone_writes(
    app, make_user, make_area, make_topic
):
    """privacy registers the consented area of residence as the participant_areas reader;
    people who gave none keep the area they write in most."""
    from privacy import reach
    from reports.synthesis import person_areas

    home, other = make_area("Tølløse", "toelloese-r"), make_area("Mørkøv", "moerkoev-r")
    topic = make_topic(area=other)
    resident, writer = make_user(), make_user()
    for person in (resident, writer):
        forum_services.create_post(person, topic, "Et synspunkt om sagen.", stance="for")
    reach.give_fact(resident, "area", str(home.id), consent=True)
    db.session.commit()
    assert person_areas({resident.id, writer.id}) == {resident.id: home.id, writer.id: other.id}
    reach.withdraw_fact(resident, "area")
    db.session.commit()
    assert person_areas({resident.id}) == {resident.id: other.id}
