"""Fixtures for live updates: Socket.IO test clients, and real server processes.

Real servers run ``tests/live/server.py`` in a subprocess on 127.0.0.1 and a free port, on
a temporary SQLite file of their own (WAL, so two processes can share it), and are stopped
by their PID (process group) when the test ends. Tests that need Redis skip when it is
unreachable, except under CI (``CI=true``) where they fail.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).resolve().parent / "server.py"
PASSWORD = "correct-horse-battery"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


# --- Socket.IO test clients (in-process, fast) --------------------------------------------


@pytest.fixture
def socket_client(app, client):
    """``socket_client(http_client=None)``: a Socket.IO test client sharing the HTTP
    client's cookies (log in through ``login`` first to be that user)."""
    from tests.conftest import socket_test_client

    made = []

    def make(http_client=None):
        sc = socket_test_client(app, http_client or client)
        made.append(sc)
        return sc

    yield make
    for sc in made:
        if sc.is_connected():
            sc.disconnect()


def received(sc, name: str | None = None) -> list:
    """The events a test client got since the last call: [(name, payload)] or payloads."""
    got = [(r["name"], r["args"][0] if r["args"] else None) for r in sc.get_received()]
    if name is None:
        return got
    return [payload for n, payload in got if n == name]


# --- Redis ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:  # any failure means: no usable Redis
        reason = (
            f"Redis is not reachable at {url} ({exc.__class__.__name__}); "
            "start redis-server or set TEST_REDIS_URL"
        )
        if in_ci():
            pytest.fail(f"{reason} (CI=true: Redis tests must run)", pytrace=False)
        pytest.skip(reason)
    return url


# --- real server processes -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    mode: str
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            # Our own process group (start_new_session): gunicorn's master and its worker.
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@dataclass
class World:
    """A database file made for real servers, with a few people and a topic."""

    db_url: str
    channel: str
    ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    from app import create_app
    from forum import services
    from forum.extensions import db
    from forum.models import Area, Committee, Role

    db_url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "live-test",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
            "MODERATION_ENABLED": False,
            "MAIL_REQUIRE_VERIFICATION": False,
        }
    )
    w = World(db_url=db_url, channel=f"borgerdialog-test-{uuid.uuid4().hex[:12]}")
    with app.app_context():
        db.create_all()
        committee = Committee(slug="klima", name="Udvalget for Klima og Miljø")
        area = Area(slug="toelloese", name="Tølløse")
        db.session.add_all([committee, area])
        db.session.flush()
        people = {}
        for key, role in (
            ("admin", Role.ADMIN),
            ("citizen", Role.CITIZEN),
            ("neighbour", Role.CITIZEN),
        ):
            email = f"{key}@example.dk"
            people[key] = services.register_user(email, f"Person {key}", PASSWORD)
            services.set_role(people[key], role)
            w.emails[key] = email
        topic = services.create_topic(
            people["admin"],
            "Cykelsti til Tølløse",
            "Skal der være en cykelsti?",
            committee_id=committee.id,
            area_id=area.id,
        )
        first = services.create_post(people["citizen"], topic, "Ja tak.", stance="for")
        db.session.commit()
        w.ids = {"topic": topic.id, "first_post": first.id, **{k: u.id for k, u in people.items()}}
        db.session.remove()
        db.engine.dispose()
    yield w


