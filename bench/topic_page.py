"""Benchmark the topic page (GET /emner/<id>) against a Flask + Jinja ceiling.

Builds a topic of 300 nested posts (about 1 KB of Markdown each) in a fresh SQLite file
through the forum's own services, serves the real app with gunicorn (2 workers) and loads
the topic page's first page (long debates have pages: THREAD_PAGE_ROOTS, THREAD_PAGE_POSTS) for
10 s at 32 connections, anonymously (the whole page is cached, with an ETag; the load
sends no If-None-Match, so every GET gets the full page) and signed in as a citizen who
supports posts and follows the topic (plain signed-in readers share the whole page, see
forum/views/topics.py; the citizen's supports, follow, unread count and own parts are read and
filled in on every GET); in the same run a minimal Flask app
renders the same posts (pre-made dicts, same tree, no database) through Jinja with the same
server settings: the ceiling. Prints requests/s, p50 and p99 for each and the ratios.

Targets: topic page >= 0.5x the ceiling's requests/s, anonymous and signed in; the first
page <= 100 KB; GET requests write nothing to the
database (counted in-process with an SQL listener over 50 GETs, and checked across the
gunicorn load with SQLite's ``PRAGMA data_version`` and row counts). Also printed: SQL
statements per topic page GET, and the in-process (test client) time of both pages.

Both servers run at once; the load alternates between them in turns (``--rounds``, 2 by
default: 5 s anonymous, 5 s signed in, 5 s ceiling, and again), and after each turn the bench
waits
until the server has served what was still queued, so that neither app's leftovers nor
other work on the machine favours one of them. The load generator is wrk when installed
(``apt-get install wrk``), else a bounded Python client (threads + keep-alive http.client;
it competes with the servers for the CPU, so its absolute figures are lower).

Run from the repository root: ``.venv/bin/python bench/topic_page.py``
(``--duration``, ``--connections``, ``--posts``, ``--rounds``, ``--worker-class``,
``--profile``, ``--quick`` for a run of about a minute; see ``--help``).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import io
import json
import os
import pstats
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from _ceiling_app import create_ceiling_app  # noqa: E402
from _topic_page_app import bench_config  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from app import create_app  # noqa: E402
from forum import fanout, queries, services, sessions  # noqa: E402
from forum.config import DEFAULTS  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Committee, Post, Role, Topic, User, utcnow  # noqa: E402

SEED = 20261127
TARGET_RATIO = 0.5
TARGET_PAGE_BYTES = 100 * 1024
MEMBER_EMAIL = "borger0@bench.test"
MEMBER_SUPPORTS = 60  # posts the signed-in citizen agrees with
TARGET_WRITES = 0
WRITE_GETS = 50
WORKERS = 2
# Measured on the 2-core machine: for this CPU-bound page gunicorn's sync worker and gthread
# (2 or 4 threads) gave the same requests/s within noise, gevent less; sync is the simplest.
# The ceiling always runs with the very same settings.
DEFAULT_WORKER_CLASS = "sync"
DEFAULT_THREADS = 1
POST_ANCHOR = re.compile(r'id="p\d+"')
WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.I)

WORDS = (
    "kommunen borgerne forslaget budgettet skolen cykelstien havnen biblioteket trafikken "
    "børnene de ældre bussen lokalplanen udvalget byrådet høringen grønne områder parkering "
    "vi jeg mener synes at det er vigtigt fordi og men også ikke kan skal bør vil har "
    "rigtig godt dårligt meget lidt flere færre penge tid sikkerhed fremtiden naboerne "
    "Holbæk Tølløse Jyderup Svinninge Mørkøv lørdag hverdage om morgenen om aftenen "
    "forældre pendlere erhvervslivet foreningerne klimaet støj vedligeholdelse belysning"
).split()


# --- data ----------------------------------------------------------------------------


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    i = rng.randrange(len(words))
    if rng.random() < 0.3:
        words[i] = f"**{words[i]}**"
    elif rng.random() < 0.3:
        words[i] = f"*{words[i]}*"
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "?", "!"))


def make_body(rng: random.Random, size: int = 1000) -> str:
    """About ``size`` characters of Danish-ish Markdown: paragraphs, emphasis, sometimes a
    list, a quote, a link or a heading."""
    parts: list[str] = []
    length = 0
    while length < size:
        roll = rng.random()
        if roll < 0.08:
            block = "## " + " ".join(rng.choice(WORDS) for _ in range(4)).capitalize()
        elif roll < 0.18:
            block = "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(2, 4)))
        elif roll < 0.25:
            block = "> " + _sentence(rng)
        elif roll < 0.32:
            block = (
                f"{_sentence(rng)} Se [kommunens side](https://holbaek.dk/"
                f"{rng.choice(WORDS).lower()}) for mere."
            )
        else:
            block = " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))
        parts.append(block)
        length += len(block) + 2
    return "\n\n".join(parts)


def make_people(rng: random.Random, n_citizens: int = 12, n_politicians: int = 3):
    """A committee, an admin, politicians of the committee and citizens (committed).

    Returns ``(committee, politicians, citizens)``. Call inside an app context.
    """
    committee = Committee(
        slug="teknik-og-miljo", name="Teknik- og Miljøudvalget", description="Veje, natur og klima."
    )
    db.session.add(committee)
    db.session.flush()
    admin = services.register_user("admin@bench.test", "Kommunen", "bench-password-1")
    services.set_role(admin, Role.ADMIN)
    politicians = []
    for i in range(n_politicians):
        u = services.register_user(f"pol{i}@bench.test", f"Byrådsmedlem {i}", "bench-password-1")
        services.set_role(
            u, Role.POLITICIAN, party=rng.choice(("A", "V", "F", "Ø")), committees=[committee]
        )
        politicians.append(u)
    citizens = [
        services.register_user(f"borger{i}@bench.test", f"Borger Nummer {i}", "bench-password-1")
        for i in range(n_citizens)
    ]
    if hasattr(User, "email_verified_at"):  # the mail package lets verified accounts write
        for user in [admin, *politicians, *citizens]:
            user.email_verified_at = utcnow()
    db.session.commit()
    return committee, politicians, citizens


def pick_parent(
    rng: random.Random, ids: list[int], depth_of: dict[int, int], max_depth: int
) -> int | None:
    """Three in four posts reply to one of the 60 latest posts, if that stays shallow enough."""
    if ids and rng.random() < 0.75:
        pick = rng.choice(ids[-60:])
        if depth_of[pick] + 1 < max_depth:
            return pick
    return None


def build_database(tmp: Path, n_posts: int, max_depth: int, seed: int = SEED) -> dict:
    """A fresh SQLite file with one open topic of ``n_posts`` nested posts.

    Posts are written one by one through ``services.create_post`` (render, sanitise,
    notifications, events), each committed like a request. Parents are random (seeded);
    depth stays below ``max_depth`` so the page shows every post without "continue" links.
    """
    rng = random.Random(seed)
    db_path = tmp / "bench.sqlite3"
    app = create_app(bench_config(f"sqlite:///{db_path}", str(tmp)))
    # Seeding, as the moderation package allows: its policy would hold the new accounts'
    # posts. The served app runs with moderation at its defaults.
    app.config["MODERATION_ENABLED"] = False
    with app.app_context():
        db.create_all()
        # Ten authors: every author follows the topic, so each post notifies the other nine.
        committee, politicians, citizens = make_people(rng, n_citizens=8, n_politicians=2)
        topic = services.create_topic(
            politicians[0],
            "Ny cykelsti langs Tuse Næs Vej",
            make_body(rng, 600),
            committee_id=committee.id,
        )
        db.session.commit()
        authors = citizens + politicians
        depth_of: dict[int, int] = {}
        ids: list[int] = []
        # Spread the posts over three weeks, as a real debate is (distinct timestamps to
        # format; a cache keyed on the minute would otherwise flatter the page).
        when = utcnow() - timedelta(days=21)
        for _ in range(n_posts):
            parent_id = pick_parent(rng, ids, depth_of, max_depth)
            stance = rng.choice(("for", "against", "question", None)) if parent_id is None else None
            post = services.create_post(
                rng.choice(authors), topic, make_body(rng), parent_id=parent_id, stance=stance
            )
            when += timedelta(seconds=rng.expovariate(1 / 6000))
            post.created_at = when
            db.session.commit()
            ids.append(post.id)
            depth_of[post.id] = post.depth
        fanout.drain()  # the followers' notifications, as the worker would have written them
        # The signed-in reader: a citizen who follows the topic and agrees with many posts.
        member = citizens[0]
        services.set_follow(member, topic, True)
        others = [i for i in ids if db.session.get(Post, i).author_id != member.id]
        for post_id in rng.sample(others, min(MEMBER_SUPPORTS, len(others))):
            services.toggle_support(member, db.session.get(Post, post_id))
        db.session.commit()
        topic_id = topic.id
        ceiling = ceiling_data(topic_id)
        db.session.remove()
        db.engine.dispose()
    ceiling_path = tmp / "ceiling.json"
    ceiling_path.write_text(json.dumps(ceiling), encoding="utf-8")
    return {
        "db_path": db_path,
        "db_url": f"sqlite:///{db_path}",
        "topic_id": topic_id,
        "ceiling_path": ceiling_path,
        "depths": sorted(depth_of.values()),
    }


STANCE_LABELS = {"for": "For", "against": "Imod", "question": "Spørgsmål"}


def ceiling_data(topic_id: int) -> dict:
    """The topic's first page as plain dicts (same posts, order and tree as the page an
    anonymous reader gets) for the ceiling app."""
    topic = db.session.get(Topic, topic_id)
    first = queries.load_thread_page(
        topic,
        None,
        display_depth=int(DEFAULTS["THREAD_DISPLAY_DEPTH"]),
        max_roots=int(DEFAULTS["THREAD_PAGE_ROOTS"]),
        max_posts=int(DEFAULTS["THREAD_PAGE_POSTS"]),
    )
    page_roots = [n.post.id for n in first.roots]
    posts = db.session.scalars(
        select(Post)
        .where(Post.topic_id == topic_id, Post.id.in_(first.shown_ids))
        .order_by(Post.created_at, Post.id)
    ).all()
    nodes: dict[int, dict] = {}
    roots: list[dict] = []
    for p in posts:
        author: User = p.author
        node = {
            "id": p.id,
            "author_name": author.display_name,
            "author_url": f"/profil/{author.id}",
            "politician": author.role == Role.POLITICIAN,
            "party": author.party,
            "url": f"/indlaeg/{p.id}",
            "created_iso": p.created_at.isoformat(timespec="seconds") + "Z",
            "created_label": p.created_at.strftime("%d.%m.%Y %H.%M"),
            "stance": p.stance.value if p.stance else None,
            "stance_label": STANCE_LABELS.get(p.stance.value) if p.stance else None,
            "body_html": p.body_html,
            "support_count": p.support_count,
            "children": [],
        }
        nodes[p.id] = node
        (nodes[p.parent_id]["children"] if p.parent_id else roots).append(node)
    return {
        "title": topic.title,
        "intro_html": topic.intro_html,
        "roots": [nodes[i] for i in page_roots],
        "pages": first.pages,
    }


# --- in-process checks ---------------------------------------------------------------


class SQLCounter:
    """Counts statements on an engine; ``writes`` lists INSERT/UPDATE/DELETE/DDL seen."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.count = 0
        self.writes: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        if WRITE_SQL.match(statement):
            self.writes.append(" ".join(statement.split())[:120])

    def __enter__(self) -> SQLCounter:
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self)


