"""Opinion map write operations and the map's computation (issue 17).

Each service checks permission, validates, writes its rows and an event row
(``forum.eventlog.record``) in the same transaction and flushes; the edge commits through
``forum.uow``. The map itself is computed by ``recompute`` (a periodic job, or a command),
never on a vote's request: a vote only bumps the round's ``vote_version``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from forum import anonymity, eventlog, hooks
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import Post, Topic, User, utcnow

from . import mapmath, permissions
from .models import (
    STATEMENT_MAX,
    OpinionParticipant,
    OpinionRound,
    OpinionStatement,
    OpinionVote,
    StatementState,
)

KIND = "opinion"  # the review source's kind (moderation queue)
QUESTION_MAX = 300
VALUES = {"agree": mapmath.AGREE, "disagree": mapmath.DISAGREE, "pass": mapmath.PASS}
SAME_SECOND = timedelta(seconds=1)


def room(round_id: int) -> str:
    return f"opinions:{round_id}"


def round_path(round_id: int) -> str:
    return f"/holdninger/{round_id}"


# --- rounds and statements ----------------------------------------------------------------


def _clean_statement(body: str) -> str:
    text = " ".join((body or "").split())
    if not text:
        raise InvalidInput(body=_("Write a statement."))
    if len(text) > STATEMENT_MAX:
        raise InvalidInput(body=_("A statement has at most %(n)d characters.", n=STATEMENT_MAX))
    return text


def open_round(
    user: User,
    topic: Topic,
    question: str,
    ends_at: datetime,
    allow_anonymous: bool = False,
    seeds: list[str] | None = None,
    now: datetime | None = None,
) -> OpinionRound:
    """Open a statements round on ``topic`` with seed statements (published at once)."""
    if not permissions.can_open_round(user, topic):
        raise PermissionDenied(_("Only staff and the committee's politicians open a round."))
    question = " ".join((question or "").split())
    if not question or len(question) > QUESTION_MAX:
        raise InvalidInput(
            question=_("Write a question of at most %(n)d characters.", n=QUESTION_MAX)
        )
    if ends_at <= (now or utcnow()):
        raise InvalidInput(ends_at=_("The end date must lie in the future."))
    rnd = OpinionRound(
        topic_id=topic.id,
        question=question,
        ends_at=ends_at,
        allow_anonymous=allow_anonymous,
        created_by_id=user.id,
    )
    db.session.add(rnd)
    db.session.flush()
    for i, seed in enumerate(seeds or []):
        try:
            text = _clean_statement(seed)
        except InvalidInput:
            raise InvalidInput(
                seeds=_("Seed statement %(i)d: at most %(n)d characters.", i=i + 1, n=STATEMENT_MAX)
            ) from None
        db.session.add(
            OpinionStatement(round_id=rnd.id, body=text, state=StatementState.PUBLISHED, seed=True)
        )
    db.session.flush()
    eventlog.record(
        "opinion_round_opened", "opinion_round", rnd.id, f"topic:{topic.id}",
        {"topic_id": topic.id}, actor_id=user.id,
    )  # fmt: skip
    return rnd


def participant_for(
    rnd: OpinionRound, user: User | None = None, anon_key: str | None = None, create=True
) -> OpinionParticipant | None:
    """The participant for an account or an anonymous cookie id (created on first use)."""
    if user is not None and getattr(user, "is_authenticated", False):
        where = OpinionParticipant.user_id == user.id
        fields = {"user_id": user.id}
    elif anon_key:
        if not rnd.allow_anonymous:
            raise PermissionDenied(_("Log in to take part in this round."))
        where = OpinionParticipant.anon_key == anon_key
        fields = {"anon_key": anon_key}
    else:
        if create:
            raise PermissionDenied(_("Log in to take part in this round."))
        return None
    found = db.session.scalar(
        select(OpinionParticipant).where(OpinionParticipant.round_id == rnd.id, where)
    )
    if found is None and create:
        found = OpinionParticipant(round_id=rnd.id, **fields)
        db.session.add(found)
        db.session.flush()
    return found


def _check_writer(user: User | None) -> None:
    if user is not None and getattr(user, "is_authenticated", False):
        reason = hooks.user_restriction(user, "post")
        if reason:
            raise PermissionDenied(reason)


def add_statement(
    rnd: OpinionRound, participant: OpinionParticipant, body: str, user: User | None = None
) -> OpinionStatement:
    """A participant's statement: held for a moderator when the queue takes it, else
    published at once."""
    if not rnd.is_open():
        raise Conflict(_("This round has ended."))
    _check_writer(user)
    text = _clean_statement(body)
    st = OpinionStatement(
        round_id=rnd.id, body=text, author_participant_id=participant.id,
        state=StatementState.PENDING,
    )  # fmt: skip
    db.session.add(st)
    db.session.flush()
    held = hooks.request_review(
        hooks.ReviewRequest(
            kind=KIND,
            target_id=st.id,
            author_id=participant.user_id,
            area_id=rnd.topic.area_id,
            committee_id=rnd.topic.committee_id,
        )  # fmt: skip
    )
    if not held:
        st.state = StatementState.PUBLISHED
    eventlog.record(
        "opinion_statement_added", "opinion_statement", st.id, room(rnd.id),
        {"round_id": rnd.id, "state": st.state.value}, actor_id=participant.user_id,
    )  # fmt: skip
    return st


def propose_post(moderator: User, rnd: OpinionRound, post: Post, body: str) -> OpinionStatement:
    """A moderator turns a debate post into a statement (it links back to the post)."""
    if not permissions.can_moderate_round(moderator, rnd.topic):
        raise PermissionDenied(_("Only the topic's moderators propose posts as statements."))
    if post.topic_id != rnd.topic_id:
        raise NotFound()
    text = _clean_statement(body)
    st = OpinionStatement(
        round_id=rnd.id, body=text, state=StatementState.PUBLISHED, post_id=post.id,
        proposed_by_id=moderator.id,
    )  # fmt: skip
    db.session.add(st)
    db.session.flush()
    eventlog.record(
        "opinion_statement_added", "opinion_statement", st.id, room(rnd.id),
        {"round_id": rnd.id, "state": st.state.value, "post_id": post.id},
        actor_id=moderator.id,
    )  # fmt: skip
    return st


def decide_statement(moderator: User, st: OpinionStatement, approve: bool) -> None:
    rnd = db.session.get(OpinionRound, st.round_id)
    if not permissions.can_moderate_round(moderator, rnd.topic):
        raise PermissionDenied()
    if st.state != StatementState.PENDING:
        raise Conflict(_("This statement no longer waits for a decision."))
    st.state = StatementState.PUBLISHED if approve else StatementState.REJECTED
    eventlog.record(
        "opinion_statement_decided", "opinion_statement", st.id, room(rnd.id),
        {"round_id": rnd.id, "state": st.state.value}, actor_id=moderator.id,
    )  # fmt: skip


# --- votes --------------------------------------------------------------------------------


def cast_vote(
    rnd: OpinionRound,
    participant: OpinionParticipant,
    statement_id: int,
    choice: str,
    now: datetime | None = None,
) -> str:
    """Record or change a vote: "recorded", "changed" or "unchanged". A closed round, a
    statement not (yet) published and a second vote within the same second are refused."""
    now = now or utcnow()
    value = VALUES.get(choice)
    if value is None:
        raise InvalidInput(choice=_("Choose agree, disagree or pass."))
    if not rnd.is_open(now):
        raise Conflict(_("This round has ended; votes are no longer counted."))
    # The statement and the participant's vote on it in one query (a vote is the hot path).
    row = db.session.execute(
        select(OpinionStatement.state, OpinionVote)
        .outerjoin(
            OpinionVote,
            (OpinionVote.statement_id == OpinionStatement.id)
            & (OpinionVote.participant_id == participant.id),
        )
        .where(OpinionStatement.id == statement_id, OpinionStatement.round_id == rnd.id)
    ).first()
    if row is None:
        raise NotFound()
    state, vote = row
    if state != StatementState.PUBLISHED:
        raise Conflict(_("This statement is not approved yet, so it cannot be voted on."))
    if vote is not None and now - vote.updated_at < SAME_SECOND:
        raise Conflict(_("Your vote on this statement was just recorded; it counts once."))
    if vote is None:
        vote = OpinionVote(
            round_id=rnd.id, statement_id=statement_id, participant_id=participant.id,
            value=value,
            created_at=now, updated_at=now,
        )  # fmt: skip
        db.session.add(vote)
        outcome = "recorded"
    elif vote.value == value:
        return "unchanged"
    else:
        vote.value, vote.updated_at = value, now
        outcome = "changed"
    db.session.execute(
        update(OpinionRound)
        .where(OpinionRound.id == rnd.id)
        .values(vote_version=OpinionRound.vote_version + 1)
    )
    eventlog.record(
        "opinion_vote", "opinion_round", rnd.id, room(rnd.id), {"round_id": rnd.id},
        actor_id=participant.user_id,
    )  # fmt: skip
    return outcome


def next_statement(rnd: OpinionRound, participant: OpinionParticipant | None):
    """The next statement to show: published, not yet voted on by the participant; few
    votes and divisive ones first (divisiveness from the cached map)."""
    voted = (
        select(OpinionVote.statement_id).where(OpinionVote.participant_id == participant.id)
        if participant is not None
        else None
    )
    counts = (
        select(OpinionVote.statement_id, func.count().label("n"))
        .where(OpinionVote.round_id == rnd.id)
        .group_by(OpinionVote.statement_id)
        .subquery()
    )
    q = (
        select(OpinionStatement, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.statement_id == OpinionStatement.id)
        .where(
            OpinionStatement.round_id == rnd.id,
            OpinionStatement.state == StatementState.PUBLISHED,
        )
    )
    if voted is not None:
        q = q.where(OpinionStatement.id.not_in(voted))
    rows = db.session.execute(q).all()
    if not rows:
        return None
    divisive = {}
    cached = load_map(rnd)
    if cached:
        divisive = {int(k): v for k, v in cached.get("divisiveness", {}).items()}
    most = max(n for _s, n in rows) or 1

    def priority(row):
        st, n = row
        return (1 - n / most) + divisive.get(st.id, 0.0), -st.id

    return max(rows, key=priority)[0]


# --- the map ------------------------------------------------------------------------------


def load_map(rnd: OpinionRound) -> dict | None:
    return json.loads(rnd.map_json) if rnd.map_json else None


def _vote_rows(round_id: int):
    return db.session.execute(
        select(OpinionVote.participant_id, OpinionVote.statement_id, OpinionVote.value).where(
            OpinionVote.round_id == round_id
        )
    ).all()


def _group_counts(labels: dict[int, int], members: list[int]) -> dict[int, int]:
    groups: dict[int, int] = {}
    for p in members:
        groups[labels[p]] = groups.get(labels[p], 0) + 1
    return groups


def _area_breakdown(result, areas: dict[int, int | None], statement_ids: list[int]) -> list:
    """Per local area (participants whose area is known): size and members per group. The
    forum's one k-anonymity rule (``forum.anonymity.suppressed``) decides which areas are left
    out; a left-out area is not named, so no second one needs hiding."""
    labels = dict(zip(result.participants, result.labels.tolist(), strict=True))
    by_area: dict[int | None, list[int]] = {}
    for p in result.participants:
        by_area.setdefault(areas.get(p), []).append(p)
    hidden = anonymity.suppressed({a: len(m) for a, m in by_area.items()}, total_known=False)
    return [
        {"area_id": a, "size": len(members), "groups": _group_counts(labels, members)}
        for a, members in sorted(by_area.items(), key=lambda item: item[0] or 0)
        if a is not None and a not in hidden
    ]


def _target_group_breakdown(result, users: dict[int, int]) -> list:
    """Per consented target group (``forum.hooks.participant_facts``: only signed-in
    participants who gave the fact): size and members per group, or ``None`` where the
    k-anonymity rule hides it. A fact nobody gave is left out."""
    labels = dict(zip(result.participants, result.labels.tolist(), strict=True))
    placed_users = {p: users[p] for p in result.participants if p in users}
    out = []
    for facts in hooks.participant_facts(placed_users.values()):
        members: dict[str, list[int]] = {key: [] for key, _label in facts.values}
        members[""] = []  # not given (or an anonymous participant)
        for p in result.participants:
            value = facts.people.get(placed_users.get(p, -1), "")
            members[value if value in members else ""].append(p)
        if not any(m for key, m in members.items() if key):
            continue
        hidden = anonymity.suppressed({key: len(m) for key, m in members.items()})
        rows = [
            {
                "value": key,
                "size": None if key in hidden else len(m),
                "groups": None if key in hidden else _group_counts(labels, m),
            }
            for key, m in members.items()
            if key
        ]
        out.append({"fact": facts.fact, "rows": rows})
    return out


def recompute(rnd: OpinionRound, now: datetime | None = None) -> dict | None:
    """Compute the round's map from its votes (the caller commits) and cache it."""
    statements = db.session.scalars(
        select(OpinionStatement.id)
        .where(
            OpinionStatement.round_id == rnd.id,
            OpinionStatement.state == StatementState.PUBLISHED,
        )
        .order_by(OpinionStatement.id)
    ).all()
    rows = _vote_rows(rnd.id)
    matrix = mapmath.vote_matrix(((p, s, v) for p, s, v in rows), statements)
    previous = mapmath.MapState.from_json(json.loads(rnd.map_state) if rnd.map_state else None)
    result = mapmath.compute(matrix, previous)
    version = rnd.vote_version
    if result is None:
        data = {"ready": False, "voters": len(matrix.participants), "statements": len(statements)}
    else:
        people = db.session.execute(
            select(
                OpinionParticipant.id, OpinionParticipant.area_id, OpinionParticipant.user_id
            ).where(OpinionParticipant.round_id == rnd.id)
        ).all()
        users = {pid: uid for pid, _a, uid in people if uid is not None}
        # A participant's area: the one recorded with the round (imports, demo), else the
        # area of residence a signed-in participant gave with consent (privacy's facts).
        given = hooks.participant_areas(users.values()) or {}
        areas = {pid: a if a is not None else given.get(users.get(pid)) for pid, a, _u in people}
        data = map_to_json(result, statements)
        data["areas"] = _area_breakdown(result, areas, statements)
        data["target_groups"] = _target_group_breakdown(result, users)
        rnd.map_state = json.dumps(result.state.to_json())
    rnd.map_json = json.dumps(data)
    rnd.map_version = version
    rnd.map_computed_at = now or utcnow()
    db.session.flush()
    return data


