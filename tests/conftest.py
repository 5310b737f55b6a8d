"""Shared fixtures: one app per test on a database whose schema is made once per run.

SQLite (a temporary file) by default; PostgreSQL when TEST_DATABASE_URL is set. Tables are
emptied after each test, so tests can commit like the real edge does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy import event, text

from app import create_app
from forum import services
from forum.extensions import db, limiter
from forum.models import Area, Committee, Post, Role, Topic, User

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct-horse-battery"


def worker_suffix() -> str:
    """``""`` in a plain run; ``"_gw0"``, ``"_gw1"``… in a pytest-xdist worker (``-n 2``).

    Anything the workers would otherwise share by name (a PostgreSQL database, a scratch
    database a test creates) carries it, so parallel workers never meet."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"_{worker}" if worker else ""


def per_worker_database(url: str) -> str:
    """TEST_DATABASE_URL's database for this worker: the same one in a plain run, else
    ``<name>_gw0``… created empty (on the same server) at the start of the run."""
    suffix = worker_suffix()
    if not suffix:
        return url
    from sqlalchemy import create_engine

    base, name = url.rsplit("/", 1)
    mine = f"{name}{suffix}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{mine}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{mine}"'))
    finally:
        admin.dispose()
    return f"{base}/{mine}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        from forum.config import _normalise_db_url

        return per_worker_database(_normalise_db_url(url))
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory) -> None:
    app = create_app(_config(database_url, tmp_path_factory.mktemp("inst")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def _config(database_url: str, tmp: Path, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # still scrypt, at a test-friendly cost
        "SEARCH_INDEX_DIR": str(tmp / "search-index"),
        "MODERATION_ENABLED": False,  # tests/moderation turn the policy on
        "MAIL_REQUIRE_VERIFICATION": False,  # make_user's accounts may post; tests/mail turn it on
        **extra,
    }


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for t in tables:
            db.session.execute(t.delete())
    db.session.commit()


def builds_app(request: pytest.FixtureRequest) -> bool:
    """Whether the test builds an app (it or one of its fixtures asks for ``app``).

    A directory's autouse fixtures that set up pages or indexes ask for the client only then
    (``request.getfixturevalue``), so the directory's pure-function tests (text analysis,
    query parsing, counting) run without building an app and a database."""
    return "app" in request.fixturenames


@pytest.fixture(autouse=True)
def _no_stray_workers() -> Iterator[None]:
    """Stop the background workers a test leaves running.

    Tests that build a real (non-TESTING) app, e.g. the configuration and serving tests,
    start its periodic jobs, mail sender and search follower. Those threads would outlive
    the test and run on a database the next test empties or replaces, logging failures
    into (and racing with) later tests. Every such thread has a ``stop()``."""
    import threading

    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        stop = getattr(thread, "stop", None)
        if thread.daemon and callable(stop):
            try:
                stop()
            except Exception:  # a worker that fails to stop must not fail the test
                pass


@pytest.fixture
def app_config() -> dict:
    """Override in a test module (or parametrize) to change the app's configuration."""
    return {}


class FreshContextClient(FlaskClient):
    """The test client, each request in an app context of its own, as in production.

    Flask reuses an app context that is already pushed for the same app, so without this
    every request would run in the test's own context: one ``g`` (Flask-Login's user,
    Flask-Babel's locale, the per-request memos) and one database session shared by the
    test and all its requests. Here a request has its own ``g`` and its own session, emptied
    and removed when the request ends; it sees what the test committed, and the test sees
    what the request committed once its objects are reloaded (``db.session.expire_all()``,
    or a commit in the test)."""

    def run_wsgi_app(self, environ, buffered=False):
        with self.application.app_context():
            return super().run_wsgi_app(environ, buffered=buffered)


class FreshContextSocketClient(SocketIOTestClient):
    """Flask-SocketIO's test client, each event (connecting and leaving too) handled in an
    app context of its own, as the server's threads do: Flask-SocketIO pushes only a request
    context, which would reuse the test's app context and its ``g``."""

    def connect(self, *args, **kwargs):
        with self.app.app_context():
            return super().connect(*args, **kwargs)

    def disconnect(self, *args, **kwargs):
        with self.app.app_context():
            return super().disconnect(*args, **kwargs)

    def emit(self, *args, **kwargs):
        with self.app.app_context():
            return super().emit(*args, **kwargs)

    def send(self, *args, **kwargs):
        with self.app.app_context():
            return super().send(*args, **kwargs)


def socket_test_client(app, http_client=None) -> FreshContextSocketClient:
    """A Socket.IO test client on ``app`` sharing ``http_client``'s cookies (its login)."""
    from forum.extensions import socketio

    return FreshContextSocketClient(app, socketio, flask_test_client=http_client)


def in_fresh_context(app):
    """``app`` as a WSGI callable running each request in an app context of its own, for
    clients other than Flask's (schemathesis calls the WSGI app directly)."""

    def wsgi(environ, start_response):
        with app.app_context():
            return app(environ, start_response)

    return wsgi


@pytest.fixture
def app(_schema, database_url, tmp_path, app_config) -> Iterator:
    """The app, and an app context for the test's own code (services, factories, queries:
    like a CLI command's). Requests never run in it: see ``FreshContextClient``."""
    app = create_app(_config(database_url, tmp_path, **app_config))
    app.test_client_class = FreshContextClient
    with app.app_context():
        if app.config.get("RATELIMIT_ENABLED", True):
            limiter.reset()
        yield app
        db.session.rollback()
        _empty_tables()
        db.session.remove()
        db.engine.dispose()  # one pool per app: close its connections with it


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_committee(app) -> Callable[..., Committee]:
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, slug: str | None = None) -> Committee:
        n = next(counter)
        c = Committee(slug=slug or f"udvalg-{n}", name=name or f"Udvalg {n}")
        db.session.add(c)
        db.session.commit()
        return c

    return make


@pytest.fixture
def make_area(app) -> Callable[..., Area]:
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, slug: str | None = None) -> Area:
        n = next(counter)
        a = Area(slug=slug or f"omraade-{n}", name=name or f"Område {n}")
        db.session.add(a)
        db.session.commit()
        return a

    return make


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    counter = iter(range(1, 100_000))

    def make(
        role: str = "citizen",
        name: str | None = None,
        email: str | None = None,
        party: str | None = None,
        committees: list[Committee] | None = None,
        areas: list[Area] | None = None,
        password: str = PASSWORD,
    ) -> User:
        n = next(counter)
        user = services.register_user(
            email or f"user{n}@example.dk", name or f"Bruger {n}", password
        )
        services.set_role(
            user,
            Role(role),
            party or ("Venstre" if role == "politician" else None),
            committees,
            areas,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_topic(app, make_user, make_committee) -> Callable[..., Topic]:
    def make(
        author: User | None = None,
        committee: Committee | None = None,
        area: Area | None = None,
        title: str = "Skolevej i Tølløse",
        intro: str = "Skal der være **cykelsti** langs skolevejen?",
        **kwargs,
    ) -> Topic:
        if committee is None and area is None:
            committee = make_committee()
        author = author or make_user("admin")
        topic = services.create_topic(
            author,
            title,
            intro,
            committee_id=committee.id if committee else None,
            area_id=area.id if area else None,
            **kwargs,
        )
        db.session.commit()
        return topic

    return make


@pytest.fixture
def make_post(app, make_user) -> Callable[..., Post]:
    def make(
        topic: Topic,
        author: User | None = None,
        body: str = "Et indlæg.",
        parent: Post | None = None,
        stance: str | None = None,
    ) -> Post:
        author = author or make_user()
        post = services.create_post(
            author, topic, body, parent_id=parent.id if parent else None, stance=stance
        )
        db.session.commit()
        return post

    return make


@pytest.fixture
def login(client):
    """Log ``user`` in through the real form; returns the response."""

    def do(user: User, password: str = PASSWORD, remember: bool = False):
        data = {"email": user.email, "password": password}
        if remember:
            data["remember"] = "y"
        return client.post("/login", data=data)

    return do


@pytest.fixture
def count_queries(app):
    """Context manager counting SQL statements: ``with count_queries() as n: ...; n()``."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK)", statement, re.I):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield lambda: len(statements)
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


# Tests of features still being finished when the last session stopped (see the issue
# notes). They run, and are reported as xfail, until their features land: an unexpected
# pass shows as XPASS. Nothing of the forum core (issue 2) is on this list.
KNOWN_FAILING: dict[str, str] = {}
# Hangs (a rebuild that never catches up with its own writes): not run until fixed.
KNOWN_HANGING: dict[str, str] = {}


# Under pytest-xdist (CI runs ``-n auto --dist loadgroup``) tests are spread over worker
# processes one by one, except these directories, each kept whole on one worker: the live
# tests start real servers that talk through the one Redis (its pub/sub ignores database
# numbers, and several tests choose their SECRET_KEY, hence their channel, themselves), and
# the browser tests share one seeded world and one Chromium per process.
SERIAL_GROUPS = ("tests/live/", "tests/e2e/")


def pytest_collection_modifyitems(config, items):
    for item in items:
        nodeid = item.nodeid
        for group in SERIAL_GROUPS:
            if nodeid.startswith(group):
                item.add_marker(pytest.mark.xdist_group(group.strip("/").replace("/", "-")))
        base = nodeid.split("[", 1)[0]
        for key, reason in KNOWN_HANGING.items():
            if base == key:
                item.add_marker(pytest.mark.skip(reason=f"known to hang: {reason}"))
        for key, reason in KNOWN_FAILING.items():
            if base == key or base.startswith(key + "::"):
                item.add_marker(pytest.mark.xfail(reason=f"known failing: {reason}", strict=False))
