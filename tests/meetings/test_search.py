"""Meetings in search: meetings are found, and what was said at a meeting (offline
contributions) is found with the filter »Fra møder«, under the posts' visibility rules, on
the page, in the facets, the CSV export and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import PostState
from meetings import minutes, services
from tests.search import conftest as search_fixtures
from tests.search.conftest import set_state

# search's fixtures (an indexer run by hand, the results as the view builds them)
_no_stray_indexer_thread = search_fixtures._no_stray_indexer_thread
_close_searchers = search_fixtures._close_searchers
indexer = search_fixtures.indexer
reindex = search_fixtures.reindex
find = search_fixtures.find


@pytest.fixture
def said(world, make_meeting, make_post, make_user):
    """A past citizens' meeting with two contributions in its topic, and an ordinary post
    about the same thing."""
    m = make_meeting(
        kind="citizens",
        title="Borgermøde om vindmøllerne i Tølløse",
        topic_id=world.topic.id,
        area_id=world.area.id,
        committee_id=world.committee.id,
        registration=False,
    )
    m.starts_at -= timedelta(days=20)
    m.ends_at -= timedelta(days=20)
    db.session.commit()
    loud = minutes.add_contribution(
        world.staff, m, "Vindmøllerne larmer om natten ved Tølløse.", stance="against"
    )
    quiet = minutes.add_contribution(world.staff, m, "Vindmøllerne giver billig strøm.")
    minutes.publish_minutes(world.staff, m, "Referat: 40 deltog og talte om *støjgrænser*.")
    db.session.commit()
    online = make_post(world.topic, make_user(), "Vindmøllerne bør stå længere fra byen.")
    return m, loud, quiet, online


def _keys(page) -> set[tuple[str, int]]:
    return {(h.kind, h.pk) for h in page.hits}


def test_meetings_and_contributions_are_found_and_filtered(world, said, reindex, find):
    m, loud, quiet, online = said
    reindex()
    everything = _keys(find("vindmøllerne"))
    assert {("post", loud.id), ("post", quiet.id), ("post", online.id)} <= everything
    assert ("meeting", m.id) in everything
    from_meetings = find("vindmøllerne", kilde="moeder")
    assert _keys(from_meetings) == {("post", loud.id), ("post", quiet.id), ("meeting", m.id)}
    assert from_meetings.total == 3
    # the minutes are searchable with the meeting
    assert _keys(find("støjgrænser")) == {("meeting", m.id)}
    hit = next(h for h in from_meetings.hits if h.kind == "meeting")
    assert hit.url == f"/moeder/{m.id}" and hit.area.id == world.area.id
    post_hit = next(h for h in from_meetings.hits if h.kind == "post")
    assert post_hit.origin == "moeder" and post_hit.origin_label
    # the facets count what the filter found
    assert dict((a.id, n) for a, n in from_meetings.facets["area"]) == {world.area.id: 3}
    # a new meeting is found as soon as the indexer follows its event; a cancelled one says so
    new = services.create_meeting(world.staff, {**_new_meeting(), "title": "Vindmøllemøde"})
    db.session.commit()
    reindex()
    assert ("meeting", new.id) in _keys(find("vindmøllemøde"))
    services.cancel_meeting(world.staff, new, "Sygdom")
    db.session.commit()
    reindex()
    [cancelled] = [h for h in find("vindmøllemøde").hits if h.kind == "meeting"]
    assert cancelled.state == "cancelled"
    # the organiser's new name: their meetings are re-indexed under it
    world.staff.display_name = "Birthe Byplanlægger"  # search's flush handler logs the change
    db.session.commit()
    reindex()
    assert ("meeting", new.id) in _keys(find("vindmøllemøde Byplanlægger"))


def _new_meeting() -> dict:
    from .conftest import meeting_data

    return meeting_data()


def test_a_hidden_contribution_is_neither_found_nor_counted(world, said, reindex, find):
    m, loud, quiet, online = said
    set_state(loud, PostState.HIDDEN, world.moderator.id)
    reindex()
    page = find("vindmøllerne", kilde="moeder")
    assert _keys(page) == {("post", quiet.id), ("meeting", m.id)}
    assert page.total == 2
    assert dict((a.id, n) for a, n in page.facets["area"]) == {world.area.id: 2}
    # its author does not see it in public search either; a moderator who asks for held
    # content does
    assert ("post", loud.id) not in _keys(find("vindmøllerne", world.staff, kilde="moeder"))
    mod = find("vindmøllerne", world.moderator, kilde="moeder", skjulte="1")
    assert ("post", loud.id) in _keys(mod)


def test_the_search_page_offers_the_filter_and_answers_bad_values(world, said, reindex, client):
    m = said[0]
    reindex()
    page = client.get("/soeg?q=vindmøllerne&kilde=moeder").get_data(as_text=True)
    assert 'name="kilde"' in page and 'value="moeder"' in page
    assert "billig strøm" in page and "bør stå længere" not in page
    assert "Borgermøde om" in page and f'href="/moeder/{m.id}"' in page
    bad = client.get("/soeg?q=vindmøllerne&kilde=himlen")
    assert bad.status_code == 200 and "himlen" in bad.get_data(as_text=True)
    assert "bør stå længere" in bad.get_data(as_text=True)  # the filter is left out


def test_export_and_api_pass_the_filter(world, said, reindex, client, login):
    m, loud, quiet, online = said
    reindex()
    login(world.citizen)
    csv_text = client.get("/soeg/eksport.csv?q=vindmøllerne&kilde=moeder").get_data(as_text=True)
    assert "larmer om natten" in csv_text and "billig strøm" in csv_text
    assert "bør stå længere" not in csv_text and f"/moeder/{m.id}" in csv_text
    api = client.get("/api/v1/search?q=vindmøllerne&kilde=moeder")
    assert api.status_code == 200, api.get_data(as_text=True)
    items = api.get_json()["items"]
    assert {(i["kind"], i["id"]) for i in items} == {
        ("post", loud.id),
        ("post", quiet.id),
        ("meeting", m.id),
    }
    meeting_item = next(i for i in items if i["kind"] == "meeting")
    # a meeting of a topic names it (one without would give None)
    assert meeting_item["topic_id"] == m.topic_id
    assert meeting_item["url"].endswith(f"/moeder/{m.id}")


def test_kind_and_source_filters_combine(world, said, reindex, find, client):
    m, loud, quiet, online = said
    reindex()
    # »Fra møder« alone: the meeting and the contributions; with a kind, only that kind
    assert _keys(find("vindmøllerne", kilde="moeder", slags="post")) == {
        ("post", loud.id),
        ("post", quiet.id),
    }
    only_meetings = find("vindmøllerne", kilde="moeder", slags="meeting")
    assert _keys(only_meetings) == {("meeting", m.id)} and only_meetings.total == 1
    assert _keys(find("vindmøllerne", slags="meeting")) == {("meeting", m.id)}
    # the page offers meetings as a kind and keeps both choices
    page = client.get("/soeg?q=vindmøllerne&kilde=moeder&slags=meeting").get_data(as_text=True)
    assert 'name="slags"' in page and '<option selected value="meeting">' in page
    assert f'href="/moeder/{m.id}"' in page and "billig strøm" not in page
    api = client.get("/api/v1/search?q=vindmøllerne&kilde=moeder&slags=post")
    assert {(i["kind"], i["id"]) for i in api.get_json()["items"]} == {
        ("post", loud.id),
        ("post", quiet.id),
    }
