"""The indexer: the one writer of the search index, following the event log.

Each batch reads events after the generation's cursor (``SearchCursor``), loads the current
state of every post and topic they touch from the database, writes those documents to Whoosh
and commits there, tells saved searches about newly published posts, then moves the cursor
and commits the database. A crash anywhere in between repeats the batch on restart: every step
is idempotent (documents are replaced from the database, never patched; notifications are not
sent twice), so the index ends up as a full rebuild would make it.

Every node keeps its own index (its own ``SEARCH_INDEX_DIR``, no shared disk) and runs its
own indexer, with its own cursor rows named by the node (``SEARCH_NODE``): a new node finds no
index, builds one from the database and then follows the log; a node whose index directory is
deleted rebuilds it the same way while its searches answer 503 meanwhile. Saved-search
notifications are told once however many nodes index the same post (``_one_notifier``).

Who runs it: in the embedded default a daemon thread in the app process (``start_thread``,
woken at once by the forum's after-commit hook, and polling as a fallback); in production
``flask --app app search worker`` as its own process (``SEARCH_WORKER = "external"`` in the
app config). Either way a file lock makes sure only one of them writes at a time; any other
waits as a standby.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, false, func, inspect, or_, select, text, update

from forum import hooks, uow
from forum.extensions import db
from forum.models import Event, Post, User, utcnow

from . import documents
from .index import ROLE_LOCK, IndexStore, Writer, to_fields
from .models import SearchCursor

log = logging.getLogger("borgerdialog.search")

USER_CHANGED = "user_changed"
# Event kinds about a post that change nothing the index holds.
IGNORED_POST_KINDS = frozenset({"support_changed"})
# Fields of a topic document that its posts' documents repeat.
TOPIC_FIELDS_IN_POSTS = ("title", "committee", "area", "vis")
MAX_GAPS = 10_000
# Seconds of clock difference allowed between this process and PostgreSQL when settling gaps.
GAP_CLOCK_MARGIN = 2.0
# pg_advisory_xact_lock key held while a batch tells saved searches about new contributions.
NOTIFY_LOCK = 0x5EA2C4

Step = Callable[..., None]


@dataclass
class _Targets:
    posts: set[int] = field(default_factory=set)
    topics: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)
    newly_published: set[int] = field(default_factory=set)
    newly_opened: set[int] = field(default_factory=set)  # topics
    # Items of other packages' search sources (forum.hooks.SearchSource), per kind.
    others: dict[str, set[int]] = field(default_factory=dict)
    source_kinds: dict[str, str] = field(default_factory=dict)  # subject_type -> kind

    def add(self, ev: Event) -> None:
        if ev.kind == "notification":
            return
        kind = self.source_kinds.get(ev.subject_type)
        if kind is not None and ev.subject_id is not None:
            self.others.setdefault(kind, set()).add(ev.subject_id)
            return
        if ev.subject_type == "post":
            if ev.kind in IGNORED_POST_KINDS:
                return
            self.posts.add(ev.subject_id)
            payload = ev.payload or {}
            if ev.kind == "post_published" and payload.get("previous_state") == "pending":
                self.newly_published.add(ev.subject_id)
        elif ev.subject_type == "topic":
            self.topics.add(ev.subject_id)
            if ev.kind == "topic_opened":  # a new topic, or a citizen's proposal accepted
                self.newly_opened.add(ev.subject_id)
        elif ev.subject_type == "user" and ev.kind == USER_CHANGED:
            self.users.add(ev.subject_id)


@dataclass
class RebuildResult:
    generation: str
    documents: int
    seconds: float
    replaced: str | None


class Indexer:
    """Applies the event log to the current index generation; rebuilds it when unusable."""

    def __init__(self, app: Flask, on_step: Step | None = None) -> None:
        self.app = app
        self.node = str(app.config["SEARCH_NODE"])
        self.store = IndexStore(app.config["SEARCH_INDEX_DIR"])
        self.batch_size = int(app.config["SEARCH_BATCH_SIZE"])
        self.max_batch_size = max(self.batch_size, int(app.config["SEARCH_MAX_BATCH_SIZE"]))
        self._limit = self.batch_size
        self.gap_timeout = float(app.config["SEARCH_GAP_TIMEOUT"])
        self.on_step: Step = on_step or (lambda step, **info: None)
        self._role = None
        self._suspect = True  # check the index thoroughly on the first run

    # --- the writer role ------------------------------------------------------------------

    def acquire(self) -> bool:
        """Become the one writer if nobody else is (never blocks)."""
        if self._role is not None and not self._lock_still_ours():
            # The index directory was deleted under us (to rebuild it while the node serves):
            # our lock went with it, so another writer may hold the new directory's.
            log.warning("The search index directory was removed; taking the writer role anew.")
            self._role.release()
            self._role = None
        if self._role is not None:
            return True
        lock = self.store.role_lock()
        if lock.acquire(blocking=False):
            self._role = lock
            return True
        return False

    def _lock_still_ours(self) -> bool:
        fd = getattr(self._role, "fd", None)
        if fd is None:
            return True  # a lock kind without a file: nothing to compare
        try:
            return os.fstat(fd).st_ino == os.stat(self.store.root / ROLE_LOCK).st_ino
        except OSError:
            return False

    @property
    def is_writer(self) -> bool:
        return self._role is not None

    def close(self) -> None:
        if self._role is not None:
            self._role.release()
            self._role = None

    @contextmanager
    def _context(self):
        same = has_app_context() and current_app._get_current_object() is self.app
        with nullcontext() if same else self.app.app_context():
            yield

    def warm_up(self, posts: int = 200) -> int:
        """For a standby (never writes): do once what a writer's first batch does cold — the
        database connection, loading the newest posts' documents, analysing and stemming
        their words (cached per process), finding their ids in the index — so that taking
        over is not followed by a slow first batch. Measured cold at load 14: 2.5 s of a
        first batch of 40 posts, 0.2 s warm. Returns the documents it went through."""
        with self._context():
            try:
                health = self.store.health_cached()
                if not health.ok:
                    return 0
                ix = self.store.open(health.generation)
                ids = db.session.scalars(select(Post.id).order_by(Post.id.desc()).limit(posts))
                loaded = documents.load(set(ids), set())
                with ix.searcher() as searcher:
                    for doc in loaded.docs:
                        searcher.document_number(id=doc["id"])
                        for name, value in to_fields(doc).items():
                            if isinstance(value, str) and name in ix.schema:
                                for _term in ix.schema[name].index(value):
                                    pass
                return len(loaded.docs)
            finally:
                db.session.rollback()

    # --- following the log ----------------------------------------------------------------

    def run_once(self, max_batches: int | None = None) -> int:
        """Apply every pending event (after a rebuild if the index is unusable).

        Returns the number of events applied; 0 also when another writer holds the role.
        """
        with self._context():
            if not self.acquire():
                return 0
            health = self.store.health() if self._suspect else self.store.health_cached()
            self._suspect = False
            if not health.ok:
                log.warning(
                    "Search index unusable (%s: %s); rebuilding it from the database.",
                    health.reason,
                    health.detail,
                )
                self.rebuild(notify=True)
            name, ix = self.store.current()
            if db.session.get(SearchCursor, name) is None:
                log.warning("Search index %s has no cursor in this database; rebuilding.", name)
                self.rebuild(notify=True)
                name, ix = self.store.current()
            self._claim(name)
            total, batches = 0, 0
            try:
                while max_batches is None or batches < max_batches:
                    n = self._apply_batch(name, ix, notify=True)
                    total += n
                    batches += 1
                    if n == 0 or self.store.current_name() != name:
                        break
            except Exception:
                db.session.rollback()
                self._suspect = True  # next time, open the index fully before trusting it
                raise
            return total

    def _apply_batch(self, name: str, ix, notify: bool) -> int:
        cur = db.session.get(SearchCursor, name)
        gaps = {int(g): float(t) for g, t in (cur.gaps or [])}
        # Before reading the events: gaps seen before every transaction still running began
        # are settled (read below if they committed, never there if they rolled back).
        settled = _settled_before() if gaps else None
        events = list(
            db.session.scalars(
                select(Event)
                .where(
                    or_(Event.id > cur.high_event_id, Event.id.in_(list(gaps)) if gaps else false())
                )
                .order_by(Event.id)
                .limit(self._limit)
            )
        )
        # A backlog (after downtime, a rebuild, a bulk import) goes in bigger batches: each
        # commit costs a segment and a merge. Live traffic keeps batches small and fresh.
        self._limit = (
            min(self._limit * 2, self.max_batch_size)
            if len(events) >= self._limit
            else self.batch_size
        )
        now = time.time()
        if not events:
            if gaps and self._advance(cur, gaps, [], now, settled):
                db.session.commit()
            else:
                db.session.rollback()  # end the read transaction
            return 0
        self.on_step("batch_read", events=len(events))
        targets = _Targets(
            source_kinds={s.subject_type: s.kind for s in hooks.search_sources().values()}
        )
        for ev in events:
            targets.add(ev)
        loaded = self._load(targets, ix)
        writer = Writer(ix)
        try:
            for doc in loaded.docs:
                writer.upsert(doc)
                self.on_step("doc_written", doc_id=doc["id"], count=writer.count)
            for doc_id in loaded.deleted:
                if doc_id.startswith("t"):
                    # A topic gone from the database took its posts (no events for them).
                    writer.delete_topic(doc_id[1:])
                else:
                    writer.delete(doc_id)
                self.on_step("doc_written", doc_id=doc_id, count=writer.count)
            self.on_step("before_index_commit")
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        self.on_step("index_committed")
        if notify and (targets.newly_published or targets.newly_opened):
            from . import services

            fresh = [
                d
                for d in loaded.docs
                if d["vis"] == "public"
                and d["kind"] in (documents.POST, documents.TOPIC)
                and int(d["pk"])
                in (
                    targets.newly_published if d["kind"] == documents.POST else targets.newly_opened
                )
            ]
            _one_notifier()
            services.notify_saved_searches(fresh)
        self._advance(cur, gaps, [ev.id for ev in events], now, settled)
        db.session.commit()
        self.on_step("db_committed")
        return len(events)

    def _claim(self, name: str) -> None:
        """Mark ``name`` as the generation this node's searches read, and no other row of the
        node (a cursor from before nodes had names is taken over by the node holding it)."""
        cur = db.session.get(SearchCursor, name)
        if cur.node == self.node and cur.in_use:
            return
        db.session.execute(
            update(SearchCursor)
            .where(SearchCursor.node == self.node, SearchCursor.generation != name)
            .values(in_use=False)
        )
        cur.node, cur.in_use, cur.index_dir = self.node, True, str(self.store.root)
        db.session.commit()

    def _load(self, t: _Targets, ix) -> documents.Loaded:
        posts, topics = set(t.posts), set(t.topics)
        if t.users:
            user_posts, user_topics = documents.content_of_users(t.users)
            posts.update(user_posts)
            topics.update(user_topics)
            for kind, source in hooks.search_sources().items():
                t.others.setdefault(kind, set()).update(source.ids_by_authors(sorted(t.users)))
        loaded = documents.load(posts, topics, t.others)
        # A renamed, moved, hidden or reopened topic: its posts repeat those fields. (A topic
        # not in the index yet has no posts there: each of its posts has its own events.)
        changed = []
        topic_docs = [
            d for d in loaded.docs if d["kind"] == documents.TOPIC and int(d["pk"]) in t.topics
        ]
        if topic_docs:
            with ix.searcher() as searcher:
                for doc in topic_docs:
                    old = searcher.document(id=doc["id"])
                    if old is not None and any(
                        old.get(k) != doc.get(k) for k in TOPIC_FIELDS_IN_POSTS
                    ):
                        changed.append(int(doc["pk"]))
        extra = set(documents.post_ids_of_topics(changed)) - posts
        if extra:
            more = documents.load(extra)
            loaded.docs += more.docs
            loaded.deleted += more.deleted
        # Other packages' items of a changed topic repeat its fields too (outcomes).
        items_of_changed = {}
        for kind, source in hooks.search_sources().items() if changed else ():
            ids = set(source.ids_of_topics(changed)) - t.others.get(kind, set())
            if ids:
                items_of_changed[kind] = ids
        if items_of_changed:
            more = documents.load(others=items_of_changed)
            loaded.docs += more.docs
            loaded.deleted += more.deleted
        return loaded

    def _advance(
        self,
        cur: SearchCursor,
        gaps: dict[int, float],
        ids: list[int],
        now: float,
        settled: float | None = None,
    ) -> bool:
        """Move the cursor past ``ids``; remember unseen ids below them as gaps for a while
        (until ``SEARCH_GAP_TIMEOUT``, or until no transaction that may still commit them
        runs: ``settled``, see ``_settled_before``)."""
        before = (cur.last_event_id, cur.high_event_id, len(gaps))
        seen = set(ids)
        for g in [g for g in gaps if g in seen]:
            del gaps[g]
        if settled is not None:
            for g, first_seen in list(gaps.items()):
                if first_seen < settled - GAP_CLOCK_MARGIN:
                    del gaps[g]  # its transaction ended without committing it
        high = max([cur.high_event_id, *ids])
        for missing in range(cur.high_event_id + 1, high):
            if missing not in seen:
                gaps[missing] = now
        for g, first_seen in list(gaps.items()):
            if now - first_seen >= self.gap_timeout:
                del gaps[g]  # a rolled-back transaction: that id will never appear
        if len(gaps) > MAX_GAPS:
            for g in sorted(gaps)[: len(gaps) - MAX_GAPS]:
                del gaps[g]
        cur.high_event_id = high
        cur.last_event_id = min(gaps) - 1 if gaps else high
        cur.gaps = [[g, gaps[g]] for g in sorted(gaps)]
        cur.updated_at = utcnow()
        return before != (cur.last_event_id, cur.high_event_id, len(gaps))

    # --- rebuilding -----------------------------------------------------------------------

    def _starting_cursor(self) -> tuple[int, list]:
        """Where a generation built from the database now should start following the log.

        Everything up to the newest event is in the rows we are about to read, except events
        of transactions still running: their ids are missing below the newest one, so they
        start out as gaps and are applied when they commit.
        """
        newest = db.session.scalar(select(func.max(Event.id))) or 0
        recent = set(
            db.session.scalars(select(Event.id).where(Event.id > max(0, newest - MAX_GAPS)))
        )
        now = time.time()
        gaps = (
            [[i, now] for i in range(max(1, newest - MAX_GAPS + 1), newest) if i not in recent]
            if self.gap_timeout > 0
            else []
        )
        return newest, gaps

    def rebuild(
        self,
        progress: Callable[[int], None] | None = None,
        notify: bool = True,
        on_total: Callable[[int], None] | None = None,
        procs: int = 1,
    ) -> RebuildResult:
        """Build a new generation from the database, catch up with the log, swap it in.

        Searches keep using the old generation until the swap. ``notify``: tell saved
        searches about posts published while catching up (only when no other writer is
        following the log into the old generation — it does that). ``procs`` > 1 analyses
        in that many processes (Whoosh's multiprocessing writer; only from a command, never
        from the app's indexer thread: forking a process that runs threads is unsafe).
        """
        with self._context():
            started = time.monotonic()
            newest, gaps = self._starting_cursor()
            db.session.rollback()
            total = documents.count_all()
            if on_total:
                on_total(total)
            name, ix = self.store.create_generation()
            if procs > 1:
                writer = Writer(
                    ix, procs=procs, multisegment=True, limitmb=256, subargs={"limitmb": 256}
                )
            else:
                writer = Writer(ix, limitmb=256)
            count = 0
            try:
                for docs in documents.iter_all():
                    for doc in docs:
                        writer.add(doc)
                    count += len(docs)
                    if progress:
                        progress(len(docs))
                    self.on_step("rebuild_batch", count=count)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            db.session.rollback()
            self.store.mark_complete(name)
            last = min((g for g, _t in gaps), default=newest + 1) - 1
            db.session.add(
                SearchCursor(
                    generation=name,
                    node=self.node,
                    index_dir=str(self.store.root),
                    in_use=False,
                    last_event_id=last,
                    high_event_id=newest,
                    gaps=gaps,
                )
            )
            db.session.commit()
            while self._apply_batch(name, ix, notify=notify):
                pass
            replaced = self.store.swap(name)
            removed = self.store.remove_old(keep={name, replaced} - {None})
            if removed:
                db.session.execute(delete(SearchCursor).where(SearchCursor.generation.in_(removed)))
            # Rows of generations gone from this node's disk (a deleted index directory).
            db.session.execute(
                delete(SearchCursor).where(
                    SearchCursor.node == self.node,
                    SearchCursor.index_dir == str(self.store.root),
                    SearchCursor.generation.not_in(self.store.generations()),
                )
            )
            self._claim(name)
            db.session.commit()
            seconds = time.monotonic() - started
            log.info(
                "Search index rebuilt: %d documents in %.1f s (generation %s).",
                count,
                seconds,
                name,
            )
            return RebuildResult(name, count, seconds, replaced)


def _settled_before() -> float | None:
    """On PostgreSQL: the time (epoch seconds) the oldest transaction still running in this
    database began (now when none does), other than ours.

    An event id missing below the newest one (a gap) was handed out by a transaction that
    began before the gap was first seen. Once every transaction running began after that, the
    one that took the id has ended: committed (the event is visible to the next statement,
    which reads the events) or rolled back — a PostgreSQL restart, a killed instance — and
    the id will never appear. Waiting ``SEARCH_GAP_TIMEOUT`` (60 s) for those held the cursor,
    and so the catch-up after such faults, for a minute. None elsewhere (SQLite has one writer;
    the timeout alone applies)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    try:
        with db.session.begin_nested():
            return float(
                db.session.scalar(
                    text(
                        "SELECT extract(epoch FROM coalesce(min(xact_start), clock_timestamp())) "
                        "FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                    )
                )
            )
    except Exception:  # not allowed to read the view: the timeout alone applies
        log.debug("pg_stat_activity is not readable; gaps wait for SEARCH_GAP_TIMEOUT")
        return None


def _one_notifier() -> None:
    """Every node indexes every new post and would tell saved searches about it: on
    PostgreSQL the nodes take turns here (a lock held until the batch commits), so the
    second finds the first one's notifications and skips them
    (``services.notify_saved_searches`` never tells twice). SQLite has one writer anyway."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": NOTIFY_LOCK})


# --- display-name, role and party changes ------------------------------------------------------

_NEW_USERS = "search.new_users"


def record_user_changes(unit: uow.Unit, _events) -> None:
    """In the flush: log an event when an indexed field of an existing user changes.

    The forum writes no event when a display name, role or party changes, but posts carry
    them in the index; this handler (search's own, the forum knows nothing of it) adds a
    ``user_changed`` event to the log so the indexer re-indexes that user's contributions.
    Users created in the same unit of work are indexed with their posts anyway.
    """
    session = unit.session
    new_users = unit.state.setdefault(_NEW_USERS, {})
    for obj in session.new:
        if isinstance(obj, User):
            new_users[id(obj)] = obj  # kept alive with the unit, so the id stays unique
    for obj in list(session.dirty):
        if not isinstance(obj, User) or obj.id is None or id(obj) in new_users:
            continue
        state = inspect(obj)
        changed = [
            name
            for name in ("display_name", "role", "party")
            if state.attrs[name].history.has_changes()
        ]
        if changed:
            session.add(
                Event(
                    kind=USER_CHANGED,
                    subject_type="user",
                    subject_id=obj.id,
                    room="search",
                    payload={"fields": changed},
                )
            )


def install(app: Flask) -> None:
    """Register user-change events and waking the indexer thread with the unit of work."""
    uow.register(app, "search.user_changes", record_user_changes)
    uow.register(app, "search.wake", _wake)


# --- the embedded thread ------------------------------------------------------------------------


class IndexerThread(threading.Thread):
    """Runs the indexer in the app process until stopped; never lets an error escape."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="search-indexer", daemon=True)
        self.app = app
        self.poll = float(app.config["SEARCH_POLL_INTERVAL"])
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.indexer: Indexer | None = None

    def run(self) -> None:
        delay = 0.0
        try:
            self.indexer = Indexer(self.app)
            while not self.stopping.is_set():
                if delay:
                    self.wake.wait(delay)
                self.wake.clear()
                if self.stopping.is_set():
                    break
                try:
                    n = self.indexer.run_once()
                    if not self.indexer.is_writer:
                        # Standby: another process or thread writes; take over soon after
                        # it dies (its lock goes with it).
                        delay = float(self.app.config["SEARCH_STANDBY_POLL"])
                    else:
                        delay = 0.0 if n else self.poll
                except Exception:
                    log.exception("The search indexer failed; it retries shortly.")
                    delay = min(max(delay * 2, 1.0), 60.0)
        finally:
            if self.indexer is not None:
                self.indexer.close()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.wake.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)


_thread: IndexerThread | None = None
_thread_lock = threading.Lock()


def _wake(_unit, events) -> None:
    t = _thread
    if not events:
        return
    if t is not None:
        t.wake.set()


def start_thread(app: Flask) -> IndexerThread | None:
    """Start the indexer thread unless one already runs in this process."""
    global _thread
    with _thread_lock:
        if _thread is not None and _thread.is_alive():
            if _thread.app is not app:
                log.info(
                    "A search indexer thread already runs in this process; not starting "
                    "a second one."
                )
            return None
        _thread = IndexerThread(app)
        _thread.start()
        return _thread


def stop_thread(timeout: float = 10.0) -> None:
    global _thread
    with _thread_lock:
        t, _thread = _thread, None
    if t is not None:
        t.stop(timeout)


def running_thread() -> IndexerThread | None:
    return _thread if _thread is not None and _thread.is_alive() else None
