"""Benchmark search on a synthetic corpus of Danish-like contributions.

Builds ``--size`` posts (plus one topic per 50 posts) from a fixed vocabulary of real Danish
civic words in their real inflections, padded with seeded pseudo-words and the usual share of
stop words, 30–200 words each, by 2,000 citizens and 31 politicians in Holbæk's committees and
areas. Rows and their event-log entries go into a fresh SQLite database (the embedded default)
in bulk; the index is then built *through the indexer*, which follows the event log exactly as
it does in production. Then it measures:

* incremental indexing: the indexer applying every event from the log, in batches;
* full rebuild: ``flask search rebuild``'s code path (target ≤ 5 minutes at 100,000);
* query latency over 200 queries of 1–3 words, with filters, highlighting and the database
  visibility check — the whole ``run_search`` a results page calls (target p95 ≤ 50 ms);
* freshness: a post created and committed through the forum's services, with the indexer
  thread running, until a search finds it (target p95 ≤ 2 s).

Query words are drawn the way the text was written (common words more often), 1–3 per query;
a third of the queries carry a filter (committee, area, role, dates or stance), some sort by
date. The first 20 queries are not counted, and a server's start-up warm-up (the commonest
terms of each big segment decoded once) is waited for. The commonest content word on its own
(about a third of all posts) is reported separately, as the worst ordinary case.

Prints one line per figure with its target, then one JSON object with all figures. Times are
wall-clock; the rebuild also reports CPU seconds (its own and its worker processes'), because
other work on the machine stretches wall-clock time.

Run from the repository root: ``.venv/bin/python bench/search.py [--size 100000]``
(``--size 1000000`` for the scale run; not in CI). ``--dir DIR`` keeps the database and
index; ``--reuse --dir DIR`` measures queries and freshness again on them.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from markupsafe import escape  # noqa: E402
from sqlalchemy import insert  # noqa: E402

SEED = 20261126
TARGETS = {"query_p95_ms": 50.0, "freshness_p95_s": 2.0, "rebuild_100k_s": 300.0}

COMMITTEES = [
    "Økonomiudvalget", "Udvalget for Børn og Skole", "Socialudvalget",
    "Udvalget for Klima og Miljø", "Udvalget for Kultur og Fritid",
    "Udvalget for Plan, Bolig og Lokal Udvikling",
    "Udvalget for Beskæftigelse, Uddannelse og Erhverv",
]
AREAS = [
    "Holbæk By", "Tølløse", "Jyderup", "Svinninge", "Tuse Næs", "Mørkøv", "Vipperød", "Orø",
    "Ugerløse", "Store Merløse", "Kvanløse", "Regstrup",
]
PARTIES = ["Socialdemokratiet", "Venstre", "Konservative", "SF", "Enhedslisten",
           "Dansk Folkeparti", "Radikale Venstre"]
# Real words as people write them: each line one word in several real inflections.
INFLECTED = """
skole skolen skoler skolerne skolens skolernes
cykelsti cykelstien cykelstier cykelstierne
vej vejen veje vejene vejens
budget budgettet budgetter budgetterne budgettets
børn børnene børnenes barn barnet
trafik trafikken
bus bussen busser busserne
kommune kommunen kommunens kommuner
byråd byrådet byrådets
politiker politikeren politikere politikerne
borger borgeren borgere borgerne
lokalplan lokalplanen lokalplaner
plads pladsen pladser pladserne
parkering parkeringen parkeringspladser
bolig boligen boliger boligerne
ældre ældrepleje plejehjem plejehjemmet
børnehave børnehaven børnehaver
hal hallen haller
bibliotek biblioteket biblioteker
skov skoven skove
sø søen søer
havn havnen
station stationen
cykel cyklen cykler cyklerne
fortov fortovet fortove
lys lyset
støj støjen
sikkerhed sikkerheden
lærer læreren lærere lærerne
forældre forældrene
klima klimaet
vand vandet
affald affaldet
sti stien stier
fodbold fodbolden
idræt idrætten
kultur kulturen
erhverv erhvervet
arbejde arbejdet arbejder
uddannelse uddannelsen
skat skatten skatter
høring høringen høringer
forslag forslaget forslagene
beslutning beslutningen beslutninger
økonomi økonomien
""".strip().splitlines()
VERBS = ("mener synes foreslår ønsker håber bygge lukke åbne flytte spare prioritere "
         "bevare forbedre udvide sikre").split()
ADJECTIVES = ("farlig farlige sikker sikre god gode dårlig dårlige ny nye gammel gamle "
              "grøn grønne lokal lokale vigtig vigtige dyr dyre billig billige").split()
STOP = ("og i at det en er til på de med for der som ikke af den har jeg vi men om så "
        "også kan skal vil").split()


def _pseudo_words(rng: random.Random, n: int) -> list[str]:
    onsets = ["b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "sk",
              "st", "sp", "kr", "tr", "bl", "fl", "gr"]
    vowels = ["a", "e", "i", "o", "u", "y", "æ", "ø", "å"]
    codas = ["", "n", "r", "l", "s", "t", "d", "g", "k", "nd", "ng", "st", "rt"]
    words: set[str] = set()
    while len(words) < n:
        syll = rng.choice([2, 2, 3, 3, 4])
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                          for _ in range(syll)))
    return sorted(words)


class Corpus:
    """Seeded text with natural word frequencies.

    Natural language follows Zipf's law over its whole vocabulary, and its first hundred or so
    ranks are function words. So: stop words take their usual 38 % of the tokens, and the
    content words follow Zipf (s = 1) from rank 30 on over 20,000 words — the commonest
    content word lands in about a third of the posts, like "kommune" in a municipal debate.
    The real civic words sit among the first few hundred ranks, pseudo-words fill the rest.
    """

    ZIPF_OFFSET = 30

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.groups = [line.split() for line in INFLECTED]
        self.pseudo = _pseudo_words(self.rng, 20_000)
        self.rng.shuffle(self.pseudo)
        real = [w for g in self.groups for w in g] + VERBS + ADJECTIVES
        head = real + self.pseudo[:300]
        self.rng.shuffle(head)
        self.content = head + self.pseudo[300:]
        self.cum = []
        total = 0.0
        for rank in range(1, len(self.content) + 1):
            total += 1.0 / (rank + self.ZIPF_OFFSET)
            self.cum.append(total)

    def word(self) -> str:
        if self.rng.random() < 0.38:
            return self.rng.choice(STOP)
        return self.rng.choices(self.content, cum_weights=self.cum)[0]

    def text(self, lo: int = 30, hi: int = 200) -> str:
        n = self.rng.randint(lo, hi)
        words = [self.word() for _ in range(n)]
        out, sentence = [], []
        for w in words:
            sentence.append(w)
            if len(sentence) > self.rng.randint(6, 16):
                out.append(" ".join(sentence).capitalize() + ".")
                sentence = []
        if sentence:
            out.append(" ".join(sentence).capitalize() + ".")
        return " ".join(out)

    def query_words(self, k: int) -> list[str]:
        """Words a person would search for: content words, the frequent ones more often."""
        return [self.rng.choices(self.content, cum_weights=self.cum)[0] for _ in range(k)]


def _cpu() -> float:
    """CPU seconds used by this process and its finished children (the rebuild's workers)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def seed_database(size: int, corpus: Corpus, say) -> dict:
    """Bulk-insert committees, areas, users, topics, posts and their events."""
    from forum.extensions import db
    from forum.models import Area, Committee, Event, Post, Topic, User, politician_committees

    rng = corpus.rng
    db.session.execute(insert(Committee), [
        {"slug": f"udvalg-{i}", "name": n, "description": ""} for i, n in enumerate(COMMITTEES, 1)
    ])
    db.session.execute(insert(Area), [
        {"slug": f"omraade-{i}", "name": n, "description": ""} for i, n in enumerate(AREAS, 1)
    ])
    now = datetime(2026, 11, 1)
    users = []
    for i in range(1, 2001):
        users.append({"id": i, "email": f"borger{i}@example.dk", "display_name": f"Borger {i}",
                      "password_hash": "x", "role": "citizen", "party": None,
                      "session_version": 1, "created_at": now})
    for i in range(2001, 2032):
        users.append({"id": i, "email": f"politiker{i}@example.dk",
                      "display_name": f"Politiker {i}", "password_hash": "x",
                      "role": "politician", "party": PARTIES[i % len(PARTIES)],
                      "session_version": 1, "created_at": now})
    db.session.execute(insert(User), users)
    db.session.execute(insert(politician_committees), [
        {"user_id": i, "committee_id": 1 + i % len(COMMITTEES)} for i in range(2001, 2032)
    ])
    n_topics = max(1, size // 50)
    start = now - timedelta(days=6 * 365)
    span = (now - start).total_seconds()
    topics, events = [], []
    event_id = 0
    topic_times = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(n_topics))
    for t in range(1, n_topics + 1):
        title_words = corpus.query_words(rng.randint(2, 5))
        topics.append({
            "id": t, "title": " ".join(title_words).capitalize(),
            "intro_source": corpus.text(30, 120), "intro_html": "",
            "committee_id": 1 + rng.randrange(len(COMMITTEES)),
            "area_id": 1 + rng.randrange(len(AREAS)) if rng.random() < 0.6 else None,
            "author_id": rng.randint(2001, 2031), "status": "open",
            "created_at": topic_times[t - 1], "updated_at": topic_times[t - 1],
            "last_activity_at": now, "post_count": 0,
        })
        event_id += 1
        events.append({"id": event_id, "kind": "topic_opened", "subject_type": "topic",
                       "subject_id": t, "room": f"topic:{t}", "payload": {"topic_id": t},
                       "created_at": now})
    db.session.execute(insert(Topic), topics)
    say(f"  {n_topics:,} topics")
    batch = 5000
    for lo in range(1, size + 1, batch):
        posts = []
        for pid in range(lo, min(size, lo + batch - 1) + 1):
            t = topics[rng.randrange(n_topics)]
            author = rng.randint(2001, 2031) if rng.random() < 0.08 else rng.randint(1, 2000)
            body = corpus.text()
            created = t["created_at"] + timedelta(seconds=rng.random() * 86400 * 60)
            posts.append({
                "id": pid, "topic_id": t["id"], "parent_id": None, "author_id": author,
                "depth": 0, "body_source": body, "body_html": f"<p>{escape(body)}</p>",
                "stance": rng.choice([None, None, "for", "against", "question"]),
                "state": "published" if rng.random() > 0.01 else "hidden",
                "support_count": 0, "created_at": created,
            })
            for kind in ("post_created", "post_published"):
                event_id += 1
                events.append({
                    "id": event_id, "kind": kind, "subject_type": "post", "subject_id": pid,
                    "room": f"topic:{t['id']}", "created_at": now,
                    "payload": {"post_id": pid, "previous_state": "pending"},
                })
        db.session.execute(insert(Post), posts)
        db.session.execute(insert(Event), events)
        events = []
        db.session.commit()
        say(f"  {min(size, lo + batch - 1):,} posts", end="\r")
    say("")
    db.session.commit()
    return {"topics": n_topics, "posts": size, "events": event_id}


def make_queries(corpus: Corpus, n: int, n_committees: int, n_areas: int) -> list[dict]:
    rng = random.Random(SEED + 1)
    queries = []
    for _ in range(n):
        k = rng.choice([1, 1, 2, 2, 2, 3])
        words = rng.choices(corpus.content, cum_weights=corpus.cum, k=k)
        params = {"q": " ".join(words)}
        r = rng.random()
        if r < 0.25:
            params["udvalg"] = f"udvalg-{rng.randint(1, n_committees)}"
        elif r < 0.45:
            params["omraade"] = f"omraade-{rng.randint(1, n_areas)}"
        elif r < 0.55:
            params["rolle"] = rng.choice(["politician", "citizen"])
        elif r < 0.65:
            year = rng.randint(2021, 2026)
            params["fra"], params["til"] = f"{year}-01-01", f"{year}-12-31"
        elif r < 0.72:
            params["holdning"] = rng.choice(["for", "against", "question"])
        if rng.random() < 0.15:
            params["sort"] = "newest"
        queries.append(params)
    return queries


def main() -> None:  # noqa: C901 — a linear script, one measurement after another
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="posts (default 100,000)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--fresh", type=int, default=40, help="freshness samples")
    parser.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    parser.add_argument("--skip-incremental", action="store_true",
                        help="build with the rebuild only (faster at 1,000,000)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the database and index already in --dir (queries only)")
    args = parser.parse_args()

    def say(msg: str, end: str = "\n") -> None:
        print(msg, end=end, file=sys.stderr, flush=True)

    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    from app import create_app
    from forum.extensions import db

    app = create_app({
        "SECRET_KEY": "bench", "INSTANCE_PATH": str(work),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.sqlite3'}",
        "SEARCH_INDEX_DIR": str(work / "search-index"), "SEARCH_WORKER": "external",
        "MAIL_WORKER": "external",
        "MAIL_REQUIRE_VERIFICATION": False,
        "MODERATION_ENABLED": False, "RATELIMIT_ENABLED": False, "SERVER_NAME": "bench.local",
    })
    figures: dict[str, object] = {"size": args.size}
    import search
    from search.index import doc_count
    from search.indexer import Indexer

    with app.app_context():
        corpus = Corpus()
        if args.reuse:
            _queries_and_freshness(app, args, corpus, figures, say)
            return
        db.drop_all()
        db.create_all()
        indexer = Indexer(app)
        indexer.run_once()  # an empty index, following the (empty) log
        say(f"Seeding {args.size:,} contributions into {work}")
        t0 = time.perf_counter()
        figures.update(seed_database(args.size, corpus, say))
        figures["seed_s"] = round(time.perf_counter() - t0, 1)

        if not args.skip_incremental:
            say("Indexing through the event log ...")
            t0 = time.perf_counter()
            applied = 0
            while True:
                n = indexer.run_once(max_batches=20)
                applied += n
                say(f"  {applied:,} events", end="\r")
                if n == 0:
                    break
            figures["incremental_s"] = round(time.perf_counter() - t0, 1)
            figures["incremental_docs_per_s"] = round(
                (figures["posts"] + figures["topics"]) / figures["incremental_s"])
            say("")
            say(f"  indexing through the event log: {figures['incremental_s']} s")
        say("Full rebuild ...")
        t0, c0 = time.perf_counter(), _cpu()
        procs = app.config["SEARCH_REBUILD_PROCS"]  # as `flask search rebuild` does
        result = indexer.rebuild(notify=False, procs=procs)
        figures["rebuild_procs"] = procs
        figures["rebuild_s"] = round(time.perf_counter() - t0, 1)
        figures["rebuild_cpu_s"] = round(_cpu() - c0, 1)
        say(f"  rebuild: {figures['rebuild_s']} s ({figures['rebuild_cpu_s']} s CPU)")
        st = search.state(app)
        name = st.store.current_name()
        figures["documents"] = doc_count(st.store.open(name))
        figures["index_mb"] = round(st.store.size_bytes(name) / 1e6, 1)
        figures["rebuild_docs"] = result.documents
        indexer.close()
        _queries_and_freshness(app, args, corpus, figures, say)
    if not args.dir:
        shutil.rmtree(work, ignore_errors=True)


