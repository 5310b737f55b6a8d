"""Start-up checks for production (``BORGERDIALOG_ENV=production``).

A misconfigured instance refuses to start with one line on stderr saying what to fix, and no
traceback. ``SECRET_KEY`` is checked by ``forum.config.load_config`` (its ``ConfigError`` goes
through ``refuse`` in app.py); the rest is checked here, after the packages are bound:
Redis (when ``REDIS_URL`` is set), the database (within ``DATABASE_CONNECT_TIMEOUT``
seconds on PostgreSQL), the search index directory, the schema: older than the code (run the
migration) or newer than it (a node started with old code after another node migrated).

``TRUSTED_PROXIES`` set on an instance that no proxy stands in front of cannot be seen at
start (nothing tells the app what connects to it); ``ops/__init__.py`` logs one warning per
process at the first request that arrives without ``X-Forwarded-For``.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask
from sqlalchemy.engine import make_url

from forum.extensions import db

from . import checks

# Commands that must run against a database that is behind (or empty): they are the fix.
SCHEMA_FIXERS = frozenset({"db", "restore"})


class StartupRefused(SystemExit):
    """Raised to stop the process with exit status 4: gunicorn's arbiter then halts (its
    "App failed to load") instead of respawning the worker. Not a RuntimeError, which
    gunicorn would print again and exit 1 on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = 4


def refuse(message: str) -> StartupRefused:
    """Print the one line and return the exception to raise."""
    line = " ".join(message.split())
    print(f"Borgerdialog refuses to start: {line}", file=sys.stderr, flush=True)
    return StartupRefused(line)


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def _command_words() -> set[str]:
    """The words of the ``flask`` command line being run, if this is one."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return set()
    words: set[str] = set()
    while ctx is not None:
        words.add(ctx.info_name or "")
        words.update(getattr(ctx, "protected_args", []) or [])
        words.update(a for a in ctx.args if not a.startswith("-"))
        ctx = ctx.parent
    return words | {a for a in sys.argv[1:] if not a.startswith("-")}


def _redis(app: Flask) -> str | None:
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    r = checks.redis_ping(url, timeout=2.0)
    if r.ok:
        return None
    return (
        f"REDIS_URL ({_safe_url(url)}) does not answer ({r.detail}); fix REDIS_URL or start Redis."
    )


def _database(app: Flask) -> str | None:
    r = checks.database()
    if r.ok:
        return None
    return (
        f"the database at DATABASE_URL ({_safe_url(app.config['SQLALCHEMY_DATABASE_URI'])}) "
        f"cannot be reached ({r.detail}); fix DATABASE_URL or start the database."
    )


def _index_dir(app: Flask) -> str | None:
    path = Path(app.config["SEARCH_INDEX_DIR"])
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        return (
            f"SEARCH_INDEX_DIR ({path}) is not a writable directory ({exc.strerror or exc}); "
            "point SEARCH_INDEX_DIR at a directory this user can write."
        )
    return None


def _schema(app: Flask) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(app.config["MIGRATIONS_DIR"])
    heads = set(script.get_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    quiet = logging.getLogger("alembic")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # no "Context impl ..." lines before the one we print
    try:
        with db.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        quiet.setLevel(level)
    if current == heads:
        return None
    at = ", ".join(sorted(current)) or "no migration"
    if current - known:
        return (
            f"the database schema is at {at}, newer than this code knows (it needs "
            f"{', '.join(sorted(heads))}): another node has migrated it; deploy the same "
            "version of Borgerdialog on this node as on the others."
        )
    return (
        f"the database schema is at {at} but the code needs {', '.join(sorted(heads))}; "
        "run `flask --app app db upgrade`."
    )


def check(app: Flask) -> None:
    """Refuse to start (``StartupRefused``) at the first thing that is wrong."""
    words = _command_words()
    steps = [_redis, _database, _index_dir]
    if not words & SCHEMA_FIXERS:
        steps.append(_schema)
    with app.app_context():
        try:
            for step in steps:
                problem = step(app)
                if problem:
                    raise refuse(problem)
        finally:
            db.session.remove()
