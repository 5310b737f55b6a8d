"""Search on every node without a shared disk: each node builds its own index from the
database, follows the event log with its own cursor named by the node, and can lose its
index while it serves."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

import search
from forum.extensions import db
from forum.models import Event, Notification
from search import services
from search.indexer import Indexer
from search.models import SearchCursor


@pytest.fixture
def app_config() -> dict:
    return {"SEARCH_NODE": "web-1"}


@pytest.fixture
def node(app, tmp_path) -> Iterator[Callable[[str], Indexer]]:
    """``node("web-2")``: the indexer of another node, with its own index directory."""
    made: list[Indexer] = []

    def make(name: str) -> Indexer:
        saved = app.config["SEARCH_NODE"], app.config["SEARCH_INDEX_DIR"]
        app.config["SEARCH_NODE"] = name
        app.config["SEARCH_INDEX_DIR"] = str(tmp_path / f"index-{name}")
        try:
            made.append(Indexer(app))
        finally:
            app.config["SEARCH_NODE"], app.config["SEARCH_INDEX_DIR"] = saved
        return made[-1]

    yield make
    for ix in made:
        ix.close()


def rows() -> dict[str, list[SearchCursor]]:
    db.session.expire_all()
    out: dict[str, list[SearchCursor]] = {}
    for row in db.session.scalars(select(SearchCursor)):
        out.setdefault(row.node, []).append(row)
    return out


def test_the_node_name_defaults_to_the_host_name(app):
    import socket

    assert app.config["SEARCH_NODE"] == "web-1"
    assert search.node_name("") == search.node_name(socket.gethostname())
    assert search.node_name(" web 2/x ") == "web-2-x"
    assert len(search.node_name("x" * 100)) == 64


def test_each_node_builds_its_own_index_and_follows_with_its_own_cursor(
    corpus, indexer, node, make_post, runner, app
):
    second = node("web-2")
    indexer.run_once()  # each builds from the database
    second.run_once()
    assert indexer.store.root != second.store.root
    assert indexer.store.current_name() != second.store.current_name()
    by_node = rows()
    assert set(by_node) == {"web-1", "web-2"}
    for name, ix in (("web-1", indexer), ("web-2", second)):
        (row,) = by_node[name]
        assert row.in_use and row.generation == ix.store.current_name()

    make_post(corpus["topics"]["harbour"], body="Havnebad om vinteren.")
    assert indexer.run_once() > 0  # web-1 follows; web-2 has not run yet
    out = runner.invoke(args=["search", "status"])
    assert out.exit_code == 0, out.output
    assert "Node: web-1" in out.output
    lines = {ln.split(":")[0].strip(): ln for ln in out.output.splitlines() if "lag " in ln}
    assert "lag 0 events" in lines["web-1 (this node)"]
    behind = db.session.scalar(select(func.max(Event.id))) - rows()["web-2"][0].last_event_id
    assert behind > 0 and f"lag {behind} events" in lines["web-2"]
    assert second.run_once() > 0
    out = runner.invoke(args=["search", "status"])
    assert out.output.count("lag 0 events,") == 2, out.output


def test_a_new_node_added_later_catches_up_and_the_rest_are_untouched(
    corpus, indexer, node, make_post, find
):
    indexer.run_once()
    first_generation = indexer.store.current_name()
    before = find("cykelsti").total
    for i in range(3):
        make_post(corpus["topics"]["road"], body=f"Cykelsti nummer {i}.")
    late = node("web-3")
    late.run_once()
    from search.index import doc_count

    assert doc_count(late.store.open(late.store.current_name())) == 7 + 3
    assert indexer.store.current_name() == first_generation  # web-1 rebuilt nothing
    assert find("cykelsti").total == before  # web-1 has not run since: serves what it had
    indexer.run_once()
    assert find("cykelsti").total == before + 3


def test_an_index_deleted_while_the_node_serves_is_rebuilt(corpus, indexer, client, make_post, app):
    indexer.run_once()
    old = indexer.store.current_name()
    store = search.state(app).store
    shutil.rmtree(store.root)
    make_post(corpus["topics"]["harbour"], body="Havnebad skrevet mens indekset manglede.")
    r = client.get("/soeg?q=havnebad")
    assert r.status_code == 503 and r.headers["Retry-After"] == "60"
    assert client.get(f"/emner/{corpus['topics']['harbour'].id}").status_code == 200
    indexer.run_once()  # the same writer: rebuilds into a new directory
    assert indexer.is_writer and (store.root / "WRITER").exists()
    r = client.get("/soeg?q=havnebad")
    assert r.status_code == 200
    assert "mens indekset manglede" in r.get_data(as_text=True)
    (row,) = rows()["web-1"]  # the gone generation's row went with it
    assert row.generation != old and row.in_use


def test_a_second_writer_cannot_lock_a_deleted_and_remade_directory(corpus, app, indexer):
    indexer.run_once()
    shutil.rmtree(indexer.store.root)
    other = Indexer(app)
    try:
        assert other.acquire()  # the lock went with the directory: the new one is free
        assert not indexer.acquire()  # and the old writer notices instead of writing on
        assert indexer.run_once() == 0
    finally:
        other.close()


def test_saved_searches_hear_once_however_many_nodes_index(corpus, indexer, node, make_post):
    pia = corpus["users"]["pia"]
    second = node("web-2")
    indexer.run_once()
    second.run_once()
    services.save_search(pia, "Havnebad", {"q": "havnebad"})
    db.session.commit()
    post = make_post(corpus["topics"]["harbour"], body="Et havnebad mere, tak.")
    # Both nodes index the post; whichever is first tells, the other finds it told.
    second.run_once()
    indexer.run_once()
    notes = list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == pia.id, Notification.kind == services.NOTIFICATION_KIND
            )
        )
    )
    assert [n.post_id for n in notes] == [post.id]


def test_a_cursor_from_before_nodes_is_taken_over_and_forget_drops_a_node(
    corpus, indexer, node, runner
):
    indexer.run_once()
    row = db.session.get(SearchCursor, indexer.store.current_name())
    row.node, row.in_use = "", False  # as the migration leaves an existing row
    db.session.commit()
    indexer.run_once()
    (row,) = rows()["web-1"]
    assert row.in_use
    node("web-9").run_once()
    out = runner.invoke(args=["search", "forget", "web-9"])
    assert out.exit_code == 0 and "Forgot 1 cursor rows of node web-9." in out.output
    assert set(rows()) == {"web-1"}
    out = runner.invoke(args=["search", "forget", "web-1"])
    assert out.exit_code != 0 and "is this node" in out.output