def _queries_and_freshness(app, args, corpus: Corpus, figures: dict, say) -> None:
    import search
    from forum.extensions import db
    from search import services
    from search.index import doc_count
    from search.indexer import start_thread, stop_thread

    st = search.state(app)
    name = st.store.current_name()
    figures.setdefault("documents", doc_count(st.store.open(name)))
    figures.setdefault("index_mb", round(st.store.size_bytes(name) / 1e6, 1))
    figures.setdefault("topics", max(1, args.size // 50))
    say("Queries ...")
    t0 = time.perf_counter()
    st.snapshots.current()
    st.snapshots.wait_warm()  # a server decodes its common terms once, when it opens
    figures["warm_s"] = round(time.perf_counter() - t0, 1)
    from flask_login import AnonymousUserMixin

    viewer = AnonymousUserMixin()
    queries = make_queries(corpus, args.queries + 20, 7, 12)
    latencies, totals = [], []
    with app.test_request_context():
        for i, params in enumerate(queries):
            t0 = time.perf_counter()
            req = services.read_request(params, viewer)
            page = services.run_search(viewer, req)
            ms = (time.perf_counter() - t0) * 1000
            if i >= 20:  # the first 20 warm the caches
                latencies.append(ms)
                totals.append(page.total)
    figures["query_p50_ms"] = round(_pct(latencies, 50), 1)
    figures["query_p95_ms"] = round(_pct(latencies, 95), 1)
    figures["query_max_ms"] = round(max(latencies), 1)
    figures["query_median_hits"] = int(statistics.median(totals))
    figures["query_max_hits"] = max(totals)
    say(f"  p50 {figures['query_p50_ms']} ms, p95 {figures['query_p95_ms']} ms")
    # The worst single word: the commonest content word, alone, repeated.
    worst = []
    with app.test_request_context():
        for _ in range(10):
            t0 = time.perf_counter()
            page = services.run_search(viewer, services.read_request(
                {"q": corpus.content[0]}, viewer))
            worst.append((time.perf_counter() - t0) * 1000)
    figures["commonest_word"] = corpus.content[0]
    figures["commonest_word_hits"] = page.total
    figures["commonest_word_ms"] = round(statistics.median(worst), 1)

    say("Freshness ...")
    from forum import services as forum_services
    from forum.models import Topic, User

    thread = start_thread(app)
    assert thread is not None
    rng = random.Random(SEED + 2)
    author = db.session.get(User, 1)
    topic = db.session.get(Topic, 1)
    fresh = []
    with app.test_request_context():
        for i in range(args.fresh):
            token = f"friskhed{i}x{rng.randrange(10**6)}"
            forum_services.create_post(author, topic, f"Et nyt indlæg om {token} og skolen.")
            db.session.commit()
            t0 = time.perf_counter()
            req = services.read_request({"q": token}, viewer)
            while True:
                if services.run_search(viewer, req).total:
                    break
                if time.perf_counter() - t0 > 30:
                    break
                time.sleep(0.01)
            fresh.append(time.perf_counter() - t0)
            time.sleep(rng.random() * 0.3)
    stop_thread()
    figures["freshness_p50_s"] = round(_pct(fresh, 50), 3)
    figures["freshness_p95_s"] = round(_pct(fresh, 95), 3)
    search.state(app).close()
    _report(args, figures)


def _report(args, figures: dict) -> None:
    rebuild_target = TARGETS["rebuild_100k_s"] * args.size / 100_000
    print(f"corpus: {args.size:,} posts + {figures['topics']:,} topics, "
          f"{figures['documents']:,} documents, index {figures['index_mb']} MB")
    if "incremental_s" in figures:
        print(f"indexing through the event log: {figures['incremental_s']} s "
              f"({figures['incremental_docs_per_s']} documents/s)")
    if "rebuild_s" in figures:
        print(f"full rebuild: {figures['rebuild_s']} s, {figures['rebuild_cpu_s']} s CPU "
              f"(target ≤ {rebuild_target:.0f} s)")
    print(f"start-up warm-up of common terms: {figures['warm_s']} s (before the queries)")
    print(f"query latency: p50 {figures['query_p50_ms']} ms, p95 {figures['query_p95_ms']} ms "
          f"(target p95 ≤ {TARGETS['query_p95_ms']:.0f} ms), max {figures['query_max_ms']} ms; "
          f"hits per query: median {figures['query_median_hits']}, "
          f"max {figures['query_max_hits']:,}")
    print(f"commonest content word alone ({figures['commonest_word_hits']:,} hits): "
          f"{figures['commonest_word_ms']} ms (median of 10)")
    print(f"freshness: p50 {figures['freshness_p50_s']} s, p95 {figures['freshness_p95_s']} s "
          f"(target p95 ≤ {TARGETS['freshness_p95_s']:.0f} s)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
