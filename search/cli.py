"""``flask --app app search rebuild | status | worker | forget``."""

from __future__ import annotations

import logging
import signal
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import delete, func, select

from forum import uow
from forum.extensions import db
from forum.models import Event

log = logging.getLogger("borgerdialog.search")
# A standby goes through the newest posts this often, so that its caches (stemmed words, the
# index's newest segments) are warm when it takes over (search.indexer.Indexer.warm_up).
STANDBY_WARM_EVERY = 60.0

search_cli = AppGroup(
    "search", help="The search index: rebuild it, see its state, run the indexer."
)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{n} B"


@search_cli.command("rebuild")
@click.option(
    "--procs",
    type=int,
    default=None,
    help="Processes analysing documents (default: SEARCH_REBUILD_PROCS).",
)
def rebuild_command(procs: int | None) -> None:
    """Build a fresh index from the database and swap it in (searches keep working)."""
    from . import documents
    from .indexer import Indexer

    indexer = Indexer(current_app)
    # With no writer following the log, this command catches up and notifies itself.
    alone = indexer.acquire()
    try:
        total = documents.count_all()
        uow.rollback()
        with click.progressbar(
            length=max(total, 1), label="Indexing", show_pos=True, file=sys.stderr
        ) as bar:
            result = indexer.rebuild(
                progress=bar.update,
                notify=alone,
                procs=procs or current_app.config["SEARCH_REBUILD_PROCS"],
            )
    finally:
        indexer.close()
    click.echo(
        f"\nRebuilt: {result.documents} documents in {result.seconds:.1f} s; "
        f"generation {result.generation} is now in use"
        + (f" (replacing {result.replaced})." if result.replaced else ".")
    )


def _ago(when) -> str:
    from forum.models import utcnow

    if when is None:
        return "never"
    seconds = max(0, int((utcnow() - when).total_seconds()))
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


def _echo_nodes(newest: int) -> None:
    """Every node's cursor rows: the generation its searches read and any being built."""
    from .models import SearchCursor

    this = current_app.config["SEARCH_NODE"]
    rows = list(db.session.scalars(select(SearchCursor).order_by(SearchCursor.node)))
    if not rows:
        click.echo("Nodes: none has built an index yet")
        return
    click.echo(f"Nodes (each follows the event log into its own index; newest event {newest}):")
    for row in sorted(rows, key=lambda r: (r.node, not r.in_use, r.generation)):
        name = row.node or "(unnamed)"
        mark = " (this node)" if row.node == this else ""
        what = "in use" if row.in_use else "being built or replaced"
        click.echo(
            f"  {name}{mark}: lag {max(0, newest - row.last_event_id)} events, "
            f"generation {row.generation} {what}, cursor moved {_ago(row.updated_at)}"
        )


@search_cli.command("status")
def status_command() -> None:
    """Documents, how far this node's index and every other node's lag behind the event log,
    and its size."""
    newest = db.session.scalar(select(func.max(Event.id))) or 0
    _status_of_this_node(newest)
    _echo_nodes(newest)


def _status_of_this_node(newest: int) -> None:
    from ops.checks import search_disk

    from . import state
    from .index import doc_count
    from .models import SearchCursor

    store = state().store
    click.echo(f"Node: {current_app.config['SEARCH_NODE']}")
    click.echo(f"Index directory: {store.root}")
    roomy, free_mb = search_disk(current_app)
    if roomy:
        click.echo(f"Disk: {free_mb:.1f} MB free")
    else:
        click.echo(
            f"Disk: FULL — {free_mb:.1f} MB free, {current_app.config['SEARCH_MIN_FREE_MB']:g} "
            "MB needed (SEARCH_MIN_FREE_MB); index writes fail until space is freed, then the "
            "writer catches up by itself"
        )
    click.echo(
        f"Indexer: {current_app.config['SEARCH_WORKER']} "
        "(thread in the app, or external `flask search worker`)"
    )
    lock = store.role_lock()
    if lock.acquire(blocking=False):
        lock.release()
        click.echo("Writer: none running")
    else:
        click.echo("Writer: running")
    health = store.health()
    if not health.ok:
        click.echo(f"Health: {health.reason} — {health.detail}")
        click.echo(
            "Search pages say that search is being rebuilt until a writer rebuilds it "
            "(or run `flask --app app search rebuild`)."
        )
        return
    name = health.generation
    ix = store.open(name)
    cursor = db.session.get(SearchCursor, name)
    click.echo(f"Health: ok (generation {name})")
    click.echo(f"Documents: {doc_count(ix)}")
    click.echo(f"Index size: {_size(store.size_bytes(name))}")
    if cursor is None:
        click.echo("Cursor: none in this database (the writer will rebuild)")
        return
    lag = max(0, newest - cursor.last_event_id)
    oldest = db.session.scalar(
        select(func.min(Event.created_at)).where(Event.id > cursor.last_event_id)
    )
    age = ""
    if oldest is not None:
        from forum.models import utcnow

        age = f", oldest waiting {(utcnow() - oldest).total_seconds():.1f} s"
    click.echo(f"Cursor: event {cursor.last_event_id} of {newest} (lag {lag} events{age})")
    if cursor.gaps:
        click.echo(f"Waiting for {len(cursor.gaps)} event ids not yet committed")


