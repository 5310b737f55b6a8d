"""Notifying a newly public post's readers behind the commit (docs/ARCHITECTURE.md, "The
write path").

Publishing a post costs the same whatever the number of followers: the transaction that
publishes it (``post_published`` from pending, written by ``services.publish_post``) gets one
``FanoutJob`` row from the unit of work's ``forum.fanout`` flush handler, in the same flush as
the event, so the job commits or rolls back with the post. After the commit the fan-out worker
writes what the request used to write itself: one ``Notification`` per recipient (the parent's
author, ``reply``, then every follower of the topic, ``followed_topic``, never the author) and
one ``notification`` event each, to which the unit of work's other handlers add the mail items
(``mail.queue``, same flush), the unread counts (``live.read_facts``) and the live push to
``user:<id>`` (``live.push``) as for any notification.

Why a job row written with the post rather than a cursor over the event log (as the search
indexer keeps): on PostgreSQL an event id is handed out before its transaction commits, so a
cursor can pass an id whose post commits later and needs the indexer's gap bookkeeping; a row
in the post's own transaction is found exactly when the post is committed (the same reasoning
as mail/feed.py's). The job's progress is the cursor: ``recipient_after``, the last follower
(by user id) told, moved in the same transaction as each batch of at most
``FANOUT_BATCH_SIZE`` recipients. A worker that dies mid-batch loses that batch's transaction
and the next run does that batch again; nobody is told twice (the batch and the cursor commit
together, ``FanoutJob.version`` refuses a second worker's stale batch, and a unique index on
notifications of these kinds per post and recipient is the last line).

Visibility: a job whose post is no longer published (hidden, deleted, sent back to pending by
an edit) or whose topic is no longer public when the worker reaches it tells nobody and is
closed with the reason in ``skipped``. A held post has no job until a moderator approves it;
approving it is the ``post_published`` from pending that makes the job, so its readers hear of
it once, then. A post approved again after an edit sent it back to pending gets a second job,
which finds everyone told already.

Who runs it (``FANOUT_WORKER``, as ``SEARCH_WORKER`` and ``MAIL_WORKER``): "thread" (the
embedded default) a daemon thread in the app, woken by the ``forum.fanout_wake`` after-commit
handler and polling every ``FANOUT_POLL_INTERVAL`` seconds as a fallback; "external" (the
production default) ``flask --app app fanout worker`` as its own process
(deploy/systemd/borgerdialog-fanout.service), polling. Any number may run: on PostgreSQL each
takes the oldest job nobody holds (``FOR UPDATE SKIP LOCKED``). Under ``TESTING`` no thread
runs; the after-commit handler drains the jobs at once in the same thread
(``FANOUT_DRAIN_WHEN_TESTING``, default true), so a test sees the notifications right after
its commit, as it did when the request wrote them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from . import eventlog, uow
from .extensions import db
from .models import POST_FANOUT_KINDS, FanoutJob, Follow, Notification, Post, PostState, utcnow

log = logging.getLogger("borgerdialog.fanout")

# FANOUT_WORKER, FANOUT_BATCH_SIZE, FANOUT_POLL_INTERVAL and FANOUT_DRAIN_WHEN_TESTING are
# declared with the core's settings (forum/config.py, CORE) and read under its one rule.
WAKE = "forum.fanout.wake"
_local = threading.local()  # .draining: this thread is inside drain() (no nested drains)


# --- in the publishing transaction ------------------------------------------------------------


def queue_jobs(unit: uow.Unit, events: list) -> None:
    """In the flush: a job for each post made public for the first time (from pending)."""
    for ev in events:
        if (ev.payload or {}).get("previous_state") != PostState.PENDING.value:
            continue
        if ev.subject_type != "post":
            continue
        unit.session.add(FanoutJob(event=ev, post_id=ev.subject_id, created_at=utcnow()))
        unit.state[WAKE] = True


def wake(unit: uow.Unit, _events) -> None:
    """After the commit: wake the worker thread (or, under tests, do the work now)."""
    if not unit.state.get(WAKE):
        return
    app = unit.session.app
    t = _thread
    if t is not None and t.is_alive() and t.app is app:
        t.wake.set()
        return
    if app.config.get("TESTING") and app.config["FANOUT_DRAIN_WHEN_TESTING"]:
        if not getattr(_local, "draining", False):
            drain()


# --- the worker's batches -----------------------------------------------------------------------


@dataclass
class Batch:
    event_id: int
    post_id: int
    told: int
    done: bool
    skipped: str | None = None


def _next_job(session: Session) -> FanoutJob | None:
    stmt = (
        select(FanoutJob).where(FanoutJob.done_at.is_(None)).order_by(FanoutJob.event_id).limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)  # parallel workers take other jobs
    return session.scalar(stmt)


def _why_not(post: Post | None) -> str | None:
    """Why nobody is told of ``post`` now, or None."""
    if post is None:
        return "gone"
    if post.state != PostState.PUBLISHED:
        return post.state.value
    if not post.topic.is_public:
        return f"topic {post.topic.status.value}"
    return None


def process(session: Session | None = None, limit: int | None = None) -> Batch | None:
    """One batch of the oldest open job, written to the session (not committed).

    None when no job is open. The caller commits (``run_batch``) or, writing a history in one
    transaction as the demo seeding does, keeps going.
    """
    session = session or db.session
    limit = max(1, int(limit or current_app.config["FANOUT_BATCH_SIZE"]))
    job = _next_job(session)
    if job is None:
        return None
    post = session.get(Post, job.post_id)
    why = _why_not(post)
    if why is not None:
        job.skipped, job.done_at = why, utcnow()
        session.flush()
        return Batch(job.event_id, job.post_id, 0, True, why)

    recipients: list[tuple[int, str]] = []
    parent_author = None
    if post.parent_id is not None:
        parent_author = session.scalar(select(Post.author_id).where(Post.id == post.parent_id))
    if job.recipient_after < 0 and parent_author is not None and parent_author != post.author_id:
        recipients.append((parent_author, "reply"))
    after = max(job.recipient_after, 0)
    want = limit - len(recipients)
    excluded = [u for u in (post.author_id, parent_author) if u is not None]
    followers = (
        list(
            session.scalars(
                select(Follow.user_id)
                .where(
                    Follow.topic_id == post.topic_id,
                    Follow.user_id > after,
                    Follow.user_id.not_in(excluded),
                )
                .order_by(Follow.user_id)
                .limit(want + 1)  # one more: is this the last batch?
            )
        )
        if want > 0
        else []
    )
    done = want > 0 and len(followers) <= want
    followers = followers[:want]
    recipients += [(uid, "followed_topic") for uid in followers]

    told = 0
    if recipients:
        # Told already by an earlier job of the same post (approved again after an edit).
        known = set(
            session.scalars(
                select(Notification.user_id).where(
                    Notification.post_id == post.id,
                    Notification.kind.in_(POST_FANOUT_KINDS),
                    Notification.user_id.in_([uid for uid, _ in recipients]),
                )
            )
        )
        fresh = [(uid, kind) for uid, kind in recipients if uid not in known]
        now = utcnow()
        if fresh:
            # One multi-row INSERT, no objects: hundreds per batch (the events stay objects,
            # the unit of work hands them to mail and live).
            session.execute(
                insert(Notification),
                [
                    {
                        "user_id": uid,
                        "kind": kind,
                        "topic_id": post.topic_id,
                        "post_id": post.id,
                        "actor_id": post.author_id,
                        "created_at": now,
                    }
                    for uid, kind in fresh
                ],
            )
        eventlog.record_many(
            [
                {
                    "kind": "notification",
                    "subject_type": "user",
                    "subject_id": uid,
                    "room": f"user:{uid}",
                    "payload": {"kind": kind, "post_id": post.id, "topic_id": post.topic_id},
                }
                for uid, kind in fresh
            ]
        )
        told = len(fresh)
    job.recipient_after = followers[-1] if followers else after
    job.told += told
    if done:
        job.done_at = utcnow()
    session.flush()
    return Batch(job.event_id, job.post_id, told, done)


def run_batch(limit: int | None = None) -> Batch | None:
    """One batch, committed with its job's progress; None when there was nothing to do."""
    try:
        batch = process(db.session, limit)
        if batch is None:
            db.session.rollback()  # end the read transaction
            return None
        db.session.commit()
        return batch
    except Exception:
        db.session.rollback()
        raise


