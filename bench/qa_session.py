"""Benchmark a live Q&A session: 1,000 watchers, 100 of them voting, answers every 5 s.

One gunicorn instance with one gevent worker (production, one instance) serves a live
session with 20 published questions. 1,000 light clients (``bench/node/qa_clients.js``,
raw websockets, spread over a few processes) join the session's rooms (``qa:<id>`` and its
topic); 100 of them are signed in and vote at random (a vote or a withdrawal, one at a time,
exponential gaps averaging ``--vote-interval`` seconds) for ``--seconds`` seconds, through
the ``qa_vote`` socket event; meanwhile a politician answers a question every 5 s through
the real form (JSON, as qa.js sends it).

Reported:
* vote round trip p50/p99: from a voter sending ``qa_vote`` to an observer (one
  non-voting watcher per client process) receiving the ``qa_votes`` count it caused;
* answer delivery p50/p99: from the answer's POST being sent to each watcher receiving
  its ``post_published`` message;
* delivery ratio: messages received / messages due (every watcher must get every vote
  count and every answer);
* server memory (peak RSS) and CPU.

Targets on this machine: p99 <= 500 ms for both at 1,000 watchers with gevent; delivery
100 %. Needs Node.js with ``npm ci`` in bench/node. Run from the repository root:
``.venv/bin/python bench/qa_session.py [--seconds 60] [--watchers 1000] [--voters 100]``.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import live_fanout as lf  # noqa: E402  (Proc, Sampler, pct, free_port, cpu_seconds)

NODE = BENCH / "node"
TARGET_P99_MS = 500.0
TARGET_DELIVERY = 1.0
QUESTIONS = 20


def seed(db_path: Path, voters: int) -> dict:
    """A live session with QUESTIONS published questions, a politician and ``voters``
    citizens; returns the ids and e-mails."""
    from app import create_app
    from forum import services as forum_services
    from forum.extensions import db
    from forum.models import Committee, Role, utcnow
    from qa import services

    cfg = lf._config() | {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "SEARCH_INDEX_DIR": str(db_path.parent / "ix"),
        "MAIL_WORKER": "external",
        "SEARCH_WORKER": "external",
    }
    app = create_app(cfg)
    with app.app_context():
        db.create_all()
        committee = Committee(slug="oekonomi", name="Økonomiudvalget")
        db.session.add(committee)
        db.session.flush()
        staff = forum_services.register_user("staff@bench.example", "Bench Staff", lf.PASSWORD)
        forum_services.set_role(staff, Role.MODERATOR)
        pol = forum_services.register_user("pol@bench.example", "Bench Politiker", lf.PASSWORD)
        forum_services.set_role(pol, Role.POLITICIAN, party="SF")
        askers = [
            forum_services.register_user(f"asker{i}@bench.example", f"Spørger {i}", lf.PASSWORD)
            for i in range(QUESTIONS)
        ]
        emails = [
            forum_services.register_user(
                f"voter{i}@bench.example", f"Vælger {i}", lf.PASSWORD
            ).email
            for i in range(voters)
        ]
        now = utcnow()
        session = services.schedule_session(
            staff,
            "Spørgetid under belastning",
            "Måling af live-spørgetid.",
            now + timedelta(minutes=1),
            now + timedelta(hours=2),
            [pol.id],
            committee_id=committee.id,
            premoderated=False,
        )
        services.start_session(staff, session)
        questions = [
            services.ask(a, session, f"Spørgsmål nummer {i + 1} til politikeren?").id
            for i, a in enumerate(askers)
        ]
        services.pin(staff, session, questions[0])
        db.session.commit()
        out = {
            "session": session.id,
            "topic": session.debate_topic_id,
            "questions": questions,
            "voters": emails,
        }
        db.session.remove()
        db.engine.dispose()
    return out


def login_cookies(url: str, emails: list[str]) -> list[str]:
    import requests

    cookies = []
    for email in emails:
        with requests.Session() as s:
            r = s.post(
                url + "/login",
                data={"email": email, "password": lf.PASSWORD},
                allow_redirects=False,
                timeout=30,
            )
            if r.status_code != 302:
                raise RuntimeError(f"login failed for {email}: {r.status_code}")
            cookies.append("; ".join(f"{c.name}={c.value}" for c in s.cookies))
    return cookies


def answer_loop(
    url: str, world: dict, stop: threading.Event, every: float, sent: dict[int, float]
) -> None:
    """The politician answers a question every ``every`` seconds (the real form, JSON)."""
    import requests

    with requests.Session() as s:
        r = s.post(
            url + "/login",
            data={"email": "pol@bench.example", "password": lf.PASSWORD},
            allow_redirects=False,
            timeout=30,
        )
        if r.status_code != 302:
            raise RuntimeError("politician login failed")
        i = 0
        next_at = time.monotonic() + every / 2
        while not stop.wait(max(0.0, next_at - time.monotonic())):
            q = world["questions"][i % len(world["questions"])]
            t0 = time.time() * 1000
            r = s.post(
                f"{url}/spoergetid/{world['session']}/spoergsmaal/{q}/svar",
                data={"body": f"Svar nummer {i + 1}: det ser vi på.", "nonce": f"bench-{i}"},
                headers={"X-Requested-With": "fetch"},
                timeout=30,
            )
            if r.status_code != 200 or not r.json().get("ok"):
                raise RuntimeError(f"answer failed: {r.status_code} {r.text[:200]}")
            sent[r.json()["post_id"]] = t0
            i += 1
            next_at += every


def vote_latencies(results: list[dict]) -> list[float]:
    """For each acknowledged vote, the time until each observer saw the count it caused:
    the first ``qa_votes`` for that question with that count received after the send."""
    by_key: dict[tuple[int, int, int], list[float]] = {}
    for r in results:
        for t_recv, post_id, votes, _id in r["observed"]:
            by_key.setdefault((r["process"], post_id, votes), []).append(t_recv)
    for times in by_key.values():
        times.sort()
    out = []
    observers = [r["process"] for r in results]
    for r in results:
        for t_send, post_id, votes, ok in r["votes"]:
            if not ok:
                continue
            for proc in observers:
                times = by_key.get((proc, post_id, votes), [])
                seen = next((t for t in times if t >= t_send), None)
                if seen is not None:
                    out.append(seen - t_send)
    return out


def spawn_clients(
    args, url: str, world: dict, cookies: list[str], tmp: Path
) -> list[subprocess.Popen]:
    """The client processes, watchers and voters spread evenly over them."""
    nproc = max(1, args.client_processes)
    share = [args.watchers // nproc + (1 if i < args.watchers % nproc else 0) for i in range(nproc)]
    vshare = [args.voters // nproc + (1 if i < args.voters % nproc else 0) for i in range(nproc)]
    out = []
    offset = 0
    for i, (k, v) in enumerate(zip(share, vshare, strict=True)):
        conf = tmp / f"clients-{i}.json"
        conf.write_text(
            json.dumps(
                {
                    "url": url,
                    "n": k,
                    "rooms": [f"qa:{world['session']}", f"topic:{world['topic']}"],
                    "session_id": world["session"],
                    "questions": world["questions"],
                    "cookies": cookies[offset : offset + min(v, k)],
                    "seconds": args.seconds,
                    "vote_interval_s": args.vote_interval,
                    "process": i,
                }
            )
        )
        offset += min(v, k)
        out.append(
            subprocess.Popen(
                ["node", str(NODE / "qa_clients.js"), str(conf)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--watchers", type=int, default=1000)
    ap.add_argument("--voters", type=int, default=100)
    ap.add_argument(
        "--vote-interval", type=float, default=10.0, help="mean seconds between one voter's votes"
    )
    ap.add_argument("--answer-every", type=float, default=5.0)
    ap.add_argument("--client-processes", type=int, default=4)
    args = ap.parse_args()
    if args.seconds > 150:
        sys.exit("--seconds is at most 150 (the whole run must stay under 4 minutes)")
    if not (NODE / "node_modules" / "ws").exists() or not shutil.which("node"):
        sys.exit("Node.js and bench/node/node_modules are needed (cd bench/node && npm ci).")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    started = time.monotonic()

    tmp = Path(tempfile.mkdtemp(prefix="qa-session-"))
    db_path = tmp / "bench.sqlite3"
    world = seed(db_path, args.voters)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # As in production: the search indexer and the mail sender run as their own processes
    # (``flask search worker``, ``flask mail send``), not inside the gevent web instance.
    cfg = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "SEARCH_INDEX_DIR": str(tmp / "ix"),
        "LIVE_CHANNEL": f"bench-qa-{os.getpid()}",
        "MAIL_WORKER": "external",
        "SEARCH_WORKER": "external",
    }
    env["BENCH_LIVE_CONFIG"] = json.dumps(cfg)
    port = lf.free_port()
    server = lf.Proc(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-k",
            "gevent",
            "-w",
            "1",
            "--worker-connections",
            "10000",
            "--backlog",
            "4096",
            "--graceful-timeout",
            "2",
            "--pythonpath",
            str(BENCH),
            "-b",
            f"127.0.0.1:{port}",
            "live_fanout:wsgi_app()",
        ],
        env,
        tmp / "gevent.log",
        port,
    )
    clients: list[subprocess.Popen] = []
    stop = threading.Event()
    sent: dict[int, float] = {}
    try:
        server.wait_ready()
        cookies = login_cookies(server.url, world["voters"])
        t0 = time.perf_counter()
        clients.extend(spawn_clients(args, server.url, world, cookies, tmp))
        ready = [json.loads(c.stdout.readline().split(" ", 1)[1]) for c in clients]
        connect_s = time.perf_counter() - t0
        failed = sum(r["failed"] for r in ready)
        sampler = lf.Sampler([server])
        sampler.start()
        pids = server.tree()
        cpu0 = lf.cpu_seconds(pids)
        answers = threading.Thread(
            target=answer_loop, daemon=True, args=(server.url, world, stop, args.answer_every, sent)
        )
        for c in clients:
            c.stdin.write("START\n")
            c.stdin.flush()
        answers.start()
        for c in clients:
            if c.stdout.readline().strip() != "VOTED":
                raise RuntimeError("a client process stopped early")
        stop.set()
        answers.join(timeout=30)
        time.sleep(3)  # the last messages in flight
        cpu1 = lf.cpu_seconds(pids)
        sampler.halt.set()
        sampler.join()
        results = []
        for c in clients:
            c.stdin.write("STOP\n")
            c.stdin.flush()
            for line in c.stdout:
                if line.startswith("RESULT "):
                    results.append(json.loads(line[7:]))
                    break
            c.wait(timeout=30)
    finally:
        stop.set()
        for c in clients:
            if c.poll() is None:
                c.kill()
                c.wait()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    ok_votes = sum(1 for r in results for v in r["votes"] if v[3])
    tried_votes = sum(len(r["votes"]) for r in results)
    watchers = sum(len(r["vote_msgs"]) for r in results)
    vote_msgs = sum(sum(r["vote_msgs"]) for r in results)
    answer_msgs = sum(len(times) for r in results for times in r["answers"].values())
    due = watchers * (ok_votes + len(sent))
    delivery = (vote_msgs + answer_msgs) / due if due else 1.0
    rt = vote_latencies(results)
    ans = [
        t - sent[int(pid)]
        for r in results
        for pid, times in r["answers"].items()
        if int(pid) in sent
        for t in times
    ]
    row = {
        "watchers": args.watchers,
        "voters": args.voters,
        "seconds": args.seconds,
        "connect_s": round(connect_s, 2),
        "failed_connects": failed,
        "votes_sent": tried_votes,
        "votes_counted": ok_votes,
        "answers": len(sent),
        "vote_rt_p50_ms": round(lf.pct(rt, 50), 1),
        "vote_rt_p99_ms": round(lf.pct(rt, 99), 1),
        "vote_rt_samples": len(rt),
        "answer_p50_ms": round(lf.pct(ans, 50), 1),
        "answer_p99_ms": round(lf.pct(ans, 99), 1),
        "delivered": vote_msgs + answer_msgs,
        "due": due,
        "delivery": round(delivery, 5),
        "server_mb_peak": round(sampler.peak[0], 1),
        "server_cpu_s": round(cpu1 - cpu0, 1),
        "client_cpu_s": round(sum(r["cpu_s"] for r in results), 1),
        "vote_errors": {k: v for r in results for k, v in r["errors"].items()},
        "wall_s": round(time.monotonic() - started, 1),
    }
    print(
        f"gevent, {args.watchers} watchers ({failed} failed to connect, {connect_s:.1f} s), "
        f"{args.voters} voting for {args.seconds:.0f} s, an answer every "
        f"{args.answer_every:.0f} s"
    )
    print(f"  votes: {ok_votes} counted of {tried_votes} sent; answers: {len(sent)}")
    verdicts = {
        "vote_rt_p99": row["vote_rt_p99_ms"] <= TARGET_P99_MS,
        "answer_p99": row["answer_p99_ms"] <= TARGET_P99_MS,
        "delivery_100": delivery >= TARGET_DELIVERY and failed == 0,
    }

    def verdict(ok: bool) -> str:
        return "MET" if ok else "MISSED"

    print(
        f"  vote round trip  p50 {row['vote_rt_p50_ms']:7.1f} ms  p99 "
        f"{row['vote_rt_p99_ms']:7.1f} ms  (target p99 <= {TARGET_P99_MS:.0f} ms): "
        f"{verdict(verdicts['vote_rt_p99'])}"
    )
    print(
        f"  answer delivery  p50 {row['answer_p50_ms']:7.1f} ms  p99 "
        f"{row['answer_p99_ms']:7.1f} ms  (target p99 <= {TARGET_P99_MS:.0f} ms): "
        f"{verdict(verdicts['answer_p99'])}"
    )
    print(
        f"  delivery {delivery:.4%} ({vote_msgs + answer_msgs}/{due}) (target 100%): "
        f"{verdict(verdicts['delivery_100'])}"
    )
    print(
        f"  server memory peak {row['server_mb_peak']:.0f} MB, CPU {row['server_cpu_s']} s; "
        f"clients CPU {row['client_cpu_s']} s; wall {row['wall_s']} s"
    )
    print(
        json.dumps(
            {
                "bench": "qa_session",
                "cpus": os.cpu_count(),
                "row": row,
                "targets": {
                    "vote_rt_p99_ms": TARGET_P99_MS,
                    "answer_p99_ms": TARGET_P99_MS,
                    "delivery": TARGET_DELIVERY,
                },
                "verdicts": verdicts,
            }
        )
    )


if __name__ == "__main__":
    main()
