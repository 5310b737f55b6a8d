"""Long debates have pages: whole top-level posts (with their replies) per page, permalinks
that find their page, sort and stance filter across pages, flat queries, and pages cut from
each viewer's own tree (posts others may not see never shift their pages)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from forum import hooks, services
from forum.config import DEFAULTS
from forum.extensions import db
from forum.hooks import PostDecision
from forum.models import Post, PostState, Topic, utcnow
from forum.states import transition

ROOTS = DEFAULTS["THREAD_PAGE_ROOTS"]
POSTS = DEFAULTS["THREAD_PAGE_POSTS"]
ARTICLE = re.compile(r'<article class="post[^"]*" id="p(\d+)"')


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in ARTICLE.findall(html)]


@pytest.fixture
def writers(make_user):
    return [make_user() for _ in range(3)]


@pytest.fixture
def debate(make_topic, writers):
    """``debate(n_roots, replies=0, stances=None)``: a topic with ``n_roots`` top-level
    posts a minute apart (oldest first), each with ``replies`` replies; returns (topic,
    root ids in creation order)."""

    def make(n_roots: int, replies: int = 0, stances: list[str | None] | None = None):
        topic = make_topic()
        start = utcnow() - timedelta(days=1)
        roots = []
        for i in range(n_roots):
            stance = stances[i % len(stances)] if stances else None
            root = services.create_post(writers[i % 3], topic, f"Indlæg {i}", stance=stance)
            root.created_at = start + timedelta(minutes=2 * i)
            for j in range(replies):
                reply = services.create_post(
                    writers[(i + j + 1) % 3], topic, f"Svar {i}.{j}", parent_id=root.id
                )
                reply.created_at = start + timedelta(minutes=2 * i + 1, seconds=j)
            roots.append(root.id)
        db.session.commit()
        return topic, roots

    return make


def page(client, topic_id: int, query: str = "") -> str:
    r = client.get(f"/emner/{topic_id}{query}")
    assert r.status_code == 200, (query, r.status_code)
    return r.get_data(as_text=True)


def test_pages_hold_whole_top_level_posts_up_to_the_root_and_post_budgets(client, debate):
    topic, roots = debate(ROOTS * 2 + 5)
    pages = [shown_ids(page(client, topic.id, q)) for q in ("", "?side=2", "?side=3")]
    assert [len(p) for p in pages] == [ROOTS, ROOTS, 5]
    assert sum(pages, []) == roots  # every post once, in order
    html = page(client, topic.id)
    assert "Page 1 of 3" in html or "Side 1 af 3" in html
    # Posts with replies: bounded by the post budget, a root and its replies stay together.
    per_root = 6
    topic, roots = debate(12, replies=per_root - 1)
    first = shown_ids(page(client, topic.id))
    assert len(first) == (POSTS // per_root) * per_root  # 6 roots of 6 posts: 36 <= 40
    second = shown_ids(page(client, topic.id, "?side=2"))
    assert first[0] == roots[0] and second[0] == roots[POSTS // per_root]
    assert set(first).isdisjoint(second)


def test_a_short_debate_has_no_pager(client, debate):
    topic, roots = debate(3)
    html = page(client, topic.id)
    assert shown_ids(html) == roots
    assert "pager" not in html and "data-live-elsewhere" not in html


def test_accessible_pager_without_javascript(client, debate):
    topic, _roots = debate(ROOTS * 2 + 1, stances=["for"])
    html = page(client, topic.id, "?sort=newest&holdning=for&side=2")
    nav = re.search(r'<nav aria-label="[^"]+" class="pager">(.*?)</nav>', html, re.S)
    assert nav, "a nav landmark with a label"
    links = nav.group(1)
    assert re.search(r'href="[^"]*side=1[^"]*" rel="prev"', links) is None  # page 1: no side
    assert 'rel="prev"' in links and 'rel="next"' in links
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', links)
    assert len(current) == 1 and "side=2" in current[0]
    for href in re.findall(r'href="([^"]+)"', links):
        assert "sort=newest" in href and "holdning=for" in href  # sort and filter kept


def test_sort_and_stance_filter_work_across_pages(client, debate):
    n = ROOTS * 2 + 3
    topic, roots = debate(n, stances=["for", "against"])
    newest = sum(
        (shown_ids(page(client, topic.id, f"?sort=newest&side={i}")) for i in (1, 2, 3)), []
    )
    assert newest == roots[::-1]
    for_ids = [r for i, r in enumerate(roots) if i % 2 == 0]
    filtered = sum(
        (shown_ids(page(client, topic.id, f"?holdning=for&side={i}")) for i in (1, 2)), []
    )
    assert filtered == for_ids
    # Most agreed first: the supported ones lead page 1.
    supporter = db.session.get(Post, roots[-1]).author
    for rid in roots[:3]:
        post = db.session.get(Post, rid)
        if post.author_id != supporter.id:
            services.toggle_support(supporter, post)
    db.session.commit()
    top = [r for r in roots[:3] if db.session.get(Post, r).support_count]
    assert shown_ids(page(client, topic.id, "?sort=supported"))[: len(top)] == top


def test_permalinks_find_the_page_of_a_post(client, debate):
    topic, roots = debate(ROOTS * 2 + 4, replies=1)
    # Roots of 2 posts: the post budget cuts pages at POSTS // 2 roots.
    per_page = min(ROOTS, POSTS // 2)
    target = roots[per_page * 2 + 1]  # on page 3
    reply = db.session.scalar(db.select(Post.id).where(Post.parent_id == target))
    r = client.get(f"/indlaeg/{reply}/i-debatten")
    assert r.status_code == 302
    assert r.location.endswith(f"/emner/{topic.id}?side=3#p{reply}")
    assert f'id="p{reply}"' in page(client, topic.id, "?side=3")
    assert client.get(f"/indlaeg/{reply}").status_code == 200  # old permalinks still work
    # The permalink page links to the debate at the post's page.
    html = client.get(f"/indlaeg/{reply}").get_data(as_text=True)
    assert f'href="/indlaeg/{reply}/i-debatten"' in html
    # With the newest first the same post is on another page, and the sort is kept.
    r = client.get(f"/indlaeg/{reply}/i-debatten?sort=newest")
    assert "sort=newest" in r.location and r.location.endswith(f"#p{reply}")
    # A filter that leaves the post out falls back to the whole debate.
    r = client.get(f"/indlaeg/{reply}/i-debatten?holdning=against")
    assert r.location.endswith(f"/emner/{topic.id}?side=3#p{reply}")
    assert client.get("/indlaeg/999999/i-debatten").status_code == 404


def test_support_returns_to_the_page_of_the_post(client, login, debate, make_user):
    topic, roots = debate(ROOTS + 2)
    reader = make_user()
    login(reader)
    last = roots[-1]
    r = client.post(f"/indlaeg/{last}/stoet", data={})
    assert r.status_code == 302 and r.location.endswith(f"?side=2#p{last}")


def test_a_report_returns_to_the_page_of_the_post(client, login, debate, make_user):
    from moderation.services import ensure_default_rules

    ensure_default_rules()
    db.session.commit()
    topic, roots = debate(ROOTS + 2)
    login(make_user())
    last = roots[-1]
    r = client.post(f"/indlaeg/{last}/anmeld", data={"reason": "spam"})
    assert r.status_code == 302
    r = client.get(r.location)
    assert r.status_code == 302 and r.location.endswith(f"?side=2#p{last}")


def test_pages_past_the_end_and_malformed_page_numbers(client, debate):
    topic, _roots = debate(ROOTS + 1)
    r = client.get(f"/emner/{topic.id}?side=9&sort=newest")
    assert r.status_code == 302 and r.location.endswith(f"/emner/{topic.id}?sort=newest&side=2")
    assert client.get(f"/emner/{topic.id}?side=abc").status_code == 400
    assert client.get(f"/emner/{topic.id}?side=0").status_code == 200  # clamped to 1
    empty, _ = debate(0)
    assert client.get(f"/emner/{empty.id}?side=2").status_code == 302


def test_query_count_is_the_same_on_every_page(client, login, debate, make_user, count_queries):
    topic, roots = debate(ROOTS * 2 + 5, replies=1)
    topic_id = topic.id
    login(make_user())
    assert client.get("/").status_code == 200  # the site's look, kept for a while, read here
    counts = []
    for q in ("", "?side=2", "?side=3", "?sort=newest&side=2"):
        db.session.expunge_all()
        with count_queries() as n:
            page(client, topic_id, q)
        counts.append(n())
    assert len(set(counts)) == 1, counts


def test_anonymous_cache_is_per_page(client, debate):
    topic, roots = debate(ROOTS + 3)
    one = shown_ids(page(client, topic.id))
    two = shown_ids(page(client, topic.id, "?side=2"))
    assert one == roots[:ROOTS] and two == roots[ROOTS:]
    assert shown_ids(page(client, topic.id)) == one  # the cached copy of page 1


def test_held_and_hidden_posts_do_not_shift_pages_for_others(
    app, client, login, debate, writers, make_user
):
    topic, roots = debate(ROOTS)  # exactly one full page
    other = make_user()
    before_anon = shown_ids(page(client, topic.id))
    assert before_anon == roots
    # A held (pending) top-level post: only its author (and moderators) see it.
    hooks.register_post_policy(app, lambda post, action: PostDecision(PostState.PENDING, "t"))
    held = services.create_post(writers[0], db.session.get(Topic, topic.id), "Venter")
    db.session.commit()
    # A hidden one with no replies: not on anyone's page but the author's and moderators'.
    hidden = db.session.get(Post, roots[0])
    transition(hidden, PostState.HIDDEN)
    db.session.commit()
    anon = page(client, topic.id)
    assert shown_ids(anon) == roots[1:]
    assert "pager" not in anon  # still one page: nothing hints at the held post
    assert client.get(f"/emner/{topic.id}?side=2").status_code == 302
    assert client.get(f"/indlaeg/{held.id}/i-debatten").status_code == 404
    login(other)
    html = page(client, topic.id)
    assert shown_ids(html) == roots[1:] and "pager" not in html
    client.post("/logout", data={})
    login(writers[0])
    mine = page(client, topic.id)
    # The author sees their held post (and their hidden one): the page is cut from their tree.
    assert held.id in shown_ids(mine) + shown_ids(page(client, topic.id, "?side=2"))


def test_new_top_level_posts_are_announced_on_the_page_they_go_to(client, debate):
    topic, _roots = debate(ROOTS * 2 + 1)
    first = page(client, topic.id)
    last = page(client, topic.id, "?side=3")
    assert 'data-page="1" data-pages="3" data-live-page="3"' in first
    assert "data-live-elsewhere" in first and f'href="/emner/{topic.id}?side=3"' in first
    assert 'data-live-page="3"' in last and "data-live-elsewhere" not in last
    newest = page(client, topic.id, "?sort=newest&side=2")
    assert 'data-live-page="1"' in newest
    assert f'href="/emner/{topic.id}?sort=newest" class="btn-small"' in newest


def test_a_very_long_thread_shows_the_post_budget_and_continues_on_its_own_page(
    client, make_topic, writers
):
    """One top-level post with more replies than a page holds: the page shows the first
    POSTS in reading order and links to the rest; the next top-level post is on page 2."""
    topic = make_topic()
    root = services.create_post(writers[0], topic, "Start")
    replies = [
        services.create_post(writers[1 + i % 2], topic, f"Svar {i}", parent_id=root.id)
        for i in range(POSTS + 5)
    ]
    later = services.create_post(writers[0], topic, "Et andet emne")
    db.session.commit()
    html = page(client, topic.id)
    assert shown_ids(html) == [root.id] + [r.id for r in replies[: POSTS - 1]]
    assert "(6 more replies)" in html or "(6 svar mere)" in html
    assert f'href="/indlaeg/{root.id}#p{root.id}"' in html
    assert shown_ids(page(client, topic.id, "?side=2")) == [later.id]
    # The root's own page has all of them; a cut reply's locator goes there.
    assert len(shown_ids(client.get(f"/indlaeg/{root.id}").get_data(as_text=True))) == POSTS + 6
    r = client.get(f"/indlaeg/{replies[-1].id}/i-debatten")
    assert r.location.endswith(f"/indlaeg/{replies[-1].id}#p{replies[-1].id}")
    r = client.get(f"/indlaeg/{replies[0].id}/i-debatten")
    assert r.location.endswith(f"/emner/{topic.id}#p{replies[0].id}")
