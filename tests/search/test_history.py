"""Searching an index that has been used for a while: many small commits, replacements,
deletions and Whoosh's merges of small segments, not only a freshly built index.

``run`` is compared with what a plain model of the live documents says (the newest first,
totals, facets, word matches), after every commit of a random history.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

import search
from forum import services as forum_services
from forum.extensions import db
from forum.models import PostState
from search import index
from search.query import Criteria, parse

from .conftest import set_state

WORDS = ("skole", "vej", "havn", "budget", "plads", "sti", "borger", "kommune")
BASE = datetime(2026, 1, 1)


def _doc(pk: int, rng: random.Random) -> dict:
    return {
        "id": f"p{pk}",
        "kind": "post",
        "pk": str(pk),
        "topic": str(pk % 5 + 1),
        "committee": str(pk % 3 + 1),
        "area": str(pk % 4 + 1) if pk % 7 else None,
        "vis": "public" if pk % 6 else "restricted",
        "state": "published" if pk % 6 else "pending",
        "created": BASE + timedelta(minutes=pk),
        "body": " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 10))),
    }


def _criteria(q: str = "", **filters) -> Criteria:
    c = Criteria(parse(q, 200, 12))
    for k, v in filters.items():
        setattr(c, k, v)
    return c


def _check(snap: index.Snapshot, alive: dict[int, dict]) -> None:
    public = {pk: d for pk, d in alive.items() if d["vis"] == "public"}
    newest = sorted(public, reverse=True)  # created grows with pk
    raw = index.run(snap, _criteria(), limit=25)
    assert [pk for _kind, pk in raw.hits] == newest[:25]
    assert raw.total == len(public)
    for name in ("committee", "area"):
        expected: dict[str, int] = {}
        for d in public.values():
            if d.get(name):
                expected[d[name]] = expected.get(d[name], 0) + 1
        assert raw.facets[name] == expected
    restricted_too = index.run(snap, _criteria(include_restricted=True), limit=10)
    assert [pk for _k, pk in restricted_too.hits] == sorted(alive, reverse=True)[:10]
    raw = index.run(snap, _criteria(committee_id=2), limit=10)
    assert [pk for _k, pk in raw.hits] == [pk for pk in newest if pk % 3 + 1 == 2][:10]
    word = "havn"
    raw = index.run(snap, _criteria(word), limit=1000)
    assert {pk for _k, pk in raw.hits} == {
        pk for pk, d in public.items() if word in d["body"].split()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_searches_agree_with_the_live_documents_through_a_long_history(tmp_path, seed):
    rng = random.Random(seed)
    store = index.IndexStore(tmp_path)
    name, ix = store.create_generation()
    store.mark_complete(name)
    store.swap(name)
    source = index.SnapshotSource(store)
    alive: dict[int, dict] = {}
    last = 0
    try:
        for _commit in range(120):  # one small commit per batch, as the indexer makes them
            w = index.Writer(ix)
            committed = sorted(alive)  # a batch names each document once, as the indexer's do
            rng.shuffle(committed)
            for _ in range(rng.randint(1, 4)):
                r = rng.random()
                if r < 0.55 or not committed:
                    last += 1
                    doc = _doc(last, rng)
                    w.upsert(doc)
                    alive[last] = doc
                elif r < 0.85:  # an edit: the document replaced
                    pk = committed.pop()
                    alive[pk] = _doc(pk, rng)
                    w.upsert(alive[pk])
                else:  # a deletion
                    pk = committed.pop()
                    w.delete(f"p{pk}")
                    del alive[pk]
            w.commit()
            snap = source.current()
            _check(snap, alive)
        assert len(snap.segments) > 1 and snap.deleted  # the history it is about
        source.close()
        source = index.SnapshotSource(store)  # a restart: every segment opened afresh
        _check(source.current(), alive)
    finally:
        source.close()


def test_an_empty_search_works_after_posts_edits_deletions_and_hides(
    make_topic, make_post, make_committee, make_area, reindex, find, client, app, indexer
):
    committee, area = make_committee(), make_area(name="Holbæk By", slug="holbaek-by")
    topics = [make_topic(committee=committee, area=area, title=f"Emne {i}") for i in range(3)]
    reindex()
    posts = []
    for i in range(24):  # each change its own index commit, as on a site in use
        posts.append(make_post(topics[i % 3], body=f"Indlæg nummer {i} om skolevejen."))
        reindex()
        if i % 4 == 1:
            forum_services.edit_post(posts[-1].author, posts[-1], f"Rettet indlæg {i} om havnen.")
            db.session.commit()
            reindex()
        if i % 5 == 2:
            forum_services.delete_post(posts[-2].author, posts[-2])
            db.session.commit()
            reindex()
        if i % 6 == 3:
            set_state(posts[-1], PostState.HIDDEN)
            reindex()
        if i % 4 == 2:
            make_post(posts[-1].topic, body=f"Svar {i}.", parent=posts[-1])
            reindex()
    store = search.state(app).store
    with store.open(store.current_name()).reader() as reader:
        assert len(reader.leaf_readers()) > 1

    def everything_answers() -> None:
        page = find("")
        created = [h.created_at for h in page.hits]
        assert page.total > 10 and created == sorted(created, reverse=True)
        assert all(h.post is None or h.post.state == PostState.PUBLISHED for h in page.hits)
        for params in ({"q": ""}, {"q": "", "sort": "newest"}, {}, {"q": "skolevej"}):
            assert client.get("/soeg", query_string=params).status_code == 200
        assert find("havnen").total >= 1 and find("", omraade="holbaek-by").total >= 1

    everything_answers()
    search.state(app).close()  # a restart
    everything_answers()
    indexer.rebuild(notify=False)
    everything_answers()


VOCAB = (
    "skole vej cykelsti havn budget plads borger kommune trafik bus tog parkering legeplads "
    "bibliotek hal svømmehal affald genbrug vindmølle sol energi natur skov strand sø"
).split()


def _ranking_doc(pk: int, rng: random.Random, words: int | None = None) -> dict:
    n = words or rng.choice((3, 5, 8, 15, 30, 60))
    return {
        "id": f"p{pk}",
        "kind": "post",
        "pk": str(pk),
        "topic": str(pk % 4 + 1),
        "committee": str(pk % 3 + 1),
        "vis": "public",
        "state": "published",
        "created": BASE + timedelta(minutes=pk),
        "ttitle": " ".join(rng.sample(VOCAB, 3)),
        "body": " ".join(rng.choice(VOCAB) for _ in range(n)),
    }


def _ranks(store: index.IndexStore, queries: list[str]) -> dict[str, list[int]]:
    source = index.SnapshotSource(store)
    try:
        snap = source.current()
        return {
            q: [pk for _k, pk in index.run(snap, _criteria(q), limit=1000).hits] for q in queries
        }
    finally:
        source.close()


def test_an_index_followed_commit_by_commit_ranks_as_the_same_content_rebuilt(tmp_path):
    rng = random.Random(7)
    live = index.IndexStore(tmp_path / "live")
    name, ix = live.create_generation()
    live.mark_complete(name)
    live.swap(name)
    alive: dict[int, dict] = {}
    w = index.Writer(ix)  # a site's first rebuild: one big segment of long-ish posts
    for pk in range(1, 61):
        alive[pk] = _ranking_doc(pk, rng)
        if pk % 12 == 0:  # a few long posts mention artificial turf once
            alive[pk]["body"] += " kunstgræs"
        w.add(alive[pk])
    w.commit()
    last = 60
    for _commit in range(40):  # then the indexer's small commits: new posts, edits, deletions
        w = index.Writer(ix)
        committed = sorted(alive)
        rng.shuffle(committed)
        for _ in range(rng.randint(1, 3)):
            r = rng.random()
            if r < 0.5:
                last += 1
                alive[last] = _ranking_doc(last, rng)
                w.upsert(alive[last])
            elif r < 0.8:
                pk = committed.pop()
                alive[pk] = _ranking_doc(pk, rng)
                w.upsert(alive[pk])
            else:
                pk = committed.pop()
                w.delete(f"p{pk}")
                del alive[pk]
        w.commit()
    # The case: a short new post about one thing, in a segment of its own.
    last += 1
    alive[last] = {**_ranking_doc(last, rng, words=2), "body": "Kunstgræs til klubben"}
    w = index.Writer(ix)
    w.upsert(alive[last])
    w.commit()
    with ix.reader() as reader:
        assert len(reader.leaf_readers()) > 2 and reader.has_deletions()

    rebuilt = index.IndexStore(tmp_path / "rebuilt")
    name, ix2 = rebuilt.create_generation()
    w = index.Writer(ix2)
    for pk in sorted(alive):
        w.add(alive[pk])
    w.commit()
    rebuilt.mark_complete(name)
    rebuilt.swap(name)

    queries = [*VOCAB, "kunstgræs", "skole vej", "budget OR trafik", "sol -energi", "park*"]
    queries += [f"{a} {b}" for a, b in zip(VOCAB, VOCAB[1:], strict=False)]
    before, after = _ranks(live, queries), _ranks(rebuilt, queries)
    for q in queries:
        assert before[q] == after[q], q
    assert before["kunstgræs"][0] == last  # short and on topic: first, without a rebuild
