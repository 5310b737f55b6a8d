"""The forum core: people, places, debates, notifications, the event log.

``init_app`` binds the extensions and registers the forum's pages, error pages
(``errorpages.py``), template helpers (``templating.py``) and commands; the reader's language
is chosen in ``i18n.py``, times are converted and formatted in ``localtime.py``."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import errorpages, templating, uow
from .converters import IdConverter
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .i18n import select_locale


@login_manager.user_loader
def _load_user(login_id: str):
    # Only a login that still exists counts: logged out (here or everywhere) or a new
    # password ends it, even for copied cookies (forum/sessions.py).
    from .sessions import load_user

    return load_user(login_id)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        # A writer waits for another's short transaction instead of failing; background
        # threads (search indexer, mail sender) write too, and a loaded machine is slow.
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_begin_before_savepoint(conn, _name) -> None:
    """Open the SQLite transaction before a savepoint that would otherwise start it.

    pysqlite emits BEGIN only before INSERT/UPDATE/DELETE; a SAVEPOINT issued first opens a
    transaction of its own that its RELEASE commits, so a later rollback would not undo it.
    IMMEDIATE: savepoints guard writes (a post and its nonce), so take the write lock now,
    waiting (busy_timeout) for another writer. A deferred BEGIN would read first and then,
    if a background thread (search indexer, mail sender) committed in between, fail at the
    first write with "database is locked" at once: WAL refuses to upgrade an old snapshot
    and does not wait.
    """
    raw = conn.connection.dbapi_connection
    if type(raw).__module__.startswith("sqlite3") and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    """Bind the extensions and register the forum's pages, errors and commands."""
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(app.config.get("MIGRATIONS_DIR", "migrations")), render_as_batch=True
    )
    login_manager.init_app(app)
    login_manager.login_view = "forum.login"
    login_manager.login_message = None
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    templating.install_gettext(app)
    limiter.init_app(app)

    from . import cli, fanout, live, security, views
    from . import events as _events  # noqa: F401  (Socket.IO handlers: before socketio.init_app)
    from . import sessions as _sessions  # noqa: F401  (a key per login, on user_logged_in)

    live.init_app(app)
    fanout.install(app)
    security.init_app(app)
    # Before any blueprint registers a rule: every package's <int:id> is a bounded row id.
    app.url_map.converters["int"] = IdConverter
    app.register_blueprint(views.bp)
    cli.register(app)
    app.cli.add_command(uow.seams_command)
    errorpages.register(app)
    templating.register(app)
    from . import notices

    notices.register(app)  # how the forum's own notifications read (forum/hooks.py registry)