def drain(max_batches: int | None = None, limit: int | None = None) -> int:
    """Run batches until no job is open (or ``max_batches``); returns how many were told."""
    told, batches = 0, 0
    previous = getattr(_local, "draining", False)
    _local.draining = True
    try:
        while max_batches is None or batches < max_batches:
            batch = run_batch(limit)
            if batch is None:
                break
            told += batch.told
            batches += 1
    finally:
        _local.draining = previous
    return told


def drain_in_transaction(session: Session | None = None) -> int:
    """Every open job now, in the caller's transaction (seeding a history in one go)."""
    told = 0
    while (batch := process(session)) is not None:
        told += batch.told
    return told


@dataclass
class Status:
    open_jobs: int
    oldest_open_seconds: float | None
    done_jobs: int
    skipped_jobs: int
    told: int


def status(session: Session | None = None) -> Status:
    """The backlog: open jobs and how long the oldest has waited; what was done."""
    session = session or db.session
    open_jobs, oldest = session.execute(
        select(func.count(FanoutJob.event_id), func.min(FanoutJob.created_at)).where(
            FanoutJob.done_at.is_(None)
        )
    ).one()
    done, skipped, told = session.execute(
        select(
            func.count(FanoutJob.event_id),
            func.count(FanoutJob.skipped),
            func.coalesce(func.sum(FanoutJob.told), 0),
        ).where(FanoutJob.done_at.is_not(None))
    ).one()
    age = (utcnow() - oldest).total_seconds() if oldest is not None else None
    return Status(open_jobs or 0, age, done or 0, skipped or 0, int(told or 0))


