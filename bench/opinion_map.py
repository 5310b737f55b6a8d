"""Benchmark of the opinion map (opinions/mapmath.py, opinions/services.py).

Figures against the targets of issue 17:
- agreement with Pol.is's own groups (``group-id`` in participants-votes.csv), adjusted Rand
  index, on the two conversations in tests/opinions/data/ (CC BY 4.0, The Computational
  Democracy Project): ≥ 0.75 (15-per-hour-seattle), ≥ 0.80 (canadian-electoral-reform);
- a recomputation for 5,000 participants × 300 statements (synthetic, three
  planted groups, whose centres span a plane that the 2-D map can show)
  in ≤ 2 s, the planted groups recovered with ARI ≥ 0.9;
- a vote recorded (service + commit, SQLite in a temporary directory) in ≤ 20 ms p50;
- stability: adding the last 1 % of a conversation's votes (by time) to a map computed
  without them changes the group of ≤ 5 % of the participants placed in both.

Run: ``.venv/bin/python bench/opinion_map.py``. The last line is one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from opinions import mapmath  # noqa: E402
from opinions.polis import read_conversation  # noqa: E402

DATA = ROOT / "tests" / "opinions" / "data"
TARGETS = {
    "ari_seattle": 0.75,
    "ari_canadian": 0.80,
    "recompute_5000x300_s": 2.0,
    "planted_ari": 0.9,
    "vote_p50_ms": 20.0,
    "stability_changed_share": 0.05,
}


def polis_ari(name: str) -> tuple[float, int]:
    conv = read_conversation(DATA / name)
    matrix = mapmath.vote_matrix(conv.vote_triples(), conv.statement_ids())
    result = mapmath.compute(matrix)
    ours = dict(zip(result.participants, result.labels.tolist(), strict=True))
    both = [p for p, g in conv.groups.items() if g is not None and p in ours]
    return adjusted_rand_score([conv.groups[p] for p in both], [ours[p] for p in both]), len(both)


def planted(n: int = 5000, m: int = 300, groups: int = 3, seed: int = 1):
    """Participants in planted groups; each group agrees with a statement with its own
    probability; each participant votes on a random 20-60 % of the statements."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, groups, n)
    lean = rng.uniform(0.1, 0.9, (groups, m))
    u = rng.random((n, m))
    p = lean[truth]
    votes = np.where(u < p * 0.85, 1.0, np.where(u < 0.85, -1.0, 0.0))
    seen = rng.random((n, m)) < rng.uniform(0.2, 0.6, n)[:, None]
    values = np.where(seen, votes, np.nan)
    return mapmath.VoteMatrix(list(range(n)), list(range(m)), values), truth


