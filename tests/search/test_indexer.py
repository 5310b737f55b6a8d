"""Never lose an update: the indexer follows the event log, survives crashes, rebuilds."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import search
from app import create_app
from forum import eventlog
from forum import services as forum_services
from forum.extensions import db
from forum.models import Event, Post, PostState, Topic
from search import index
from search.indexer import Indexer, running_thread, start_thread, stop_thread
from search.models import SearchCursor

from ..conftest import ROOT, _config
from .conftest import set_state


def cursor_of(app) -> SearchCursor:
    name = search.state(app).store.current_name()
    db.session.expire_all()
    return db.session.get(SearchCursor, name)


def fresh_fingerprint(app, directory: Path) -> dict:
    """What a full rebuild from the database makes, in a directory of its own."""
    saved = app.config["SEARCH_INDEX_DIR"]
    app.config["SEARCH_INDEX_DIR"] = str(directory)
    try:
        builder = Indexer(app)
        result = builder.rebuild(notify=False)
        return index.fingerprint(builder.store.open(result.generation))
    finally:
        app.config["SEARCH_INDEX_DIR"] = saved


def current_fingerprint(app) -> dict:
    store = search.state(app).store
    return index.fingerprint(store.open(store.current_name()))


def test_the_indexer_follows_new_posts_edits_and_state_changes(
    make_topic, make_post, make_committee, reindex, texts, app
):
    topic = make_topic(committee=make_committee(), title="Legepladsen", intro="Hvad mangler?")
    post = make_post(topic, body="Gyngerne er gået i stykker.")
    reindex()  # the first run builds the index from the database
    assert texts("gynger") == ["Gyngerne er gået i stykker."]
    forum_services.edit_post(post.author, post, "Rutsjebanen er gået i stykker.")
    db.session.commit()
    reindex()
    assert texts("gynger") == [] and texts("rutsjebane") == ["Rutsjebanen er gået i stykker."]
    set_state(post, PostState.HIDDEN)
    reindex()
    assert texts("rutsjebane") == []
    assert (
        index.fingerprint(search.state(app).store.open(search.state(app).store.current_name()))[
            "p1"
        ]["stored"]["vis"]
        == "restricted"
    )
    set_state(post, PostState.PUBLISHED)
    reindex()
    assert texts("rutsjebane") == ["Rutsjebanen er gået i stykker."]
    forum_services.delete_post(post.author, post)
    db.session.commit()
    reindex()
    assert "p1" not in current_fingerprint(app)


def test_the_cursor_moves_and_only_new_events_are_read(corpus, reindex, app, make_post):
    reindex()
    before = db.session.scalar(select(func.max(Event.id)))
    make_post(corpus["topics"]["road"], body="Endnu et indlæg.")
    new = db.session.scalar(select(func.count(Event.id)).where(Event.id > before))
    assert new >= 3  # created, published, notifications for the followers
    assert reindex() == new
    newest = db.session.scalar(select(func.max(Event.id)))
    cur = cursor_of(app)
    assert cur.last_event_id == cur.high_event_id == newest and cur.gaps == []
    assert reindex() == 0


def test_topic_renames_and_moves_reach_their_posts(
    corpus, reindex, texts, make_committee, make_user
):
    reindex()
    road = corpus["topics"]["road"]
    admin = make_user("admin")
    forum_services.edit_topic(
        admin, road, "Trafiksikkerhed ved Tølløse Skole", road.intro_source, None
    )
    db.session.commit()
    reindex()
    assert corpus["posts"]["english"].body_source in texts("trafiksikkerhed")
    # A move (an admin tool the forum will have): the row changes, a topic event is logged.
    other = make_committee(name="Økonomiudvalget", slug="oekonomi")
    road.committee_id = other.id
    eventlog.record("topic_changed", "topic", road.id, f"topic:{road.id}", {}, admin.id)
    db.session.commit()
    reindex()
    assert len(texts("", udvalg="oekonomi")) == 4  # the topic and its three posts


def test_display_name_changes_reach_the_index(corpus, reindex, texts, make_user):
    reindex()
    before = db.session.scalar(select(func.count(Event.id)))
    make_user(name="Ny Bruger")  # a new account is no change to index
    assert db.session.scalar(select(func.count(Event.id))) == before
    bodil = corpus["users"]["bodil"]
    bodil.display_name = "Bodil Bæk"
    db.session.commit()
    assert db.session.scalar(select(Event.kind).order_by(Event.id.desc()).limit(1)) == (
        "user_changed"
    )
    reindex()
    assert len(texts("Bæk")) == 2 and texts("Borger") == []


def test_a_deleted_topic_takes_its_posts_along(corpus, reindex, texts, app):
    reindex()
    harbour = corpus["topics"]["harbour"]
    harbour_id = harbour.id
    db.session.delete(harbour)
    eventlog.record("topic_deleted", "topic", harbour_id, "moderators", {})
    db.session.commit()
    reindex()
    assert texts("havnebad") == []
    assert {d["stored"]["topic"] for d in current_fingerprint(app).values()} == {
        str(corpus["topics"]["road"].id)
    }


@pytest.mark.parametrize("app_config", [{"SEARCH_GAP_TIMEOUT": 3600}])
def test_an_event_committed_late_is_not_skipped(corpus, reindex, texts, app):
    """PostgreSQL hands out ids before commit: id 11 can commit after id 15 was read."""
    reindex()
    newest = db.session.scalar(select(func.max(Event.id)))
    road = corpus["topics"]["road"]
    late = Post(
        topic_id=road.id,
        author_id=corpus["users"]["karl"].id,
        body_source="Sent svar om parkering.",
        body_html="",
        state=PostState.PUBLISHED,
    )
    db.session.add(late)
    db.session.add(
        Event(
            id=newest + 5,
            kind="support_changed",
            subject_type="post",
            subject_id=corpus["posts"]["havn"].id,
            room="x",
            payload={},
        )
    )
    db.session.commit()
    reindex()
    cur = cursor_of(app)
    assert cur.high_event_id == newest + 5 and cur.last_event_id == newest
    assert [g[0] for g in cur.gaps] == [newest + 1, newest + 2, newest + 3, newest + 4]
    # ... and now the slow transaction commits, with the id it was given back then.
    db.session.add(
        Event(
            id=newest + 1,
            kind="post_published",
            subject_type="post",
            subject_id=late.id,
            room=f"topic:{road.id}",
            payload={"previous_state": "pending"},
        )
    )
    db.session.commit()
    reindex()
    assert texts("parkering") == ["Sent svar om parkering."]
    cur = cursor_of(app)
    assert cur.last_event_id == newest + 1 and len(cur.gaps) == 3


@pytest.mark.parametrize("app_config", [{"SEARCH_GAP_TIMEOUT": 0.01}])
def test_a_gap_that_never_fills_is_given_up(corpus, reindex, app):
    reindex()
    newest = db.session.scalar(select(func.max(Event.id)))
    db.session.add(
        Event(
            id=newest + 3,
            kind="support_changed",
            subject_type="post",
            subject_id=1,
            room="x",
            payload={},
        )
    )
    db.session.commit()
    reindex()
    time.sleep(0.05)
    reindex()
    cur = cursor_of(app)
    assert cur.last_event_id == newest + 3 and cur.gaps == []


def test_a_gap_no_running_transaction_can_fill_is_settled_at_once(
    corpus, reindex, app, monkeypatch
):
    """PostgreSQL: an id missing below the newest one waits only while a transaction that
    began before it was seen still runs (it may commit it); once none does, the cursor moves
    on without waiting SEARCH_GAP_TIMEOUT (a restart's rolled-back transactions held it for
    a minute)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("gaps are settled through pg_stat_activity on PostgreSQL only")
    import psycopg

    from search import indexer as indexer_module

    monkeypatch.setattr(indexer_module, "GAP_CLOCK_MARGIN", 0.0)
    reindex()
    newest = db.session.scalar(select(func.max(Event.id)))
    # Another session's transaction, begun before the gap appears (it could hold that id).
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    other = psycopg.connect(url)
    other.execute("SELECT 1")  # its transaction has begun
    time.sleep(0.05)
    db.session.add(
        Event(id=newest + 3, kind="support_changed", subject_type="post", subject_id=1,
              room="x", payload={})
    )  # fmt: skip
    db.session.commit()
    reindex()
    time.sleep(0.05)
    reindex()
    cur = cursor_of(app)
    assert cur.last_event_id == newest and [g[0] for g in cur.gaps] == [newest + 1, newest + 2]
    other.rollback()  # ended without committing either id
    other.close()
    reindex()
    cur = cursor_of(app)
    assert cur.last_event_id == newest + 3 and cur.gaps == []
    assert app.config["SEARCH_GAP_TIMEOUT"] >= 60  # not the timeout: the settling did it