def _log_in(client, app, email: str) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        ident, _hash = sessions.issue_login(user)
        db.session.remove()
    with client.session_transaction() as sess:
        sess["_user_id"] = ident
        sess["_fresh"] = True


def in_process_checks(built: dict, tmp: Path, n_gets: int) -> dict:
    """Page correctness, SQL per GET, writes during GETs, and in-process ms per GET."""
    app = create_app(bench_config(built["db_url"], str(tmp)))
    url = f"/emner/{built['topic_id']}"
    anon = app.test_client()
    resp = anon.get(url)
    body = resp.get_data(as_text=True)
    anchors = len(POST_ANCHOR.findall(body))
    ceiling = json.loads(built["ceiling_path"].read_text(encoding="utf-8"))

    def count(nodes: list[dict]) -> int:
        return sum(1 + count(n["children"]) for n in nodes)

    expected_posts = count(ceiling["roots"])
    if resp.status_code != 200 or anchors != expected_posts:
        raise SystemExit(
            f"topic page check failed: status {resp.status_code}, {anchors} post anchors "
            f"(expected {expected_posts})"
        )
    with app.app_context():
        engine = db.engine
    member = app.test_client()
    _log_in(member, app, MEMBER_EMAIL)
    member_resp = member.get(url)
    member_body = member_resp.get_data(as_text=True)
    if member_resp.status_code != 200 or 'aria-pressed="true"' not in member_body:
        raise SystemExit("topic page check failed for a signed-in citizen (with supports)")
    cookie = member.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))

    with SQLCounter(engine) as one:
        anon.get(url)
    anon_queries = one.count
    with SQLCounter(engine) as one:
        member.get(url)
    member_queries = one.count

    if ceiling["pages"] > 1:
        # Counted like page 1: after a first GET (signed-in readers share the rendered debate
        # section, see forum/views/topics.py; the first GET of a page renders it).
        member.get(url + "?side=2")
        with SQLCounter(engine) as one:
            member.get(url + "?side=2")
        if one.count != member_queries:
            raise SystemExit(f"page 2 took {one.count} statements, page 1 {member_queries}")

    times: list[float] = []
    with SQLCounter(engine) as counter:
        for i in range(n_gets):
            client = member if i % 5 == 4 else anon  # one in five signed in
            t0 = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"GET {url} returned {r.status_code}")
    return {
        "status": resp.status_code,
        "post_anchors": anchors,
        "pages": ceiling["pages"],
        "page_bytes": len(resp.get_data()),
        "member_page_bytes": len(member_resp.get_data()),
        "member_cookie": f"{cookie.key}={cookie.value}",
        "queries_per_get_anonymous": anon_queries,
        "queries_per_get_signed_in": member_queries,
        "gets": n_gets,
        "statements": counter.count,
        "writes": len(counter.writes),
        "write_samples": counter.writes[:5],
        "inproc_ms_median": statistics.median(times),
    }


