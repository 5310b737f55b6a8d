"""Benchmark the moderation queue at scale.

Builds a fresh SQLite file with 100,000 posts (bulk inserts shaped like the application's
own rows): 10,000 held (pending, each with its queue item and audit entry) and 2,000
flagged (published or hidden after reports, each with its reports and queue item), in 300
topics over Holbæk's committees and 12 local areas, by 3,000 authors. Then, in-process with
the real app and Flask's test client, as a moderator:

* the queue's first page (``GET /moderation``), and a filtered page
  (``GET /moderation?area=…&reason=new_author``), and a scoped moderator's first page;
* one decision (``POST /moderation/items/<id>/decide``, approve), on fresh items each time;

printing p50/p95 in milliseconds and SQL statements per request (which must not depend on
the queue's size: the bench also measures a 1/10 scale database and compares).

Targets: queue page p50 <= 100 ms; the same statement count per page and per decision at
both scales.

Run from the repository root: ``.venv/bin/python bench/moderation_queue.py``
(``--posts``, ``--pending``, ``--flagged``, ``--repeat``; see ``--help``).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import g  # noqa: E402
from sqlalchemy import event, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from forum import services as forum_services  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Area, Committee, Post, Role, Topic, User, utcnow  # noqa: E402
from moderation.models import AuditEntry, Flag, QueueItem  # noqa: E402
from moderation.services import ensure_default_rules  # noqa: E402

PASSWORD = "bench-password-123"
TARGET_P50_MS = 100.0
BATCH = 5000


def _config(db_url: str, tmp: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SECRET_KEY": "bench",
        "INSTANCE_PATH": str(Path(tmp) / "instance"),
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        "SEARCH_INDEX_DIR": str(Path(tmp) / "search-index"),
        "SEARCH_WORKER": "external",
        "MAIL_WORKER": "external",
        # No background threads: each scale's database is deleted when it has been measured.
        "MODERATION_REMINDER_WORKER": "external",
        "BUDGETS_SCHEDULER": "external",
        "MAIL_OUTBOX_DIR": str(Path(tmp) / "outbox"),
        "MAIL_REQUIRE_VERIFICATION": False,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "MODERATION_ENABLED": True,
    }


def _bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[start : start + BATCH])


def build(n_posts: int, n_pending: int, n_flagged: int, seed: int = 2026) -> dict:
    """Fill an empty database; returns the ids the measurements need."""
    rng = random.Random(seed)
    now = utcnow()
    ensure_default_rules()
    committees = [Committee(slug=f"udvalg-{i}", name=f"Udvalg {i}") for i in range(7)]
    areas = [Area(slug=f"omraade-{i}", name=f"Område {i}") for i in range(12)]
    db.session.add_all(committees + areas)
    db.session.flush()
    moderator = forum_services.register_user("mod@bench.example", "Bench Moderator", PASSWORD)
    forum_services.set_role(moderator, Role.MODERATOR)
    scoped = forum_services.register_user("scoped@bench.example", "Scoped Mod", PASSWORD)
    forum_services.set_role(scoped, Role.MODERATOR, areas=[areas[0], areas[1]])
    admin = forum_services.register_user("admin@bench.example", "Bench Admin", PASSWORD)
    forum_services.set_role(admin, Role.ADMIN)
    db.session.flush()
    hashed = moderator.password_hash
    first_user = db.session.scalar(select(User.id).order_by(User.id.desc())) + 1
    n_users = 3000
    _bulk(
        User,
        [
            {
                "id": first_user + i,
                "email": f"u{i}@bench.example",
                "display_name": f"Borger {i}",
                "password_hash": hashed,
                "role": Role.CITIZEN,
                "session_version": 1,
                "created_at": now - timedelta(days=rng.randint(1, 900)),
            }
            for i in range(n_users)
        ],
    )
    user_ids = list(range(first_user, first_user + n_users))
    topics = []
    for i in range(300):
        topics.append(
            {
                "id": i + 1,
                "title": f"Emne {i}",
                "intro_source": "Intro",
                "intro_html": "<p>Intro</p>",
                "committee_id": committees[i % 7].id,
                "area_id": areas[i % 12].id if i % 3 else None,
                "author_id": admin.id,
                "status": "open",
                "created_at": now - timedelta(days=60),
                "updated_at": now,
                "last_activity_at": now,
                "post_count": 0,
            }
        )
    _bulk(Topic, topics)
    states = (
        ["pending"] * n_pending
        + ["flagged"] * n_flagged
        + ["published"] * (n_posts - n_pending - n_flagged)
    )
    rng.shuffle(states)
    posts, items, audits, flags = [], [], [], []
    published_by_topic: dict[int, list[int]] = {}
    counts: dict[int, int] = {}
    start = now - timedelta(days=30)
    for i, kind in enumerate(states):
        pid = i + 1
        t = topics[rng.randrange(len(topics))]
        author = rng.choice(user_ids)
        created = start + timedelta(seconds=i * 25)
        parents = published_by_topic.get(t["id"], [])
        parent = rng.choice(parents) if parents and rng.random() < 0.5 else None
        state = {"pending": "pending", "published": "published"}.get(kind, "published")
        if kind == "flagged" and rng.random() < 0.4:
            state = "hidden"
        body = f"Indlæg nummer {pid} om emnet. " * 8
        posts.append(
            {
                "id": pid,
                "topic_id": t["id"],
                "parent_id": parent,
                "author_id": author,
                "depth": 1 if parent else 0,
                "body_source": body,
                "body_html": f"<p>{body}</p>",
                "state": state,
                "held_reason": "new_author" if kind == "pending" else None,
                "support_count": 0,
                "created_at": created,
            }
        )
        if state == "published":
            published_by_topic.setdefault(t["id"], []).append(pid)
            counts[t["id"]] = counts.get(t["id"], 0) + 1
        if kind == "pending":
            items.append(
                {
                    "kind": "post",
                    "status": "open",
                    "open_key": f"post:{pid}",
                    "post_id": pid,
                    "topic_id": t["id"],
                    "committee_id": t["committee_id"],
                    "area_id": t["area_id"],
                    "reason": "new_author",
                    "detail": "new_author",
                    "created_at": created,
                }
            )
            audits.append(
                {
                    "created_at": created,
                    "action": "hold",
                    "target_type": "post",
                    "target_id": pid,
                    "to_state": "pending",
                    "text": "",
                    "data": {},
                    "post_id": pid,
                    "topic_id": t["id"],
                    "subject_user_id": author,
                    "area_id": t["area_id"],
                    "committee_id": t["committee_id"],
                }
            )
        elif kind == "flagged":
            reporters = rng.sample(user_ids, 3 if state == "hidden" else rng.randint(1, 2))
            for r in reporters:
                if r != author:
                    flags.append(
                        {
                            "post_id": pid,
                            "reporter_id": r,
                            "post_author_id": author,
                            "rule_id": None,
                            "text": "Spam",
                            "weight": 1.0,
                            "status": "open",
                            "created_at": created,
                        }
                    )
            items.append(
                {
                    "kind": "flag",
                    "status": "open",
                    "open_key": f"flag:{pid}",
                    "post_id": pid,
                    "topic_id": t["id"],
                    "committee_id": t["committee_id"],
                    "area_id": t["area_id"],
                    "reason": "flags",
                    "detail": "",
                    "created_at": created + timedelta(hours=1),
                }
            )
    _bulk(Post, posts)
    _bulk(QueueItem, items)
    _bulk(AuditEntry, audits)
    _bulk(Flag, flags)
    for tid, n in counts.items():
        db.session.execute(Topic.__table__.update().where(Topic.id == tid).values(post_count=n))
    db.session.commit()
    return {"moderator": moderator.email, "scoped": scoped.email, "area": areas[0].id}


def _login(app, email: str):
    client = app.test_client()
    r = client.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302, r.status_code
    return client


def _measure(fn, repeat: int) -> tuple[list[float], list[int]]:
    times, queries = [], []
    for _i in range(repeat):
        statements: list[str] = []

        def count(*_a, _s=statements):
            _s.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        t0 = time.perf_counter()
        try:
            fn()
        finally:
            elapsed = (time.perf_counter() - t0) * 1000
            event.remove(db.engine, "before_cursor_execute", count)
        times.append(elapsed)
        queries.append(len(statements))
    return times, queries


def _p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def run(n_posts: int, n_pending: int, n_flagged: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        app = create_app(_config(url, tmp))

        @app.before_request
        def _fresh_user() -> None:
            # The requests below share this script's app context (and ``g``): drop the user
            # Flask-Login cached there, as tests/conftest.py does.
            g.pop("_login_user", None)

        with app.app_context():
            db.create_all()
            t0 = time.perf_counter()
            ids = build(n_posts, n_pending, n_flagged)
            built = time.perf_counter() - t0
            mod = _login(app, ids["moderator"])
            scoped = _login(app, ids["scoped"])
            pages = {
                "first page": (mod, "/moderation"),
                "filtered page": (mod, f"/moderation?area={ids['area']}&reason=new_author"),
                "scoped moderator": (scoped, "/moderation"),
                "page 20": (mod, "/moderation?side=20"),
            }
            out: dict = {"build_s": built, "pages": {}}
            for name, (client, path) in pages.items():
                client.get(path)  # warm caches (templates, statement cache)

                def get(client=client, path=path):
                    r = client.get(path)
                    assert r.status_code == 200, (path, r.status_code)

                out["pages"][name] = _measure(get, repeat)
            # Top-level posts: approving a reply also notifies the parent's author (the
            # forum's fan-out, a few statements more), which does not depend on the queue.
            open_items = list(
                db.session.scalars(
                    select(QueueItem.id)
                    .join(Post, Post.id == QueueItem.post_id)
                    .where(
                        QueueItem.kind == "post",
                        QueueItem.status == "open",
                        Post.parent_id.is_(None),
                    )
                    .order_by(QueueItem.created_at.desc())
                    .limit(repeat + 1)
                )
            )
            mod.post(f"/moderation/items/{open_items.pop()}/decide", data={"action": "approve"})
            it = iter(open_items)

            def decide():
                r = mod.post(f"/moderation/items/{next(it)}/decide", data={"action": "approve"})
                assert r.status_code == 302, r.status_code

            out["decision"] = _measure(decide, repeat)
            db.session.remove()
            db.engine.dispose()
        return out


def _report(label: str, res: dict) -> None:
    print(f"\n{label} (built in {res['build_s']:.1f} s)")
    print(f"  {'request':<22} {'p50 ms':>8} {'p95 ms':>8} {'statements':>11}")
    for name, (times, queries) in [*res["pages"].items(), ("one decision", res["decision"])]:
        qs = sorted(set(queries))
        print(
            f"  {name:<22} {statistics.median(times):8.1f} {_p(times, 0.95):8.1f} "
            f"{'/'.join(map(str, qs)):>11}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--pending", type=int, default=10_000)
    ap.add_argument("--flagged", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    full = run(args.posts, args.pending, args.flagged, args.repeat)
    small = run(args.posts // 10, args.pending // 10, args.flagged // 10, args.repeat)
    _report(f"{args.posts:,} posts, {args.pending:,} held, {args.flagged:,} flagged", full)
    _report(
        f"{args.posts // 10:,} posts, {args.pending // 10:,} held, "
        f"{args.flagged // 10:,} flagged (scale check)",
        small,
    )
    p50 = statistics.median(full["pages"]["first page"][0])
    same = all(
        set(full["pages"][k][1]) == set(small["pages"][k][1]) for k in full["pages"]
    ) and set(full["decision"][1]) == set(small["decision"][1])
    print(
        f"\nTarget: queue page p50 <= {TARGET_P50_MS:.0f} ms: "
        f"{'met' if p50 <= TARGET_P50_MS else 'NOT met'} ({p50:.1f} ms)"
    )
    print(
        f"Target: statements per page and per decision independent of the queue's size: "
        f"{'met' if same else 'NOT met'}"
    )
    figures = {
        scale: {
            name: {
                "p50_ms": round(statistics.median(t), 1),
                "p95_ms": round(_p(t, 0.95), 1),
                "statements": sorted(set(q)),
            }
            for name, (t, q) in [*data["pages"].items(), ("one decision", data["decision"])]
        }
        for scale, data in (("full", full), ("tenth", small))
    }
    print(
        json.dumps(
            {
                "benchmark": "moderation_queue",
                "figures": figures,
                "targets": {
                    "queue_page_p50_ms": TARGET_P50_MS,
                    "statements_independent_of_size": True,
                },
                "met": {
                    "queue_page_p50_ms": p50 <= TARGET_P50_MS,
                    "statements_independent_of_size": same,
                },
            }
        )
    )
    return 0 if p50 <= TARGET_P50_MS and same else 1


if __name__ == "__main__":
    sys.exit(main())
