"""Benchmark live fan-out: N clients in one topic room, 50 posts broadcast ~200 ms apart.

For each N (default 100, 500, 1000) and each server:

* ``threading``  the embedded default (``python app.py``: werkzeug + simple-websocket);
* ``gevent``     one gunicorn instance with one gevent worker (production, one instance);
* ``redis2``     two such instances sharing the room through Redis (clients split evenly);
* ``node``       the reference: a minimal Node.js socket.io server (``bench/node``) doing
                 the same broadcast,

it connects N light clients spread over several processes, posts 50 times (through the real
HTTP form, so each post is written, committed and pushed as in production; Node gets a
trigger request instead) and reports: connect time, p50/p99 delivery latency (from the
server's send time in the payload, ``sent_at``, to the client's receive time), the delivery
ratio, the server's peak memory (RSS per instance) and CPU time, and the clients' CPU time.

Light clients (``bench/node/clients.js``): raw websockets (the ``ws`` package) speaking just
enough engine.io/socket.io, hundreds per process, a few processes. A python-socketio client
per connection costs more CPU than the server and hides the server's cost; a hand-rolled
asyncio client still cost 3x Node's server CPU here; these cost less than the servers.

Targets at 1,000 clients: every message delivered; one gevent instance p99 <= 2.5x Node's;
two gevent instances behind Redis p99 <= 1.5x Node's; server memory <= 300 MB per instance.

Needs: Node.js with ``npm ci`` done in bench/node (the reference and the clients), Redis
on 127.0.0.1:6379 (``--redis``) for ``redis2``. Run from the repository root:
``.venv/bin/python bench/live_fanout.py [--clients 100,500,1000] [--servers ...]``.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
NODE_DIR = BENCH / "node"
PASSWORD = "bench-password-2026"
TARGET_GEVENT_RATIO = 2.5
TARGET_REDIS_RATIO = 1.5
TARGET_MEMORY_MB = 300.0
SERVERS = ("threading", "gevent", "redis2", "node")


# --- the server side ---------------------------------------------------------------------


def _config() -> dict:
    cfg = {
        "SECRET_KEY": "bench-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MODERATION_ENABLED": False,  # publish at once: this measures delivery
        "MAIL_REQUIRE_VERIFICATION": False,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "LIVE_RATE_BURST": 1000,
        # As in production: no mail or search threads in the web process (they would hold
        # the seed's SQLite open, and take CPU from the fan-out being measured).
        "MAIL_WORKER": "external",
        "SEARCH_WORKER": "external",
    }
    cfg.update(json.loads(os.environ.get("BENCH_LIVE_CONFIG", "{}")))
    return cfg


def wsgi_app():
    """For gunicorn: ``gunicorn -k gevent --pythonpath bench 'live_fanout:wsgi_app()'``."""
    sys.path.insert(0, str(ROOT))
    from app import create_app

    return create_app(_config())


def serve_threading(port: int) -> None:
    """Like ``python app.py``: threading mode on werkzeug."""
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from forum.extensions import socketio

    app = create_app(_config())
    socketio.run(
        app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, debug=False, log_output=False
    )


def seed(db_path: Path) -> int:
    """A topic and a poster in a fresh SQLite file; returns the topic id."""
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from forum import services
    from forum.extensions import db
    from forum.models import Committee, Role

    cfg = _config() | {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "SEARCH_INDEX_DIR": str(db_path.parent / "ix"),
    }
    app = create_app(cfg)
    with app.app_context():
        db.create_all()
        committee = Committee(slug="klima", name="Udvalget for Klima og Miljø")
        db.session.add(committee)
        db.session.flush()
        admin = services.register_user("admin@bench.example", "Bench Admin", PASSWORD)
        services.set_role(admin, Role.ADMIN)
        services.register_user("poster@bench.example", "Bench Poster", PASSWORD)
        topic = services.create_topic(
            admin, "Fan-out", "Live updates under load.", committee_id=committee.id
        )
        db.session.commit()
        topic_id = topic.id
        db.session.remove()
        with db.engine.connect() as conn:  # everything into the file that gets copied
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.engine.dispose()
    return topic_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A server process we started (own process group, stopped by its PID)."""

    def __init__(self, cmd: list[str], env: dict, log: Path, port: int):
        self.port = port
        self.log = log
        with log.open("wb") as out:
            self.p = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server not ready: {self.log.read_text()[-2000:]}")

    def tree(self) -> list[int]:
        """The PIDs of this server: the process and its children (gunicorn's worker)."""
        pids = [self.p.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[1]) == self.p.pid:
                        pids.append(int(entry.name))
        return pids

    def stop(self) -> None:
        if self.p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.p.pid, signal.SIGINT)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(timeout=10)


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def start_servers(kind: str, db_path: Path, tmp: Path, redis_url: str | None) -> list[Proc]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cfg = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "SEARCH_INDEX_DIR": str(tmp / "ix"),
        "LIVE_CHANNEL": f"bench-{os.getpid()}",
    }
    procs = []
    if kind == "node":
        port = free_port()
        procs.append(
            Proc(["node", str(NODE_DIR / "server.js"), str(port)], env, tmp / "node.log", port)
        )
    elif kind == "threading":
        port = free_port()
        env["BENCH_LIVE_CONFIG"] = json.dumps(cfg)
        procs.append(
            Proc(
                [sys.executable, str(Path(__file__).resolve()), "serve", str(port)],
                env,
                tmp / "threading.log",
                port,
            )
        )
    else:
        for i in range(2 if kind == "redis2" else 1):
            port = free_port()
            c = dict(cfg, REDIS_URL=redis_url) if kind == "redis2" else cfg
            env_i = dict(env, BENCH_LIVE_CONFIG=json.dumps(c))
            procs.append(
                Proc(
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
                    env_i,
                    tmp / f"gevent-{i}.log",
                    port,
                )
            )
    for p in procs:
        p.wait_ready()
    return procs