def ceiling_in_process(built: dict, n_gets: int) -> float:
    app = create_ceiling_app(json.loads(built["ceiling_path"].read_text(encoding="utf-8")))
    client = app.test_client()
    url = f"/emner/{built['topic_id']}"
    client.get(url)
    times = []
    for _ in range(n_gets):
        t0 = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def profile_page(built: dict, tmp: Path, n: int = 30, top: int = 30) -> str:
    """cProfile of ``n`` anonymous GETs through the test client: the top functions."""
    app = create_app(bench_config(built["db_url"], str(tmp)))
    client = app.test_client()
    url = f"/emner/{built['topic_id']}"
    client.get(url)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        client.get(url)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def db_fingerprint(db_path: Path) -> dict:
    """Row counts of every table (read through a separate, read-only connection)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


# --- servers and load ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(module: str, env_extra: dict, worker_class: str, threads: int, log: Path):
    """Start gunicorn (our own process group) on 127.0.0.1; stop it by its PID on exit."""
    port = free_port()
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--backlog",
        "256",
        "--timeout",
        "60",
        "--pythonpath",
        f"{ROOT},{BENCH}",
        "--log-level",
        "warning",
        "--no-control-socket",  # gunicorn 27 otherwise opens ~/.gunicorn/gunicorn.ctl
        module,
    ]
    env = {**os.environ, **env_extra, "PYTHONPATH": f"{ROOT}:{BENCH}"}
    with open(log, "ab") as fh:
        proc = subprocess.Popen(
            cmd, cwd=str(ROOT), env=env, stdout=fh, stderr=fh, start_new_session=True
        )
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the group we started: master + workers
                proc.wait(timeout=5)


def wait_ready(proc, port: int, path: str, timeout: float = 30.0) -> None:
    timeout = float(os.environ.get("BENCH_READY_TIMEOUT", timeout))  # a busy machine
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode} (see its log)")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server on port {port} not ready after {timeout:.0f} s")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"cannot read wrk time {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out: str) -> dict:
    def pct(p: str) -> float:
        m = re.search(rf"^\s*{p}%\s+(\S+)", out, re.M)
        return _ms(m.group(1)) if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+(?:us|ms|s|m|h)),", out)
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    non2xx = int(m.group(1)) if m else 0
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": int(total.group(1)) if total else 0,
        "seconds": _ms(total.group(2)) / 1000 if total else 0.0,
        "p50_ms": pct("50"),
        "p99_ms": pct("99"),
        "socket_errors": errors,
        "non_2xx": non2xx,
    }


def run_wrk(port: int, path: str, duration: float, connections: int, headers: dict) -> dict:
    threads = max(1, min(2, connections))
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "30s",
        "--latency",
        *(arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")),
        f"http://127.0.0.1:{port}{path}",
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    return parse_wrk(out)


class PythonLoad:
    """Keep-alive http.client connections in threads, bounded by time and by count."""

    def __init__(
        self, port: int, path: str, duration: float, max_requests: int, headers: dict
    ) -> None:
        self.port, self.path, self.headers = port, path, headers
        self.deadline = time.monotonic() + duration
        self.budget = max_requests
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.socket_errors = 0
        self.non_2xx = 0

    def _take(self) -> bool:
        with self.lock:
            if self.budget <= 0 or time.monotonic() >= self.deadline:
                return False
            self.budget -= 1
            return True

    def _one(self, conn: http.client.HTTPConnection) -> bool:
        """One GET; returns whether the connection may be reused."""
        t0 = time.perf_counter()
        conn.request("GET", self.path, headers=self.headers)
        resp = conn.getresponse()
        resp.read()
        elapsed = (time.perf_counter() - t0) * 1000
        with self.lock:
            self.latencies.append(elapsed)
            self.non_2xx += resp.status >= 400
        return resp.getheader("Connection", "").lower() != "close"

    def worker(self) -> None:
        conn = None
        while self._take():
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if not self._one(conn):
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.socket_errors += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


def run_python_load(
    port: int,
    path: str,
    duration: float,
    connections: int,
    headers: dict,
    max_requests: int = 1_000_000,
) -> dict:
    run = PythonLoad(port, path, duration, max_requests, headers)
    t_start = time.monotonic()
    pool = [threading.Thread(target=run.worker, daemon=True) for _ in range(connections)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=duration + 60)
    elapsed = time.monotonic() - t_start
    lat = sorted(run.latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")

    return {
        "rps": len(lat) / elapsed if elapsed else 0.0,
        "requests": len(lat),
        "seconds": elapsed,
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "socket_errors": run.socket_errors,
        "non_2xx": run.non_2xx,
    }


def load(port: int, path: str, duration: float, connections: int, tool: str, headers: dict) -> dict:
    if tool == "wrk":
        return run_wrk(port, path, duration, connections, headers)
    return run_python_load(port, path, duration, connections, headers)


def warm_up(port: int, path: str, per_worker: int = 3) -> None:
    """A few GETs on 2 x workers parallel connections, each waited for: every worker has
    loaded its templates and catalogs, and no abandoned request is left queued."""

    def one_conn() -> None:
        for _ in range(per_worker):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("GET", path)
                conn.getresponse().read()
            finally:
                conn.close()

    pool = [threading.Thread(target=one_conn, daemon=True) for _ in range(2 * WORKERS)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)


def _cpu_ticks(master_pid: int) -> int | None:
    """User + system clock ticks of a gunicorn master's workers (Linux /proc), or None."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        total = 0
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total
    except (OSError, ValueError, IndexError):
        return None


