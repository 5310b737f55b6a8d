"""Reading the opinion map for pages: a participant's progress, and the cached map turned
into what the map page shows (only published statements' texts; no names)."""

from __future__ import annotations

from sqlalchemy import func, select

from forum import hooks
from forum.extensions import db

from .models import OpinionRound, OpinionStatement, OpinionVote, StatementState
from .services import load_map

SIZE = 400  # the SVG's view box: SIZE × SIZE
MARGIN = 16


def rounds_for(topic) -> list[OpinionRound]:
    """The topic's statements rounds, newest first (the topic page's box)."""
    return list(
        db.session.scalars(
            select(OpinionRound)
            .where(OpinionRound.topic_id == topic.id)
            .order_by(OpinionRound.id.desc())
        )
    )


def progress(rnd: OpinionRound, participant) -> tuple[int, int]:
    total = db.session.scalar(
        select(func.count()).where(
            OpinionStatement.round_id == rnd.id,
            OpinionStatement.state == StatementState.PUBLISHED,
        )
    )
    voted = 0
    if participant is not None:
        voted = db.session.scalar(
            select(func.count()).where(OpinionVote.participant_id == participant.id)
        )
    return voted, total


def _texts(rnd: OpinionRound) -> dict[int, OpinionStatement]:
    return {
        s.id: s
        for s in db.session.scalars(
            select(OpinionStatement).where(
                OpinionStatement.round_id == rnd.id,
                OpinionStatement.state == StatementState.PUBLISHED,
            )
        )
    }


def _pct(n: int, d: int) -> int:
    return round(100 * n / d) if d else 0


def map_view(rnd: OpinionRound, participant) -> dict | None:
    """None before the first computation; {"ready": False, ...} when too few have voted."""
    data = load_map(rnd)
    if data is None or not data.get("ready"):
        return data
    texts = _texts(rnd)
    half = (SIZE - 2 * MARGIN) / 2
    points, own = [], None
    for pid, x, y, g in data["points"]:
        pt = {"x": round(SIZE / 2 + x * half, 1), "y": round(SIZE / 2 - y * half, 1), "g": g}
        if participant is not None and pid == participant.id:
            own = pt
        else:
            points.append(pt)
    stats = {s["id"]: s for s in data["stats"]}
    groups = []
    for i, g in enumerate(data["groups"]):
        reps = []
        for r in g["repness"]:
            st = texts.get(r["statement"])
            if st is None:
                continue
            a, d, seen = stats[st.id]["groups"][str(g["id"])]
            reps.append({"statement": st, "direction": r["direction"],
                         "agree": _pct(a, seen), "disagree": _pct(d, seen)})  # fmt: skip
        groups.append({"id": g["id"], "letter": chr(ord("A") + i), "size": g["size"],
                       "repness": reps, "colour": g["id"] % 5})  # fmt: skip
    letters = {g["id"]: g["letter"] for g in groups}

    def listed(key):
        out = []
        for item in data[key]:
            st = texts.get(item["statement"])
            if st is None:
                continue
            s = stats[st.id]
            out.append({
                "statement": st, "score": item["score"],
                "agree": _pct(s["agree"], s["seen"]), "disagree": _pct(s["disagree"], s["seen"]),
                "groups": [
                    (letters[int(g)], _pct(v[0], v[2]), _pct(v[1], v[2]))
                    for g, v in s["groups"].items() if int(g) in letters
                ],
            })  # fmt: skip
        return out

    return {
        "ready": True,
        "voters": data["voters"],
        "placed": data["placed"],
        "size": SIZE,
        "points": points,
        "own": own,
        "own_group": letters.get(own["g"]) if own else None,
        "groups": groups,
        "consensus": listed("consensus"),
        "divisive": listed("divisive"),
        "areas": data.get("areas", []),
        "target_groups": target_groups(data),
        "letters": letters,
    }


def target_groups(data: dict) -> list[dict]:
    """The map's breakdowns by consented target group, with the facts' labels in the
    reader's language (``forum.hooks.participant_facts``); rows the k-anonymity rule hid
    have ``size`` None."""
    stored = data.get("target_groups") or []
    if not stored:
        return []
    facts = {f.fact: f for f in hooks.participant_facts([])}
    out = []
    for t in stored:
        f = facts.get(t["fact"])
        if f is None:
            continue
        names = dict(f.values)
        rows = [dict(r, label=names.get(r["value"], r["value"])) for r in t["rows"]]
        out.append({"fact": t["fact"], "label": f.label, "rows": rows})
    return out