CRASHING_INDEXER = """
import json, os, signal, sys
sys.path.insert(0, {root!r})
from app import create_app
from search.indexer import Indexer

config, step, at = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
app = create_app(config)
count = 0

def on_step(name, **info):
    global count
    if name == step:
        count += 1
        if count == at:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup of any kind

with app.app_context():
    Indexer(app, on_step=on_step).run_once()
print("finished")
"""


@pytest.mark.parametrize("app_config", [{"SEARCH_BATCH_SIZE": 10, "SEARCH_MAX_BATCH_SIZE": 10}])
def test_killing_the_writer_mid_batch_loses_nothing(
    corpus, indexer, app, tmp_path, database_url, make_post, make_user, texts
):
    """SIGKILL the indexer process in the middle of a batch (documents written, nothing
    committed) and again between the index commit and the cursor commit; restart; the index
    equals a full rebuild."""
    indexer.run_once()
    p, topic = corpus["posts"], corpus["topics"]["road"]
    new = [make_post(topic, body=f"Nyt forslag nummer {i} om fortove.") for i in range(12)]
    for post in new[:4]:
        forum_services.edit_post(post.author, post, post.body_source + " Redigeret.")
    set_state(new[5], PostState.HIDDEN)
    set_state(p["havn"], PostState.REMOVED)
    forum_services.delete_post(new[6].author, new[6])
    forum_services.edit_topic(make_user("admin"), topic, "Fortove og skoleveje", "Hvad nu?", None)
    corpus["users"]["karl"].display_name = "Karl Kræsen"
    db.session.commit()
    indexer.close()  # this process stops being the writer

    script = tmp_path / "crashing_indexer.py"
    script.write_text(CRASHING_INDEXER.format(root=str(ROOT)))
    config = {
        k: app.config[k]
        for k in (
            "TESTING",
            "SECRET_KEY",
            "SQLALCHEMY_DATABASE_URI",
            "SEARCH_INDEX_DIR",
            "SEARCH_BATCH_SIZE",
            "SEARCH_MAX_BATCH_SIZE",
            "MODERATION_ENABLED",
        )
    }
    config["INSTANCE_PATH"] = str(tmp_path / "crash-instance")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = cursor_of(app).last_event_id
    for step, at in (("doc_written", 5), ("index_committed", 2)):
        run = subprocess.run(
            [sys.executable, str(script), json.dumps(config), step, str(at)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == -9, run.stderr[-2000:]
        assert "finished" not in run.stdout
    assert before < cursor_of(app).last_event_id < db.session.scalar(select(func.max(Event.id)))

    assert Indexer(app).run_once() > 0  # the restart: resumes from its cursor
    assert current_fingerprint(app) == fresh_fingerprint(app, tmp_path / "fresh")
    assert cursor_of(app).last_event_id == db.session.scalar(select(func.max(Event.id)))
    # 12 new (one hidden, one deleted), the road's 3 older posts (their topic's new title),
    # and the topic itself
    assert len(texts("fortove")) == 10 + 3 + 1
    assert texts("Kræsen") and not texts("Kritisk")


def test_rebuild_swaps_in_while_searches_keep_working(
    corpus, reindex, app, find, make_post, runner
):
    reindex()
    store = search.state(app).store
    old = store.current_name()
    during = []

    def on_step(step, **info):
        if step == "rebuild_batch" and not during:
            during.append(find("havnebad").total)  # the old generation still answers
            make_post(corpus["topics"]["harbour"], body="Havnebad skrevet under rebuild.")

    rebuilder = Indexer(app, on_step=on_step)
    result = rebuilder.rebuild()
    assert during and during[0] == 2
    assert store.current_name() == result.generation != old
    assert result.replaced == old and (store.root / old).is_dir()  # kept one generation back
    assert find("havnebad").total == 3  # caught up with what was written meanwhile
    out = runner.invoke(args=["search", "rebuild"])
    assert out.exit_code == 0, out.output
    assert "Rebuilt:" in out.output
    assert not (store.root / old).exists()  # two generations back: removed
    assert len(store.generations()) == 2
    assert find("havnebad").total == 3


def test_status_and_worker_commands(corpus, runner, app, caplog, make_post, monkeypatch):
    # An in-process migration earlier on this worker (Alembic's fileConfig) disables the
    # loggers that existed then; a real worker process runs none.
    monkeypatch.setattr(logging.getLogger("borgerdialog.search"), "disabled", False)
    out = runner.invoke(args=["search", "status"])
    assert "Health: missing" in out.output
    out = runner.invoke(args=["search", "worker", "--once"])
    assert out.exit_code == 0, out.output
    make_post(corpus["topics"]["road"], body="Et indlæg efter opbygningen.")
    with caplog.at_level(logging.INFO, logger="borgerdialog.search"):
        out = runner.invoke(args=["search", "worker", "--once"])
    assert out.exit_code == 0, out.output
    # Logged with its time (the log's timestamp) and how long it took.
    assert any(re.fullmatch(r"Indexed \d+ events in \d+\.\d\d s\.", r.getMessage())
               for r in caplog.records)  # fmt: skip
    out = runner.invoke(args=["search", "status"])
    assert "Documents: 8" in out.output
    assert "(lag 0 events" in out.output
    assert "Index size:" in out.output


def test_a_standby_warms_up_without_writing(app, corpus, make_post):
    """A standby goes through the newest posts as a first batch would (loading, analysing,
    finding their ids in the index), so taking over is not followed by a slow cold batch;
    it writes nothing and stays a standby."""
    from search import language

    first, second = Indexer(app), Indexer(app)
    try:
        first.run_once()
        make_post(corpus["topics"]["road"], body="Cyklerne på havnefronten.")
        with app.app_context():
            count = index.doc_count(first.store.current()[1])
        language.fold.cache_clear()
        assert second.warm_up() > 0 and not second.is_writer
        assert language.fold.cache_info().currsize > 0  # words analysed (cached per process)
        with app.app_context():
            assert index.doc_count(second.store.current()[1]) == count  # nothing written
        assert first.run_once() > 0  # the writer still writes
    finally:
        first.close()
        second.close()


def test_only_one_writer_at_a_time(app, corpus, make_post):
    first, second = Indexer(app), Indexer(app)
    try:
        first.run_once()
        assert first.is_writer
        make_post(corpus["topics"]["road"], body="Et indlæg mere.")
        assert second.run_once() == 0 and not second.is_writer  # a standby: does nothing
        first.close()
        assert second.run_once() > 0 and second.is_writer
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("damage", ["missing", "unreadable", "old_schema"])
def test_an_unusable_index_is_reported_and_rebuilt(
    damage, corpus, indexer, app, client, caplog, database_url, tmp_path, monkeypatch
):
    # Alembic's fileConfig() (a migration test earlier in the run) disables existing loggers.
    monkeypatch.setattr(logging.getLogger("app"), "disabled", False)
    indexer.run_once()
    indexer.close()
    store = search.state(app).store
    name = store.current_name()
    if damage == "missing":
        (store.root / "CURRENT").unlink()
    elif damage == "unreadable":
        for toc in (store.root / name).glob("*.toc"):
            toc.write_bytes(b"not a whoosh table of contents")
    else:
        meta = json.loads((store.root / name / index.META_FILE).read_text())
        meta["schema_version"] = index.SCHEMA_VERSION - 1
        (store.root / name / index.META_FILE).write_text(json.dumps(meta))
    store.forget(name)
    search.state(app).close()
    with caplog.at_level(logging.WARNING):
        other = create_app(
            _config(database_url, tmp_path / "other", SEARCH_INDEX_DIR=str(store.root))
        )
    search.state(other).close()
    assert any(
        "Search index" in r.getMessage() and "rebuilt" in r.getMessage() for r in caplog.records
    ), caplog.text
    r = client.get("/soeg?q=havnebad")
    assert r.status_code == 503 and r.headers["Retry-After"] == "60"
    assert "Search is being rebuilt" in r.get_data(as_text=True)
    restarted = Indexer(app)  # the writer after a restart checks the index thoroughly
    try:
        restarted.run_once()
    finally:
        restarted.close()
    r = client.get("/soeg?q=havnebad")
    assert r.status_code == 200 and "Havnebadet" in r.get_data(as_text=True)


@pytest.fixture
def thread_app(app_config):
    return app_config


@pytest.mark.parametrize(
    "app_config", [{"SEARCH_THREAD_WHEN_TESTING": True, "SEARCH_POLL_INTERVAL": 0.05}]
)
def test_the_embedded_thread_builds_and_follows_by_itself(
    app, make_topic, make_post, find, make_committee
):
    try:
        thread = running_thread()
        assert thread is not None and thread.app is app
        assert start_thread(app) is None  # never twice per process
        topic = make_topic(committee=make_committee(), title="Vinterbadning", intro="Hvor?")
        make_post(topic, body="Vinterbadning ved stranden er skønt.")
        deadline = time.monotonic() + 60  # generous: the machine may be busy
        while time.monotonic() < deadline:
            page = find("vinterbadning")
            if not page.unavailable and page.total == 2:
                break
            time.sleep(0.05)
        assert page.total == 2
    finally:
        stop_thread()
    assert running_thread() is None


def test_the_thread_does_not_start_in_tests_unless_asked(app):
    assert running_thread() is None
    assert db.session.scalar(select(func.count(Topic.id))) == 0
