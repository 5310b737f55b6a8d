"""The compact posting pool writes exactly the index Whoosh's own pool writes."""

from __future__ import annotations

import random
from contextlib import nullcontext

import pytest

from search import index


def _docs(n: int) -> list[dict]:
    rng = random.Random(7)
    words = [
        "skole",
        "skolerne",
        "cykelsti",
        "cykelstierne",
        "Tølløse",
        "budgettet",
        "havnebad",
        "the",
        "bicycle",
        "og",
        "miljøet",
        "træerne",
    ] + [f"ord{i}" for i in range(300)]
    docs = []
    for i in range(n):
        body = " ".join(rng.choice(words) for _ in range(rng.randint(5, 60)))
        docs.append(
            {
                "id": f"p{i}",
                "kind": "post",
                "pk": str(i),
                "topic": str(i % 7),
                "committee": str(i % 3),
                "area": str(i % 5) if i % 4 else None,
                "author_id": str(i % 11),
                "author": f"Borger {i % 11}",
                "role": "citizen",
                "state": "published",
                "vis": "public",
                "body": body,
                "ttitle": "Skolevej",
                "title": body[:30] if i % 10 == 0 else None,
            }
        )
    return docs


def _build(root, docs, limitmb: int, batches: int, whoosh_pool: bool) -> dict:
    _name, ix = index.IndexStore(root).create_generation()
    size = -(-len(docs) // batches)
    with index.whoosh_posting_pool() if whoosh_pool else nullcontext():
        for start in range(0, len(docs), size):  # several commits: segments get merged
            w = index.Writer(ix, limitmb=limitmb)
            for doc in docs[start : start + size]:
                w.add(doc)
            w.commit()
    return index.fingerprint(ix)


@pytest.mark.parametrize(("limitmb", "batches"), [(64, 1), (1, 1), (64, 4)])
def test_compact_pool_writes_what_whoosh_writes(tmp_path, limitmb, batches):
    """limitmb=1 makes both pools spill sorted runs to disk and merge them back."""
    docs = _docs(1500)
    original = _build(tmp_path / "a", docs, limitmb, batches, whoosh_pool=True)
    compact = _build(tmp_path / "b", docs, limitmb, batches, whoosh_pool=False)
    assert len(compact) == 1500
    assert compact == original