def map_to_json(result: mapmath.OpinionMap, statement_ids: list[int]) -> dict:
    c = result.counts
    sizes = {g: int(np.sum(result.labels == g)) for g in result.groups}
    pts = result.points
    span = float(np.max(np.abs(pts))) or 1.0
    stats = []
    for j, sid in enumerate(statement_ids):
        seen = int(c.seen[:, j].sum())
        stats.append({
            "id": sid, "agree": int(c.agree[:, j].sum()), "disagree": int(c.disagree[:, j].sum()),
            "seen": seen,
            "groups": {
                str(g): [int(c.agree[i, j]), int(c.disagree[i, j]), int(c.seen[i, j])]
                for i, g in enumerate(result.groups)
            },
        })  # fmt: skip
    return {
        "ready": True,
        "voters": result.n_voters,
        "placed": len(result.participants),
        "statements": len(statement_ids),
        "points": [
            [int(p), round(float(x) / span, 4), round(float(y) / span, 4), int(g)]
            for p, (x, y), g in zip(result.participants, pts, result.labels, strict=True)
        ],
        "groups": [
            {
                "id": g,
                "size": sizes[g],
                "repness": [
                    {
                        "statement": statement_ids[r.statement],
                        "direction": r.direction,
                        "share": round(r.share, 3),
                        "ratio": round(r.ratio, 2),
                    }
                    for r in result.repness[g]
                ],  # fmt: skip
            }
            for g in result.groups
        ],
        "consensus": [
            {"statement": statement_ids[j], "score": round(float(result.consensus_agree[j]), 3)}
            for j in mapmath.ranked(result.consensus_agree, 5)
        ],
        "divisive": [
            {"statement": statement_ids[j], "score": round(float(result.divisive[j]), 3)}
            for j in mapmath.ranked(result.divisive, 5, minimum=0.2)
        ],
        "divisiveness": {
            str(sid): round(float(result.divisive[j]), 3) for j, sid in enumerate(statement_ids)
        },
        "stats": stats,
        "silhouette": round(result.silhouette, 3),
    }


def recompute_due(debounce_seconds: float = 5.0, now: datetime | None = None) -> int:
    """Recompute the maps of rounds with new votes whose last computation is older than
    the debounce (the periodic job's work); how many were recomputed."""
    now = now or utcnow()
    limit = now - timedelta(seconds=debounce_seconds)
    due = db.session.scalars(
        select(OpinionRound).where(
            OpinionRound.vote_version != OpinionRound.map_version,
            (OpinionRound.map_computed_at.is_(None)) | (OpinionRound.map_computed_at <= limit),
        )
    ).all()
    for rnd in due:
        data = recompute(rnd, now)
        eventlog.record(
            "opinion_map_updated", "opinion_round", rnd.id, room(rnd.id),
            {"round_id": rnd.id, "ready": bool(data and data.get("ready"))},
        )  # fmt: skip
    return len(due)
