"""Benchmark the REST API and the open-data dump.

Builds a fresh SQLite file (bulk inserts shaped like the application's rows): ``--posts``
published posts (default 100,000; a tenth of them replies) in 300 topics by 3,000 citizens
and 8 politicians, one topic holding exactly 300 posts. Then, in-process with the real app
and Flask's test client, anonymous:

* ``GET /api/v1/topics/{id}/posts`` of the 300-post topic (the default page, 50 posts, and
  the largest, 200): p50/p95 in ms and SQL statements per request, compared with a 30-post
  topic (the count must not depend on the thread's size);
* the same with ``If-None-Match`` of the ETag it got: a 304, and its statements;
* the open-data dump of the whole database, in a child process of its own (so its peak RSS
  is the dump's, not the builder's): seconds and peak RSS in MB.

Targets: posts page p50 <= 30 ms, the same statements at both sizes, a warm If-None-Match is
a 304; the dump <= 60 s and <= 200 MB RSS.

Run from the repository root: ``.venv/bin/python bench/api.py`` (``--posts 10000`` quick).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert  # noqa: E402

from app import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Area, Committee, Post, Role, Topic, User, utcnow  # noqa: E402

TARGET_P50_MS = 30.0
TARGET_DUMP_S = 60.0
TARGET_DUMP_MB = 200.0
BATCH = 5000


def _config(db_url: str, tmp: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SECRET_KEY": "bench",
        "INSTANCE_PATH": str(Path(tmp) / "instance"),
        "RATELIMIT_ENABLED": False,
        "SEARCH_INDEX_DIR": str(Path(tmp) / "search-index"),
        "SEARCH_WORKER": "external",
        "MAIL_WORKER": "external",
        "MODERATION_REMINDER_WORKER": "external",
        "BUDGETS_SCHEDULER": "external",
        "QA_WORKER": "external",
        "PRIVACY_WORKER": "external",
        "API_DUMP_WORKER": "external",
        "FANOUT_WORKER": "external",
        "OPINIONS_WORKER": "external",
        "MEETINGS_REMINDER_WORKER": "external",
        "API_DUMP_DIR": str(Path(tmp) / "open-data"),
        "MAIL_OUTBOX_DIR": str(Path(tmp) / "outbox"),
    }


def _bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[start : start + BATCH])


def build(n_posts: int, seed: int = 2026) -> dict:
    rng = random.Random(seed)
    now = utcnow()
    committees = [Committee(slug=f"udvalg-{i}", name=f"Udvalg {i}") for i in range(7)]
    areas = [Area(slug=f"omraade-{i}", name=f"Område {i}") for i in range(12)]
    db.session.add_all(committees + areas)
    db.session.flush()
    users = [
        {
            "id": i + 1,
            "email": f"u{i}@bench.example",
            "display_name": f"Borger {i}",
            "password_hash": "x",
            "role": Role.POLITICIAN if i < 8 else Role.CITIZEN,
            "party": "SF" if i < 8 else None,
            "session_version": 1,
            "created_at": now - timedelta(days=400),
        }
        for i in range(3008)
    ]
    _bulk(User, users)
    topics = [
        {
            "id": i + 1,
            "title": f"Emne {i}",
            "intro_source": "Intro",
            "intro_html": "<p>Intro</p>",
            "committee_id": committees[i % 7].id,
            "area_id": areas[i % 12].id if i % 3 else None,
            "author_id": 1,
            "status": "open",
            "created_at": now - timedelta(days=60),
            "updated_at": now,
            "last_activity_at": now,
            "post_count": 0,
        }
        for i in range(300)
    ]
    _bulk(Topic, topics)
    big, small = 1, 2
    sizes = {big: 300, small: 30}
    rest = n_posts - sum(sizes.values())
    counts: dict[int, int] = dict(sizes)
    for _i in range(rest):
        t = rng.randint(3, 300)
        counts[t] = counts.get(t, 0) + 1
    body = "<p>" + "Et indlæg om skolevejen og cykelstien i Tølløse. " * 8 + "</p>"
    pid = 0
    posts: list[dict] = []
    for tid, n in counts.items():
        first = pid + 1
        for k in range(n):
            pid += 1
            parent = rng.randint(first, pid - 1) if k and rng.random() < 0.1 else None
            posts.append(
                {
                    "id": pid,
                    "topic_id": tid,
                    "parent_id": parent,
                    "author_id": rng.randint(1, 3008),
                    "depth": 1 if parent else 0,
                    "body_source": "x",
                    "body_html": body,
                    "stance": rng.choice([None, "for", "against", "question"]),
                    "state": "published",
                    "support_count": rng.randint(0, 20),
                    "created_at": now - timedelta(minutes=n_posts - pid),
                }
            )
            if len(posts) >= BATCH:
                _bulk(Post, posts)
                posts = []
    _bulk(Post, posts)
    for tid, n in counts.items():
        db.session.execute(Topic.__table__.update().where(Topic.id == tid).values(post_count=n))
    db.session.commit()
    return {"big": big, "small": small}


def _measure(fn, repeat: int, cpu: list[float] | None = None) -> tuple[list[float], list[int]]:
    """Wall-clock ms and statements per call; ``cpu`` collects CPU ms (this machine may be
    shared: wall time then includes waiting for a core)."""
    times, queries = [], []
    for _i in range(repeat):
        statements: list[int] = []

        def count(*_a, _s=statements):
            _s.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            fn()
        finally:
            times.append((time.perf_counter() - t0) * 1000)
            if cpu is not None:
                cpu.append((time.process_time() - c0) * 1000)
            event.remove(db.engine, "before_cursor_execute", count)
        queries.append(len(statements))
    return times, queries


def _p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def dump_child(url: str, tmp: str) -> None:
    """In a process of its own: write the dump, print seconds and rows as JSON.

    The app is made inside a click context, as ``flask --app app api dump`` makes it: the
    threads and preloads a serving process starts (the search's word list, the periodic jobs)
    then wait for a first request that a command never serves (``forum/periodic.py``,
    ``start_when_serving``), so the RSS is the command's, not a web instance's."""
    import click

    with click.Context(click.Command("dump")):
        app = create_app(_config(url, tmp))
    with app.app_context():
        from api import dump

        base_kb = _peak_rss_kb()
        t0, c0 = time.perf_counter(), time.process_time()
        counts = dump.write_dump()
        print(
            json.dumps(
                {
                    "seconds": time.perf_counter() - t0,
                    "cpu_seconds": time.process_time() - c0,
                    "base_rss_mb": base_kb / 1024,
                    "peak_rss_mb": _peak_rss_kb() / 1024,
                    "rows": counts,
                }
            )
        )


def _peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM). Not ``getrusage``'s ``ru_maxrss``: on Linux
    that keeps the high-water mark from before ``exec``, i.e. the forking parent's size (the
    bench process holding 100,000 built posts), which is not the dump's."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(n_posts: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        app = create_app(_config(url, tmp))
        with app.app_context():
            db.create_all()
            t0 = time.perf_counter()
            ids = build(n_posts)
            built = time.perf_counter() - t0
            client = app.test_client()
            out: dict = {"build_s": built}
            for name, path in {
                "300 posts, default page": f"/api/v1/topics/{ids['big']}/posts",
                "300 posts, limit=200": f"/api/v1/topics/{ids['big']}/posts?limit=200",
                "30 posts, default page": f"/api/v1/topics/{ids['small']}/posts",
            }.items():
                r = client.get(path)
                assert r.status_code == 200, r.status_code
                tag = r.headers["ETag"]
                cpu: list[float] = []
                times, queries = _measure(lambda p=path: client.get(p), repeat, cpu)
                warm_times, warm_queries = _measure(
                    lambda p=path, t=tag: client.get(p, headers={"If-None-Match": t}), repeat
                )
                warm_status = client.get(path, headers={"If-None-Match": tag}).status_code
                out[name] = {
                    "p50_ms": statistics.median(times),
                    "cpu_p50_ms": statistics.median(cpu),
                    "p95_ms": _p(times, 0.95),
                    "queries": max(queries),
                    "items": len(r.get_json()["items"]),
                    "warm_status": warm_status,
                    "warm_p50_ms": statistics.median(warm_times),
                    "warm_queries": max(warm_queries),
                }
        proc = subprocess.run(
            [sys.executable, __file__, "--dump-child", url, tmp],
            capture_output=True,
            text=True,
            check=True,
        )
        child = json.loads(proc.stdout.strip().splitlines()[-1])
        out["dump"] = {
            "seconds": child["seconds"],
            "cpu_seconds": child["cpu_seconds"],
            "base_rss_mb": child["base_rss_mb"],
            "rows": child["rows"],
            "peak_rss_mb": child["peak_rss_mb"],
            "zip_mb": (Path(tmp) / "open-data" / "borgerdialog.zip").stat().st_size / 2**20,
        }
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--dump-child", nargs=2, metavar=("URL", "TMP"))
    args = parser.parse_args()
    if args.dump_child:
        dump_child(*args.dump_child)
        return 0
    res = run(args.posts, args.repeat)
    print(f"built {args.posts:,} posts in {res['build_s']:.1f} s")
    for name in ("300 posts, default page", "300 posts, limit=200", "30 posts, default page"):
        m = res[name]
        print(
            f"GET posts, {name}: p50 {m['p50_ms']:.1f} ms (target <= {TARGET_P50_MS:.0f}; "
            f"CPU {m['cpu_p50_ms']:.1f} ms), "
            f"p95 {m['p95_ms']:.1f} ms, {m['queries']} statements, {m['items']} items; "
            f"If-None-Match: {m['warm_status']} in {m['warm_p50_ms']:.1f} ms, "
            f"{m['warm_queries']} statements"
        )
    d = res["dump"]
    print(
        f"dump of {args.posts:,} posts: {d['seconds']:.1f} s, CPU {d['cpu_seconds']:.1f} s "
        f"(target <= {TARGET_DUMP_S:.0f} s per 100,000), "
        f"peak RSS {d['peak_rss_mb']:.0f} MB (target <= {TARGET_DUMP_MB:.0f}; the app alone "
        f"{d['base_rss_mb']:.0f} MB before the dump), "
        f"zip {d['zip_mb']:.1f} MB, rows {d['rows']}"
    )
    big, small = res["300 posts, default page"], res["30 posts, default page"]
    scale = 100_000 / args.posts
    figures = {
        "posts_p50_ms": round(big["p50_ms"], 2),
        "posts_cpu_p50_ms": round(big["cpu_p50_ms"], 2),
        "posts_p50_ms_limit_200": round(res["300 posts, limit=200"]["p50_ms"], 2),
        "posts_queries_300": big["queries"],
        "posts_queries_30": small["queries"],
        "warm_status": big["warm_status"],
        "warm_queries": big["warm_queries"],
        "dump_s": round(d["seconds"], 2),
        "dump_s_per_100k": round(d["seconds"] * scale, 2),
        "dump_cpu_s_per_100k": round(d["cpu_seconds"] * scale, 2),
        "dump_base_rss_mb": round(d["base_rss_mb"], 1),
        "dump_peak_rss_mb": round(d["peak_rss_mb"], 1),
        "posts": args.posts,
    }
    targets = {
        "posts_p50_ms": TARGET_P50_MS,
        "constant_queries": True,
        "warm_status": 304,
        "dump_s_per_100k": TARGET_DUMP_S,
        "dump_peak_rss_mb": TARGET_DUMP_MB,
    }
    met = (
        figures["posts_p50_ms"] <= TARGET_P50_MS
        and big["queries"] == small["queries"]
        and big["warm_status"] == 304
        and figures["dump_s_per_100k"] <= TARGET_DUMP_S
        and figures["dump_peak_rss_mb"] <= TARGET_DUMP_MB
    )
    print(json.dumps({"figures": figures, "targets": targets, "met": met}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
