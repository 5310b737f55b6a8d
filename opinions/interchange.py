"""Pol.is interchange: a Pol.is export directory into a new statements round, and a round
out to the same format (opinions/polis.py reads and writes the files).

Imported authors and voters are pseudonymous participants (``external_id``: Pol.is's
participant id), never accounts. The import checks every file before it writes anything.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from forum import eventlog
from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import Role, Topic, TopicStatus, User, utcnow
from forum.rendering import render_markdown

from .models import (
    OpinionParticipant,
    OpinionRound,
    OpinionStatement,
    OpinionVote,
    StatementState,
)
from .polis import PolisComment, PolisConversation, PolisVote, read_conversation
from .services import recompute

STATE_OF = {1: StatementState.PUBLISHED, 0: StatementState.PUBLISHED, -1: StatementState.REJECTED}
MODERATED_OF = {
    StatementState.PUBLISHED: 1,
    StatementState.PENDING: 0,
    StatementState.REJECTED: -1,
}
ATTRIBUTION = (
    "Data gathered using the Polis software (compdemocracy.org/polis), sub-licensed under "
    "CC BY 4.0 with attribution to The Computational Democracy Project."
)


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).replace(tzinfo=None)


def _summary(directory: Path) -> dict[str, str]:
    path = directory / "summary.csv"
    if not path.is_file():
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return {row[0]: row[1] for row in csv.reader(fh) if len(row) >= 2}
    except (UnicodeDecodeError, csv.Error):
        return {}


def _new_topic(title: str, url: str) -> Topic:
    author = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    if author is None:
        raise InvalidInput(_topic="No admin account to own the imported topic; give --topic.")
    intro = f"Imported Pol.is conversation{f' ({url})' if url else ''}. {ATTRIBUTION}"
    topic = Topic(
        title=title[:200],
        intro_source=intro,
        intro_html=render_markdown(intro),
        author_id=author.id,
        status=TopicStatus.CLOSED,
    )
    db.session.add(topic)
    db.session.flush()
    return topic


def import_directory(directory: Path | str, topic: Topic | None = None) -> OpinionRound:
    """Read, check, then write a Pol.is export as a closed round (raises PolisFormatError
    before writing anything when a file is malformed)."""
    directory = Path(directory)
    conv = read_conversation(directory)
    summary = _summary(directory)
    if topic is None:
        topic = _new_topic(summary.get("topic") or directory.name, summary.get("url", ""))
    stamps = [v.timestamp for v in conv.votes] + [c.timestamp for c in conv.comments]
    rnd = OpinionRound(
        topic_id=topic.id,
        question=(summary.get("topic") or directory.name)[:300],
        ends_at=_when(max(stamps)) if stamps else utcnow(),
        allow_anonymous=False,
        source="polis",
    )
    db.session.add(rnd)
    db.session.flush()
    people = sorted({v.voter for v in conv.votes} | {c.author for c in conv.comments})
    people = sorted(set(people) | set(conv.groups))
    db.session.execute(
        insert(OpinionParticipant),
        [
            {"round_id": rnd.id, "external_id": p, "external_group": conv.groups.get(p)}
            for p in people
        ],
    )
    pid = dict(
        db.session.execute(
            select(OpinionParticipant.external_id, OpinionParticipant.id).where(
                OpinionParticipant.round_id == rnd.id
            )
        ).all()
    )
    db.session.execute(
        insert(OpinionStatement),
        [
            {
                "round_id": rnd.id, "body": c.body, "state": STATE_OF[c.moderated],
                "author_participant_id": pid[c.author], "external_id": c.id,
                "created_at": _when(c.timestamp), "seed": False,
            }
            for c in conv.comments
        ],
    )  # fmt: skip
    sid = dict(
        db.session.execute(
            select(OpinionStatement.external_id, OpinionStatement.id).where(
                OpinionStatement.round_id == rnd.id
            )
        ).all()
    )
    if conv.votes:
        db.session.execute(
            insert(OpinionVote),
            [
                {
                    "round_id": rnd.id, "statement_id": sid[v.comment],
                    "participant_id": pid[v.voter], "value": v.vote,
                    "created_at": _when(v.timestamp), "updated_at": _when(v.timestamp),
                }
                for v in conv.votes
            ],
        )  # fmt: skip
    rnd.vote_version = 1
    db.session.flush()
    eventlog.record(
        "opinion_round_opened", "opinion_round", rnd.id, f"topic:{topic.id}",
        {"topic_id": topic.id, "source": "polis"},
    )  # fmt: skip
    recompute(rnd)
    return rnd


def _ms(when: datetime) -> int:
    return int(when.replace(tzinfo=UTC).timestamp() * 1000)


def export_round(rnd: OpinionRound) -> PolisConversation:
    """The round as a Pol.is conversation (ids: Pol.is's for imported rows, ours else);
    ``group-id`` is this site's map group."""
    parts = db.session.scalars(
        select(OpinionParticipant).where(OpinionParticipant.round_id == rnd.id)
    ).all()
    ext = {p.id: (p.external_id if p.external_id is not None else p.id) for p in parts}
    stmts = db.session.scalars(
        select(OpinionStatement)
        .where(OpinionStatement.round_id == rnd.id)
        .order_by(OpinionStatement.id)
    ).all()
    cid = {s.id: (s.external_id if s.external_id is not None else s.id) for s in stmts}
    comments = [
        PolisComment(
            id=cid[s.id],
            author=ext.get(s.author_participant_id, -1) if s.author_participant_id else -1,
            body=s.body,
            moderated=MODERATED_OF[s.state],
            timestamp=_ms(s.created_at),
        )
        for s in stmts
    ]
    votes = [
        PolisVote(comment=cid[v.statement_id], voter=ext[v.participant_id], vote=v.value,
                  timestamp=_ms(v.updated_at))
        for v in db.session.scalars(select(OpinionVote).where(OpinionVote.round_id == rnd.id))
    ]  # fmt: skip
    state = json.loads(rnd.map_state) if rnd.map_state else {}
    labels = {int(p): g for p, g in (state.get("labels") or {}).items()}
    groups = {ext[p.id]: labels.get(p.id) for p in parts}
    return PolisConversation(comments, votes, groups)