@pytest.fixture
def start_server(tmp_path, world) -> Iterator[Callable[..., Server]]:
    """``start_server(mode="threading"|"gevent", redis_url=None)``: a real server process
    on the world's database; stopped (by PID) when the test ends."""
    started: list[Server] = []

    def start(mode: str = "threading", redis_url: str | None = None, **config) -> Server:
        port = free_port()
        cfg = {
            "SQLALCHEMY_DATABASE_URI": world.db_url,
            "LIVE_CHANNEL": world.channel,
            "SEARCH_INDEX_DIR": str(tmp_path / f"ix-{port}"),
            **config,
        }
        if redis_url:
            cfg["REDIS_URL"] = redis_url
        env = {**os.environ, "LIVE_TEST_CONFIG": json.dumps(cfg), "PYTHONPATH": str(ROOT)}
        log = tmp_path / f"server-{port}.log"
        if mode == "gevent":
            cmd = [
                sys.executable,
                "-m",
                "gunicorn",
                "-k",
                "gevent",
                "-w",
                "1",
                "--worker-connections",
                "2000",
                "-b",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "2",
                "tests.live.server:make_app()",
            ]
        else:
            cmd = [sys.executable, str(SERVER), str(port)]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = Server(mode, port, proc, log)
        started.append(server)
        # A server starts in a few seconds; on a loaded 2-core machine (CI with the tests in
        # parallel workers) importing the app alone has taken over 20 s.
        deadline = time.monotonic() + float(os.environ.get("LIVE_TEST_START_TIMEOUT", 90))
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited early:\n{server.output()}")
            try:
                if requests.get(server.url + "/", timeout=1).status_code == 200:
                    return server
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not start:\n{server.output()}")
            time.sleep(0.1)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def http_login() -> Iterator[Callable[[str, str], requests.Session]]:
    """``http_login(base_url, email)``: a requests session logged in through the real form
    (CSRF is off on test servers); closed when the test ends."""
    sessions: list[requests.Session] = []

    def login(base_url: str, email: str) -> requests.Session:
        s = requests.Session()
        sessions.append(s)
        r = s.post(
            base_url + "/login",
            data={"email": email, "password": PASSWORD},
            allow_redirects=False,
            timeout=10,
        )
        assert r.status_code == 302, r.text[:500]
        return s

    yield login
    for s in sessions:
        s.close()


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


class LiveClient:
    """A python-socketio client that behaves like live.js: joins its rooms on every
    (re)connection, and when the server sends ``resync``, with the last event id it has and
    the ids it saw recently."""

    def __init__(
        self, rooms: list[str], last_event_id: int | None = None, cookie: str | None = None
    ):
        import queue

        import socketio

        self.rooms = rooms
        self.last_event_id = last_event_id
        self.first_event_id: int | None = last_event_id  # a resync never replays before it
        self.seen: list[int] = []
        self.cookie = cookie
        self.inbox: queue.Queue = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("connect", self._join)
        for name in ("joined", "live", "reload", "error"):
            self.sio.on(name, self._handler(name))
        self.sio.on("resync", self._resync)

    def _handler(self, name):
        def handle(payload=None):
            if name == "live":
                self._saw(payload)
            elif name == "joined":
                for msg in payload["events"]:
                    self._saw(msg)
                if self.last_event_id is None:
                    self.last_event_id = payload["last_event_id"]
                if self.first_event_id is None:
                    self.first_event_id = self.last_event_id or 0
            self.inbox.put((name, payload))

        return handle

    def _saw(self, msg: dict) -> None:
        self.seen = sorted({*self.seen, msg["id"]})[-100:]
        self.last_event_id = max(self.last_event_id or 0, msg["id"])

    def _join(self, since: int | None = None):
        payload: dict = {"rooms": self.rooms}
        if self.last_event_id is not None:
            start = (
                self.last_event_id
                if since is None
                else max(min(self.last_event_id, since), self.first_event_id)
            )
            payload["last_event_id"] = start
            payload["seen_ids"] = [i for i in self.seen if i <= start]
        self.sio.emit("join", payload)

    def _resync(self, payload=None) -> None:
        """As live-client.js: join again from the id the server names, or the last one (no
        random wait in tests)."""
        self.inbox.put(("resync", payload))
        self._join((payload or {}).get("since"))

    def connect(self, base_url: str) -> LiveClient:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self.sio.connect(base_url, headers=headers, transports=["websocket"], wait_timeout=10)
        return self

    def next(self, name: str | None = None, timeout: float = 10.0):
        """The next event (of ``name``), waiting at most ``timeout`` seconds."""
        import queue

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                got, payload = self.inbox.get(timeout=max(0.01, left))
            except queue.Empty:
                raise AssertionError(f"no {name or 'event'} within {timeout} s") from None
            if name is None or got == name:
                return payload if name else (got, payload)

    def drain(self, wait: float = 0.3) -> list:
        time.sleep(wait)
        out = []
        while not self.inbox.empty():
            out.append(self.inbox.get())
        return out

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


@pytest.fixture
def live_client() -> Iterator[Callable[..., LiveClient]]:
    made: list[LiveClient] = []

    def make(*args, **kwargs) -> LiveClient:
        c = LiveClient(*args, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
