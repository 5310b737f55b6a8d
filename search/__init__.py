"""Search: the Whoosh index, the event-log indexer, queries, saved searches and exports.

``init_app`` registers the pages (blueprint ``search``), the ``flask search`` commands, and —
in the embedded default — starts the indexer thread.

Configuration (declared in ``SETTINGS``, read under the one rule of ``forum/config.py``;
``SEARCH_INDEX_DIR`` is the core's):

``SEARCH_WORKER``
    ``"thread"`` (default when ``BORGERDIALOG_ENV`` is "embedded"): the app process runs the
    indexer in a daemon thread. ``"external"`` (default in production): the app only reads;
    run ``flask --app app search worker`` as its own process, the one writer for every app
    process sharing ``SEARCH_INDEX_DIR``. Unset, it follows ``WORKERS`` (forum/config.py).
    If both run by mistake, a file lock lets only one of them write; the other waits.
``SEARCH_NODE``
    This node's name (default: the host name). Every node keeps its own index in its own
    ``SEARCH_INDEX_DIR`` (no shared disk) and follows the event log with its own cursor rows,
    named by it; ``flask search status`` lists every node's lag. Processes on one node share
    the name and the directory (one writer, any number of readers).
``SEARCH_THREAD_WHEN_TESTING``
    Start the thread even when ``TESTING`` is true (tests normally call
    ``indexer.run_once()`` themselves).
``SEARCH_POLL_INTERVAL``, ``SEARCH_BATCH_SIZE``, ``SEARCH_MAX_BATCH_SIZE``,
``SEARCH_GAP_TIMEOUT``
    How often the indexer looks for events when nothing woke it (seconds); how many events
    one batch applies (growing up to the maximum while there is a backlog); how long an
    unseen event id is waited for (PostgreSQL hands out ids before commit) before it counts
    as a rolled-back transaction.
``SEARCH_STANDBY_POLL``
    How often (seconds) a standby writer tries the node's writer lock. Run two
    ``flask search worker`` processes per node (``deploy/systemd``: ``borgerdialog-search``
    and ``borgerdialog-search-standby``): the second waits, already started, and takes over
    within this interval when the first dies, instead of the index waiting for a restart
    (seconds of imports on a busy machine).
``SEARCH_MIN_FREE_MB``
    The node reports "not ready" (``/readyz``, ``flask search status``) when the disk of
    ``SEARCH_INDEX_DIR`` has less free space than this: index writes fail there.
``SEARCH_REBUILD_PROCS``
    Processes ``flask search rebuild`` analyses documents in (default: 2, or 1 on one CPU).
``SEARCH_PER_PAGE``, ``SEARCH_MAX_PAGE``, ``SEARCH_MAX_QUERY_LENGTH``, ``SEARCH_MAX_TERMS``,
``SEARCH_MAX_EXPANSION``, ``SEARCH_EXPORT_MAX``, ``SEARCH_MAX_SAVED``,
``SEARCH_NOTIFY_MAX_PER_BATCH``, ``SEARCH_SNIPPET_CHARS``, ``RATELIMIT_SEARCH``,
``RATELIMIT_SEARCH_EXPORT``
    Limits; see ``DEFAULTS``.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import weakref

import click
from flask import Flask, current_app

from forum.config import Setting, Settings, defaults, flag, number, rate_limit, whole, worker
from forum.periodic import start_when_serving

DEFAULTS: dict[str, object] = {
    "SEARCH_THREAD_WHEN_TESTING": False,
    "SEARCH_POLL_INTERVAL": 0.5,
    "SEARCH_BATCH_SIZE": 500,
    "SEARCH_MAX_BATCH_SIZE": 8000,
    "SEARCH_REBUILD_PROCS": min(2, os.cpu_count() or 1),
    "SEARCH_GAP_TIMEOUT": 60.0,
    # How often a standby writer (a second `flask search worker`, or an app thread) tries
    # the writer's lock: it takes over this soon after the writer dies.
    "SEARCH_STANDBY_POLL": 0.25,
    # Below this much free space on SEARCH_INDEX_DIR's disk the node is not ready (/readyz,
    # `flask search status`): index writes fail, searches answer from an older state.
    "SEARCH_MIN_FREE_MB": 32,
    "SEARCH_PER_PAGE": 20,
    "SEARCH_MAX_PAGE": 50,
    "SEARCH_MAX_QUERY_LENGTH": 200,
    "SEARCH_MAX_TERMS": 12,
    "SEARCH_MAX_EXPANSION": 200,
    "SEARCH_EXPORT_MAX": 50_000,
    "SEARCH_MAX_SAVED": 50,
    "SEARCH_NOTIFY_MAX_PER_BATCH": 20,
    "SEARCH_SNIPPET_CHARS": 260,
    "RATELIMIT_SEARCH": "60 per minute;1000 per hour",
    "RATELIMIT_SEARCH_EXPORT": "10 per minute;60 per hour",
}
_KEY = "borgerdialog.search"
log = logging.getLogger("borgerdialog.search")


class SearchState:
    """Per app: the index directory and this process's view of it (cached segments)."""

    def __init__(self, index_dir: str) -> None:
        from .index import IndexStore, SnapshotSource

        self.store = IndexStore(index_dir)
        self.snapshots = SnapshotSource(self.store)

    def close(self) -> None:
        self.snapshots.close()