def bench_recompute() -> tuple[float, float]:
    matrix, truth = planted()
    mapmath.compute(matrix)  # warm-up (imports, BLAS threads)
    times, cpu = [], []
    result = None
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        result = mapmath.compute(matrix)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(
        f"  (CPU time of a recomputation, median: {statistics.median(cpu):.2f} s; load "
        f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    ours = dict(zip(result.participants, result.labels.tolist(), strict=True))
    keep = [p for p in matrix.participants if p in ours]
    ari = adjusted_rand_score([truth[p] for p in keep], [ours[p] for p in keep])
    return statistics.median(times), ari


def stability(name: str) -> float:
    conv = read_conversation(DATA / name)
    triples = sorted(
        ((v.timestamp, v.voter, v.comment, v.vote) for v in conv.votes
         if v.comment in set(conv.statement_ids())),
    )  # fmt: skip
    cut = int(len(triples) * 0.99)
    ids = conv.statement_ids()
    before = mapmath.compute(mapmath.vote_matrix([t[1:] for t in triples[:cut]], ids))
    after = mapmath.compute(
        mapmath.vote_matrix([t[1:] for t in triples], ids), previous=before.state
    )
    old = before.state.labels
    new = after.state.labels
    both = [p for p in new if p in old]
    return sum(1 for p in both if old[p] != new[p]) / max(1, len(both))


def vote_latency(n_votes: int = 100) -> float:
    """p50 ms of one vote through the service and the commit (SQLite in a temp dir, the real
    app, a round with 40 statements and 50 earlier voters)."""
    import tempfile
    from datetime import timedelta

    sys.path.insert(0, str(ROOT / "bench"))
    from _topic_page_app import bench_config
    from sqlalchemy import select

    from app import create_app
    from forum import services as fs
    from forum import uow
    from forum.extensions import db
    from forum.models import Committee, Role, utcnow
    from opinions import services

    with tempfile.TemporaryDirectory() as tmp:
        config = bench_config(f"sqlite:///{tmp}/bench.sqlite3", tmp)
        config["OPINIONS_WORKER"] = "external"  # no recomputing thread beside the timing
        app = create_app(config)
        with app.app_context():
            db.create_all()
            admin = fs.register_user("admin@example.dk", "Admin", "bench-password-1")
            fs.set_role(admin, Role.ADMIN, None, None, None)
            admin.email_verified_at = utcnow()
            committee = Committee(slug="plan", name="Plan- og Boligudvalget")
            db.session.add(committee)
            db.session.flush()
            topic = fs.create_topic(
                admin, "Havnen", "Hvad skal havnen bruges til?", committee_id=committee.id
            )
            rnd = services.open_round(
                admin, topic, "Havnen?", utcnow() + timedelta(days=7), True,
                [f"Udsagn {i}" for i in range(40)],
            )  # fmt: skip
            uow.commit()
            ids = db.session.scalars(
                select(services.OpinionStatement.id).where(
                    services.OpinionStatement.round_id == rnd.id
                )
            ).all()
            t = utcnow()
            for i in range(50):
                p = services.participant_for(rnd, anon_key=f"seed-{i}")
                for j in ids[:10]:
                    services.cast_vote(rnd, p, j, "agree" if (i + j) % 3 else "disagree", t)
            uow.commit()
            times, cpu = [], []
            for i in range(n_votes):
                p = services.participant_for(rnd, anon_key=f"timed-{i // len(ids)}")
                uow.commit()
                sid = ids[i % len(ids)]
                t0, c0 = time.perf_counter(), time.process_time()
                services.cast_vote(rnd, p, sid, "agree")
                uow.commit()
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        print(
            f"  (CPU time of a vote, p50: {statistics.median(cpu):.1f} ms; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores while measuring)"
        )
        return statistics.median(times)


def main() -> None:
    figures: dict[str, float | None] = {}
    figures["ari_seattle"], n1 = polis_ari("15-per-hour-seattle")
    figures["ari_canadian"], n2 = polis_ari("canadian-electoral-reform")
    print(f"ARI vs Pol.is, 15-per-hour-seattle ({n1} placed): {figures['ari_seattle']:.3f}"
          f"  (target ≥ {TARGETS['ari_seattle']})")  # fmt: skip
    print(f"ARI vs Pol.is, canadian-electoral-reform ({n2} placed): "
          f"{figures['ari_canadian']:.3f}  (target ≥ {TARGETS['ari_canadian']})")  # fmt: skip
    secs, ari = bench_recompute()
    figures["recompute_5000x300_s"], figures["planted_ari"] = secs, ari
    print(f"recompute 5000 × 300: {secs:.2f} s (target ≤ 2), planted groups ARI {ari:.3f}"
          " (target ≥ 0.9)")  # fmt: skip
    figures["stability_changed_share"] = max(
        stability("15-per-hour-seattle"), stability("canadian-electoral-reform")
    )
    print(f"stability, +1 % votes: {figures['stability_changed_share']:.1%} of participants"
          " changed group (target ≤ 5 %)")  # fmt: skip
    figures["vote_p50_ms"] = vote_latency()
    print(f"vote recorded (service + commit), p50: {figures['vote_p50_ms']:.1f} ms"
          " (target ≤ 20)")  # fmt: skip
    met = {
        "ari_seattle": figures["ari_seattle"] >= TARGETS["ari_seattle"],
        "ari_canadian": figures["ari_canadian"] >= TARGETS["ari_canadian"],
        "recompute_5000x300_s": secs <= TARGETS["recompute_5000x300_s"],
        "planted_ari": ari >= TARGETS["planted_ari"],
        "vote_p50_ms": figures["vote_p50_ms"] <= TARGETS["vote_p50_ms"],
        "stability_changed_share": figures["stability_changed_share"]
        <= TARGETS["stability_changed_share"],
    }
    rounded = {k: round(v, 4) for k, v in figures.items()}
    print(json.dumps({"figures": rounded, "targets": TARGETS, "met": met}))


if __name__ == "__main__":
    main()
