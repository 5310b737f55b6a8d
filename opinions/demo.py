"""Demo opinion map for ``flask seed-demo`` (a forum demo step): a statements round on the
Holbæk harbour debate, opened by the demo's admin with seed statements, and simulated votes
from 90 pseudonymous participants in three camps (green harbour, housing and business,
keep it as it is), so the map shows groups, what sets each apart, and what unites them."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.models import Area, Topic, User, utcnow

from . import services

HARBOUR = "Havnefronten i Holbæk: Hvad skal den bruges til?"
QUESTION = "Hvad skal havnefronten i Holbæk bruges til?"
# (statement, agree probability for the camps: green, housing/business, as-is)
SEEDS = [
    ("Havnefronten skal have mere grønt og færre parkeringspladser.", (0.9, 0.25, 0.35)),
    ("Der skal bygges boliger på havnen, også almene boliger.", (0.35, 0.9, 0.15)),
    ("Havnen skal forblive en arbejdende havn med fiskere og værfter.", (0.4, 0.2, 0.9)),
    ("Der skal være gratis adgang til vandet for alle: badebro og trapper.", (0.95, 0.8, 0.85)),
    ("Kommunen skal sælge grunde på havnen for at finansiere byudvikling.", (0.1, 0.85, 0.2)),
    ("Cykelstien langs vandet skal forlænges hele vejen rundt.", (0.9, 0.6, 0.5)),
    ("Nye bygninger på havnen må højst være fire etager.", (0.7, 0.15, 0.85)),
    ("Borgerne skal inddrages, før der vedtages en lokalplan for havnen.", (0.9, 0.75, 0.9)),
    ("Der skal være plads til restauranter og caféer ved vandet.", (0.5, 0.9, 0.3)),
    ("Lystbådehavnen skal udvides.", (0.2, 0.55, 0.7)),
    ("Havnebadet skal være åbent hele året med vinterbadning.", (0.8, 0.6, 0.45)),
    ("Trafikken til havnen skal ledes uden om bymidten.", (0.6, 0.7, 0.6)),
]
PEOPLE = 90


def seed() -> int:
    """Write the demo round and its votes (no commit); rows written (0 without the forum
    demo's harbour topic or admin)."""
    admin = db.session.scalar(select(User).where(User.email == "admin@holbaek.example"))
    topic = db.session.scalar(select(Topic).where(Topic.title == HARBOUR))
    if admin is None or topic is None:
        return 0
    rnd = services.open_round(
        admin, topic, QUESTION, utcnow() + timedelta(days=21), allow_anonymous=True,
        seeds=[text for text, _p in SEEDS],
    )  # fmt: skip
    statements = sorted(
        db.session.scalars(select(services.OpinionStatement).where(
            services.OpinionStatement.round_id == rnd.id)).all(),
        key=lambda s: s.id,
    )  # fmt: skip
    areas = db.session.scalars(select(Area.id).order_by(Area.id)).all()
    rng = random.Random(17)
    start = utcnow() - timedelta(days=3)
    written = len(statements) + 1
    for i in range(PEOPLE):
        camp = i % 3
        person = services.participant_for(rnd, anon_key=f"demo-{i}")
        if areas:
            # Camps lean to different parts of the municipality (for the area table).
            person.area_id = areas[(camp + rng.randrange(2)) % len(areas)]
        seen = rng.sample(range(len(statements)), rng.randint(8, len(statements)))
        for n, j in enumerate(seen):
            p = SEEDS[j][1][camp]
            roll = rng.random()
            choice = "agree" if roll < p * 0.9 else ("pass" if roll < p * 0.9 + 0.1 else "disagree")
            when = start + timedelta(minutes=10 * i, seconds=5 * n)
            services.cast_vote(rnd, person, statements[j].id, choice, when)
            written += 1
    services.recompute(rnd)
    return written