# --- the orchestrator --------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Sampler(threading.Thread):
    """Peak RSS per server instance, sampled every 0.25 s."""

    def __init__(self, procs: list[Proc]):
        super().__init__(daemon=True)
        self.procs = procs
        self.peak = [0.0] * len(procs)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            for i, p in enumerate(self.procs):
                self.peak[i] = max(self.peak[i], rss_mb(p.tree()))
            self.halt.wait(0.25)


def _login(url: str):
    import requests

    s = requests.Session()
    r = s.post(
        url + "/login",
        data={"email": "poster@bench.example", "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    if r.status_code != 302:
        raise RuntimeError(f"login failed: {r.status_code}")
    return s


def _spawn_clients(
    urls: list[str], n: int, room: str, posts: int, procs_per: int
) -> list[subprocess.Popen]:
    nproc = max(len(urls), min(procs_per, n // 50 or 1))
    share = [n // nproc + (1 if i < n % nproc else 0) for i in range(nproc)]
    # Each process talks to one instance (for redis2 they alternate).
    return [
        subprocess.Popen(
            [
                "node",
                str(NODE_DIR / "clients.js"),
                json.dumps([urls[i % len(urls)]]),
                str(k),
                room,
                str(posts),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, k in enumerate(share)
    ]


def _broadcast(
    kind: str, url: str, session, room: str, topic_id: int, posts: int, interval: float
) -> None:
    import urllib.request

    start = time.perf_counter()
    for i in range(posts):
        time.sleep(max(0.0, start + i * interval - time.perf_counter()))
        if kind == "node":
            req = urllib.request.Request(f"{url}/broadcast?room={room}", method="POST")
            urllib.request.urlopen(req, timeout=30).close()
            continue
        r = session.post(
            f"{url}/emner/{topic_id}/indlaeg",
            data={"body": f"Indlæg nummer {i + 1} i målingen."},
            allow_redirects=False,
            timeout=30,
        )
        if r.status_code != 302:
            raise RuntimeError(f"post failed: {r.status_code} {r.text[:300]}")


def _wait_done(clients: list[subprocess.Popen], timeout: float) -> None:
    """Wait (bounded) until every client process says all its clients got every message."""
    import selectors

    deadline = time.monotonic() + timeout
    waiting = list(clients)
    with selectors.DefaultSelector() as sel:
        for c in waiting:
            sel.register(c.stdout, selectors.EVENT_READ, c)
        while waiting and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                line = key.data.stdout.readline()
                if line.strip() == "DONE" or not line:
                    sel.unregister(key.fileobj)
                    waiting.remove(key.data)


def _results(clients: list[subprocess.Popen]) -> list[dict]:
    results = []
    for c in clients:
        c.stdin.write("STOP\n")
        c.stdin.flush()
        for line in c.stdout:
            if line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
                break
        c.wait(timeout=30)
    return results


def run_one(
    kind: str,
    n: int,
    posts: int,
    interval: float,
    procs_per: int,
    redis_url: str | None,
    template_db: Path,
    topic_id: int,
) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"live-fanout-{kind}-"))
    db_path = tmp / "bench.sqlite3"
    shutil.copy(template_db, db_path)
    servers = start_servers(kind, db_path, tmp, redis_url)
    clients: list[subprocess.Popen] = []
    session = None
    room = f"topic:{topic_id}" if kind != "node" else "topic:1"
    try:
        t0 = time.perf_counter()
        clients = _spawn_clients([s.url for s in servers], n, room, posts, procs_per)
        ready = [json.loads(c.stdout.readline().split(" ", 1)[1]) for c in clients]
        connect_wall = time.perf_counter() - t0
        sampler = Sampler(servers)
        sampler.start()
        pids = [pid for s in servers for pid in s.tree()]
        cpu0 = cpu_seconds(pids)
        session = _login(servers[0].url) if kind != "node" else None
        _broadcast(kind, servers[0].url, session, room, topic_id, posts, interval)
        _wait_done(clients, timeout=15)
        cpu1 = cpu_seconds(pids)
        sampler.halt.set()
        sampler.join()
        results = _results(clients)
    finally:
        if session is not None:
            session.close()
        for c in clients:
            if c.poll() is None:
                c.kill()
                c.wait()
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    latency = [x for r in results for x in r["latency_ms"]]
    connect = [x for r in results for x in r["connect_ms"]]
    received = sum(r["received"] for r in results)
    return {
        "server": kind,
        "clients": n,
        "instances": len(servers),
        "connect_s": round(connect_wall, 2),
        "connect_p99_ms": round(pct(connect, 99), 1),
        "failed_connects": sum(r["failed"] for r in ready),
        "p50_ms": round(pct(latency, 50), 1),
        "p99_ms": round(pct(latency, 99), 1),
        "max_ms": round(max(latency), 1) if latency else None,
        "delivered": received,
        "expected": n * posts,
        "delivery": round(received / (n * posts), 4) if n else 1.0,
        "server_mb_peak": [round(x, 1) for x in sampler.peak],
        "server_cpu_s": round(cpu1 - cpu0, 2),
        "client_cpu_s": round(sum(r["cpu_s"] for r in results), 2),
        "client_processes": len(clients),
    }


def _redis_ok(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:  # any failure: not usable
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", default="100,500,1000")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--posts", type=int, default=50)
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--client-processes", type=int, default=4)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()
    sizes = [int(x) for x in args.clients.split(",")]
    kinds = [k for k in args.servers.split(",") if k]
    if "redis2" in kinds and not _redis_ok(args.redis):
        print(f"Redis not reachable at {args.redis}: skipping redis2", file=sys.stderr)
        kinds.remove("redis2")
    if not (NODE_DIR / "node_modules" / "ws").exists() or not shutil.which("node"):
        sys.exit("Node.js and bench/node/node_modules are needed (cd bench/node && npm ci).")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    tmp = Path(tempfile.mkdtemp(prefix="live-fanout-"))
    template = tmp / "template.sqlite3"
    topic_id = seed(template)
    rows = []
    try:
        for n in sizes:
            for kind in kinds:
                row = run_one(
                    kind,
                    n,
                    args.posts,
                    args.interval,
                    args.client_processes,
                    args.redis,
                    template,
                    topic_id,
                )
                rows.append(row)
                print(
                    f"{kind:>9} N={n:<5} connect {row['connect_s']:6.2f} s "
                    f"(p99 {row['connect_p99_ms']:7.1f} ms)  p50 {row['p50_ms']:7.1f} ms  "
                    f"p99 {row['p99_ms']:7.1f} ms  delivered {row['delivery']:.2%}  "
                    f"mem {'+'.join(f'{m:.0f}' for m in row['server_mb_peak'])} MB  "
                    f"cpu server {row['server_cpu_s']:.1f} s / clients "
                    f"{row['client_cpu_s']:.1f} s",
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    verdicts = {}
    top = max(sizes)
    at = {r["server"]: r for r in rows if r["clients"] == top}
    node = at.get("node")
    print(f"\nTargets at {top} clients:")
    for kind, row in at.items():
        ok = row["delivery"] == 1.0
        verdicts[f"{kind}_delivery_100"] = ok
        print(
            f"  {kind}: every message delivered: {'MET' if ok else 'MISSED'} "
            f"({row['delivered']}/{row['expected']})"
        )
    for kind, target in (
        ("gevent", TARGET_GEVENT_RATIO),
        ("redis2", TARGET_REDIS_RATIO),
        ("threading", None),
    ):
        if kind in at and node and node["p99_ms"] > 0:
            ratio = at[kind]["p99_ms"] / node["p99_ms"]
            at[kind]["p99_vs_node"] = round(ratio, 2)
            if target is None:
                print(f"  {kind}: p99 {ratio:.2f}x Node's (no target; PITFALLS.md measured ~4x)")
                continue
            ok = ratio <= target
            verdicts[f"{kind}_p99_ratio"] = ok
            print(
                f"  {kind}: p99 {ratio:.2f}x Node's (target <= {target}x): "
                f"{'MET' if ok else 'MISSED'}"
            )
    for kind in ("gevent", "redis2", "threading"):
        if kind in at:
            ok = max(at[kind]["server_mb_peak"]) <= TARGET_MEMORY_MB
            verdicts[f"{kind}_memory"] = ok
            print(
                f"  {kind}: memory {max(at[kind]['server_mb_peak']):.0f} MB per instance "
                f"(target <= {TARGET_MEMORY_MB:.0f}): {'MET' if ok else 'MISSED'}"
            )
    print(
        json.dumps(
            {
                "bench": "live_fanout",
                "posts": args.posts,
                "interval_s": args.interval,
                "cpus": os.cpu_count(),
                "rows": rows,
                "verdicts": verdicts,
                "targets": {
                    "gevent_p99_vs_node_max": TARGET_GEVENT_RATIO,
                    "redis2_p99_vs_node_max": TARGET_REDIS_RATIO,
                    "server_mb_max": TARGET_MEMORY_MB,
                    "delivery": 1.0,
                },
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve_threading(int(sys.argv[2]))
    else:
        main()