def wait_idle(proc, timeout: float = 60.0) -> float:
    """Wait until the server's workers stop using CPU: when the load generator stops, the
    requests still queued at the server are served anyway and would eat into the next
    turn. Returns the seconds waited (bounded by ``timeout``)."""
    t0 = time.monotonic()
    prev = _cpu_ticks(proc.pid)
    if prev is None:
        time.sleep(3.0)
        return time.monotonic() - t0
    quiet = 0
    while quiet < 2 and time.monotonic() - t0 < timeout:
        time.sleep(0.25)
        cur = _cpu_ticks(proc.pid)
        if cur is None:
            break
        quiet = quiet + 1 if cur - prev <= 2 else 0  # <= 20 ms of CPU in 250 ms
        prev = cur
    return time.monotonic() - t0


def combine(segments: list[dict]) -> dict:
    """One figure from several timed segments of the same app.

    requests/s = all requests / all seconds; p50 = the segments' p50s weighted by their
    requests; p99 = the worst segment's p99 (wrk gives percentiles, not raw latencies).
    """
    n = sum(s["requests"] for s in segments)
    secs = sum(s["seconds"] for s in segments)
    p50 = (sum(s["p50_ms"] * s["requests"] for s in segments) / n) if n else float("nan")
    return {
        "rps": n / secs if secs else 0.0,
        "requests": n,
        "p50_ms": p50,
        "p99_ms": max(s["p99_ms"] for s in segments),
        "socket_errors": sum(s["socket_errors"] for s in segments),
        "non_2xx": sum(s["non_2xx"] for s in segments),
        "segments_rps": [round(s["rps"], 1) for s in segments],
    }