@search_cli.command("forget")
@click.argument("node")
def forget_command(node: str) -> None:
    """Drop the cursor rows of a node taken out of service (its index directory stays)."""
    from .models import SearchCursor

    if node == current_app.config["SEARCH_NODE"]:
        raise click.UsageError(
            f"{node} is this node; run `forget` from another node, or stop this node's "
            "indexer first and delete its SEARCH_INDEX_DIR."
        )
    n = db.session.execute(delete(SearchCursor).where(SearchCursor.node == node)).rowcount
    db.session.commit()
    click.echo(f"Forgot {n} cursor rows of node {node}." if n else f"No node named {node}.")


def _warm_standby(indexer, warmed: float) -> float:
    """Warm the standby up if it is time (``STANDBY_WARM_EVERY``); returns when it last did."""
    if time.monotonic() - warmed <= STANDBY_WARM_EVERY:
        return warmed
    try:
        indexer.warm_up()
    except Exception:  # PostgreSQL restarting, say: warm up next time
        log.warning("The standby could not warm up; it tries again later.")
    return time.monotonic()


@search_cli.command("worker")
@click.option("--once", is_flag=True, help="Apply what is pending, then stop.")
def worker_command(once: bool) -> None:
    """Follow the event log into the index: the one writer (production runs this)."""
    from .indexer import Indexer

    app = current_app._get_current_object()
    if app.config["SEARCH_WORKER"] == "thread":
        click.echo(
            "Note: SEARCH_WORKER is 'thread', so app processes index too; only one "
            "of them writes at a time. Set SEARCH_WORKER=external for the app.",
            err=True,
        )
    indexer = Indexer(app)
    stopping = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    poll = float(app.config["SEARCH_POLL_INTERVAL"])
    standby_poll = float(app.config["SEARCH_STANDBY_POLL"])
    waiting_said = False
    warmed = 0.0  # when a standby last warmed up (Indexer.warm_up)
    failures = 0
    try:
        while not stopping:
            try:
                started = time.monotonic()
                n = indexer.run_once()
                failures = 0
            except Exception:
                # A full disk, PostgreSQL restarting: retry soon, then less often (the
                # index catches up as soon as the cause is gone).
                failures += 1
                app.logger.exception("The search indexer failed; it retries shortly.")
                time.sleep(min(0.5 * 2 ** min(failures - 1, 4), 5.0))
                continue
            # Logged (with the time, and as JSON in production): how long a takeover and a
            # catch-up took is read from these lines (bench/topology.py's faults).
            if not indexer.is_writer:
                if not waiting_said:
                    log.info("Another writer holds the index; waiting as a standby.")
                    waiting_said = True
                warmed = _warm_standby(indexer, warmed)
                time.sleep(standby_poll)  # the lock is free the moment the writer dies
                continue
            if waiting_said:
                log.warning("The writer is gone; this worker writes the index now.")
                waiting_said = False
            if n:
                log.info("Indexed %d events in %.2f s.", n, time.monotonic() - started)
            if once:
                break
            if n == 0:
                time.sleep(poll)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        indexer.close()