# --- the embedded thread --------------------------------------------------------------------------


class FanoutThread(threading.Thread):
    """Drains the jobs in the app process until stopped; never lets an error escape."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="notification-fanout", daemon=True)
        self.app = app
        self.poll = float(app.config["FANOUT_POLL_INTERVAL"])
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.idle = threading.Event()  # set while waiting (bench/post_create.py reads it)

    def run(self) -> None:
        delay = 0.0
        while not self.stopping.is_set():
            if delay:
                self.idle.set()
                self.wake.wait(delay)
            self.idle.clear()
            self.wake.clear()
            if self.stopping.is_set():
                break
            with self.app.app_context():
                try:
                    drain()
                    delay = self.poll
                except Exception:
                    log.exception("The notification fan-out failed; it retries shortly.")
                    delay = min(max(delay * 2, 1.0), 60.0)
                finally:
                    db.session.remove()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.wake.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)


_thread: FanoutThread | None = None
_thread_lock = threading.Lock()


def start_thread(app: Flask) -> FanoutThread | None:
    """Start the fan-out thread unless one already runs in this process."""
    global _thread
    with _thread_lock:
        if _thread is not None and _thread.is_alive():
            return None
        _thread = FanoutThread(app)
        _thread.start()
        return _thread


def stop_thread(timeout: float = 10.0) -> None:
    global _thread
    with _thread_lock:
        t, _thread = _thread, None
    if t is not None:
        t.stop(timeout)


def running_thread() -> FanoutThread | None:
    return _thread if _thread is not None and _thread.is_alive() else None


def install(app: Flask) -> None:
    """Register the seams, and start the thread in the embedded default."""
    from .periodic import start_when_serving, wants_thread

    uow.register(app, "forum.fanout", queue_jobs, kinds=("post_published",))
    uow.register(app, "forum.fanout_wake", wake)
    if wants_thread(app, "FANOUT_WORKER"):  # "thread" and not under tests
        start_when_serving(app, lambda: start_thread(app))