def state(app: Flask | None = None) -> SearchState:
    return (app or current_app).extensions[_KEY]


def node_name(raw: str | None) -> str:
    """A node name for the cursor rows: printable, at most 64 characters; the host name when
    empty."""
    name = re.sub(r"[^A-Za-z0-9._:@-]+", "-", (raw or "").strip())[:64].strip("-")
    if not name:
        name = re.sub(r"[^A-Za-z0-9._:@-]+", "-", socket.gethostname())[:64] or "node"
    return name


def _finish(app: Flask) -> None:
    """This node's name: SEARCH_NODE made printable, the host name when unset."""
    app.config["SEARCH_NODE"] = node_name(app.config["SEARCH_NODE"])


# Search's settings under the one rule of forum/config.py (the factory hands them to
# load_config; SEARCH_INDEX_DIR is the core's).
SETTINGS = Settings(
    "search",
    (
        worker("SEARCH_WORKER", "following the event log into the index (flask search worker)"),
        Setting("SEARCH_NODE", None, str, env=True, doc="this node's name (the host name)"),
        Setting("SEARCH_MIN_FREE_MB", 32, number(0), env=True),
        *defaults(
            {k: v for k, v in DEFAULTS.items() if k != "SEARCH_MIN_FREE_MB"},
            SEARCH_THREAD_WHEN_TESTING=flag,
            SEARCH_POLL_INTERVAL=number(0.01),
            SEARCH_BATCH_SIZE=whole(1),
            SEARCH_MAX_BATCH_SIZE=whole(1),
            SEARCH_REBUILD_PROCS=whole(1),
            SEARCH_GAP_TIMEOUT=number(0),
            SEARCH_STANDBY_POLL=number(0.01),
            RATELIMIT_SEARCH=rate_limit,
            RATELIMIT_SEARCH_EXPORT=rate_limit,
        ),
    ),
    finish=_finish,
)


def _wants_thread(app: Flask) -> bool:
    if app.config["SEARCH_WORKER"] != "thread":
        return False
    return not app.config.get("TESTING") or bool(app.config["SEARCH_THREAD_WHEN_TESTING"])


def _report_health(app: Flask, st: SearchState, thread: bool) -> None:
    health = st.store.health()
    if health.ok:
        return
    if thread:
        who = "the indexer thread is rebuilding it now"
    elif app.config["SEARCH_WORKER"] == "external":
        who = "`flask --app app search worker` rebuilds it when it starts"
    else:
        who = "the indexer rebuilds it when it next runs"
    app.logger.warning(
        "Search index %s (%s). Search pages say that search is being rebuilt; %s.",
        {
            "missing": "is missing",
            "unreadable": "cannot be read",
            "old_schema": "has an older schema",
        }.get(health.reason, health.reason),
        health.detail,
        who,
    )


def init_app(app: Flask) -> None:
    """Register search's pages and commands; start the indexer thread where it belongs."""
    from . import indexer, models, notices, views  # noqa: F401  (models: the tables)
    from .cli import search_cli

    st = SearchState(app.config["SEARCH_INDEX_DIR"])
    app.extensions[_KEY] = st
    weakref.finalize(app, st.close)
    app.register_blueprint(views.bp)
    app.cli.add_command(search_cli)
    notices.register(app)  # how saved-search notifications read (page and mails)
    indexer.install(app)
    if not app.config.get("TESTING"):
        # The lemmatiser's word list takes seconds to load: not in the first search's time.
        start_when_serving(app, _load_word_list_soon)
    if not _wants_thread(app):
        if click.get_current_context(silent=True) is None:
            _report_health(app, st, thread=False)
        return

    def start() -> None:
        _report_health(app, st, thread=True)
        indexer.start_thread(app)

    start_when_serving(app, start)


def _load_word_list_soon() -> None:
    from .language import lemma_dictionary

    threading.Thread(target=lemma_dictionary, name="search-word-list", daemon=True).start()


def stop_indexer() -> None:
    """Stop this process's indexer thread (tests; a clean shutdown)."""
    from .indexer import stop_thread

    stop_thread()