def _data_version_probe(db_path: Path):
    """A connection whose ``PRAGMA data_version`` changes if any other connection commits."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    return conn, version, db_fingerprint(db_path)


def serve_and_load(
    built: dict, tmp: Path, args, tool: str, path: str, member_cookie: str
) -> tuple[dict, dict, dict, dict]:
    """Both apps under gunicorn at once (the idle one costs nothing), loaded in turns:
    anonymous, signed in, ceiling, anonymous... so background load on the machine hits all
    alike."""
    log = tmp / "gunicorn.log"
    real_env = {"BENCH_DATABASE_URL": built["db_url"], "BENCH_TMP_DIR": str(tmp)}
    ceiling_env = {"BENCH_CEILING_DATA": str(built["ceiling_path"])}
    segment = args.duration / args.rounds
    runs: dict[str, list[dict]] = {"real": [], "member": [], "ceiling": []}
    turns = {"real": ("real", {}), "member": ("real", {"Cookie": member_cookie})}
    turns["ceiling"] = ("ceiling", {})
    with contextlib.ExitStack() as stack:
        servers = {
            "real": stack.enter_context(
                gunicorn("_topic_page_app:app", real_env, args.worker_class, args.threads, log)
            ),
            "ceiling": stack.enter_context(
                gunicorn("_ceiling_app:app", ceiling_env, args.worker_class, args.threads, log)
            ),
        }
        for proc, port in servers.values():
            wait_ready(proc, port, path)
            warm_up(port, path)
            wait_idle(proc)
        conn, version, rows = _data_version_probe(built["db_path"])
        try:
            for _ in range(args.rounds):
                for name, (server, headers) in turns.items():
                    proc, port = servers[server]
                    t0 = time.monotonic()
                    r = load(port, path, segment, args.connections, tool, headers)
                    r.setdefault("seconds", segment)
                    r["wall_s"] = time.monotonic() - t0
                    r["drain_s"] = wait_idle(proc)
                    runs[name].append(r)
                    if proc.poll() is not None:
                        raise SystemExit(f"gunicorn ({name}) died during the load (see {log})")
            db_check = {
                "data_version_changed": conn.execute("PRAGMA data_version").fetchone()[0]
                != version,
                "rows_changed": db_fingerprint(built["db_path"]) != rows,
            }
        finally:
            conn.close()
    return combine(runs["real"]), combine(runs["member"]), combine(runs["ceiling"]), db_check


# --- main ----------------------------------------------------------------------------


def fmt(r: dict) -> str:
    return f"{r['rps']:.1f} req/s p50 {r['p50_ms']:.1f} ms p99 {r['p99_ms']:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per app")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="split each app's load into this many turns, alternating apps",
    )
    parser.add_argument(
        "--worker-class",
        default=DEFAULT_WORKER_CLASS,
        help="gunicorn worker class for both apps (sync, gthread, gevent)",
    )
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="gunicorn threads per worker (gthread)"
    )
    parser.add_argument(
        "--max-depth",
        type=int,
        default=None,
        help="deepest nesting level + 1 (default: THREAD_DISPLAY_DEPTH)",
    )
    parser.add_argument("--load-generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of 30 in-process topic page GETs",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short run (about a minute): 4 s of load per turn kind, one round",
    )
    args = parser.parse_args()
    if args.quick:
        args.duration, args.rounds = 4.0, 1
    if not (
        1 <= args.connections <= 1024
        and 0 < args.duration <= 300
        and args.posts >= 1
        and 1 <= args.rounds <= args.duration
    ):
        parser.error("connections 1-1024, duration 0-300 s, posts >= 1, rounds 1-duration")

    tool = args.load_generator
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    elif tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install -y wrk)")

    t_all = time.monotonic()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-topic-") as tmpname:
        tmp = Path(tmpname)
        max_depth = args.max_depth or int(DEFAULTS["THREAD_DISPLAY_DEPTH"])
        t0 = time.monotonic()
        built = build_database(tmp, args.posts, max_depth)
        depths = built["depths"]
        print(
            f"built topic {built['topic_id']}: {args.posts} posts, depth 0-{max(depths)} "
            f"({sum(1 for d in depths if d == 0)} top-level) in {time.monotonic() - t0:.1f} s"
        )

        checks = in_process_checks(built, tmp, WRITE_GETS)
        ceiling_ms = ceiling_in_process(built, 20)
        bytes_met = max(checks["page_bytes"], checks["member_page_bytes"]) <= TARGET_PAGE_BYTES
        print(
            f"page check: HTTP {checks['status']}, first of {checks['pages']} pages: "
            f"{checks['post_anchors']} posts, {checks['page_bytes']} bytes anonymous, "
            f"{checks['member_page_bytes']} bytes signed in (target <= {TARGET_PAGE_BYTES}) "
            f"{'MET' if bytes_met else 'MISSED'}"
        )
        print(
            f"SQL per topic page GET: {checks['queries_per_get_anonymous']} anonymous, "
            f"{checks['queries_per_get_signed_in']} signed in"
        )
        print(
            f"writes during {checks['gets']} in-process GETs: {checks['writes']} "
            f"of {checks['statements']} statements (target {TARGET_WRITES}) "
            f"{'MET' if checks['writes'] == TARGET_WRITES else 'MISSED'}"
        )
        for sample in checks["write_samples"]:
            print(f"  write: {sample}")
        print(
            f"in-process render (test client, median): topic page "
            f"{checks['inproc_ms_median']:.1f} ms | ceiling {ceiling_ms:.1f} ms"
        )
        if args.profile:
            print(profile_page(built, tmp))

        path = f"/emner/{built['topic_id']}"
        label = f"gunicorn {WORKERS} x {args.worker_class}"
        if args.worker_class == "gthread":
            label += f" ({args.threads} threads)"
        print(f"load: {tool}, {args.connections} connections, {args.duration:g} s per app, {label}")
        real, member, ceiling, db_check = serve_and_load(
            built, tmp, args, tool, path, checks["member_cookie"]
        )
        log = tmp / "gunicorn.log"
        server_log = log.read_text(errors="replace").strip() if log.exists() else ""

    ratio = real["rps"] / ceiling["rps"] if ceiling["rps"] else 0.0
    ratio_met = ratio >= TARGET_RATIO and real["requests"] > 0 and real["non_2xx"] == 0
    member_ratio = member["rps"] / ceiling["rps"] if ceiling["rps"] else 0.0
    member_met = member_ratio >= TARGET_RATIO and member["requests"] > 0 and member["non_2xx"] == 0
    server_writes = db_check["data_version_changed"] or db_check["rows_changed"]
    writes_met = checks["writes"] == TARGET_WRITES and not server_writes
    for name, r in (("topic page", real), ("signed in", member), ("ceiling", ceiling)):
        if r["socket_errors"] or r["non_2xx"]:
            print(f"  {name}: {r['socket_errors']} socket errors, {r['non_2xx']} non-2xx")
    print(
        f"GETs under load changed the database: "
        f"{'yes' if server_writes else 'no'} (PRAGMA data_version and row counts)"
    )
    problems = [
        line
        for line in server_log.splitlines()
        if re.search(r"ERROR|CRITICAL|Traceback|Exception", line)
    ]
    if problems:
        print("gunicorn log problems (last 10):\n" + "\n".join(problems[-10:]))
    print(
        f"turns of {args.duration / args.rounds:g} s, req/s: topic page "
        f"{real['segments_rps']}, signed in {member['segments_rps']}, ceiling "
        f"{ceiling['segments_rps']}; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores: above ~3 "
        f"other work shares the CPU and the absolute figures drop)"
    )
    print(
        f"topic page: {fmt(real)} | ceiling: {fmt(ceiling)} | ratio {ratio:.2f} "
        f"(target >= {TARGET_RATIO:.2f}) {'MET' if ratio_met else 'MISSED'}"
    )
    print(
        f"signed in: {fmt(member)} | ratio {member_ratio:.2f} "
        f"(target >= {TARGET_RATIO:.2f}) {'MET' if member_met else 'MISSED'}"
    )
    print(f"total {time.monotonic() - t_all:.0f} s")
    result = {
        "bench": "topic_page",
        "posts": args.posts,
        "connections": args.connections,
        "duration_s": args.duration,
        "load_generator": tool,
        "server": {"workers": WORKERS, "worker_class": args.worker_class, "threads": args.threads},
        "rounds": args.rounds,
        "load_average_before": round(load_before, 2),
        "figures": {
            "topic_rps": round(real["rps"], 1),
            "topic_p50_ms": round(real["p50_ms"], 1),
            "topic_p99_ms": round(real["p99_ms"], 1),
            "ceiling_rps": round(ceiling["rps"], 1),
            "ceiling_p50_ms": round(ceiling["p50_ms"], 1),
            "ceiling_p99_ms": round(ceiling["p99_ms"], 1),
            "topic_requests": real["requests"],
            "ceiling_requests": ceiling["requests"],
            "ratio": round(ratio, 3),
            "signed_in_rps": round(member["rps"], 1),
            "signed_in_p50_ms": round(member["p50_ms"], 1),
            "signed_in_p99_ms": round(member["p99_ms"], 1),
            "signed_in_requests": member["requests"],
            "signed_in_ratio": round(member_ratio, 3),
            "pages": checks["pages"],
            "page_bytes": checks["page_bytes"],
            "signed_in_page_bytes": checks["member_page_bytes"],
            "writes_during_gets": checks["writes"],
            "db_changed_under_load": server_writes,
            "queries_per_get_anonymous": checks["queries_per_get_anonymous"],
            "queries_per_get_signed_in": checks["queries_per_get_signed_in"],
            "inproc_topic_ms": round(checks["inproc_ms_median"], 2),
            "inproc_ceiling_ms": round(ceiling_ms, 2),
            "page_kb": round(checks["page_bytes"] / 1024, 1),
        },
        "targets": {
            "ratio_min": TARGET_RATIO,
            "signed_in_ratio_min": TARGET_RATIO,
            "page_bytes_max": TARGET_PAGE_BYTES,
            "writes_during_gets": TARGET_WRITES,
        },
        "met": {
            "ratio": ratio_met,
            "signed_in_ratio": member_met,
            "page_bytes": bytes_met,
            "no_writes_on_get": writes_met,
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
