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
from .polis import (
    PolisComment,
    PolisConversation,
    PolisVote,
    conversation_files,
    read_conversation,
)
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


def export_round(rnd: OpinionRound, published_only: bool = False) -> PolisConversation:
    """The round as a Pol.is conversation (ids: Pol.is's for imported rows, ours else);
    ``group-id`` is this site's map group.

    ``published_only`` (the download on the round's page): only approved statements and the
    votes on them, and participants numbered 0, 1, 2, … in the order they joined, so no id
    of ours (nor an imported Pol.is id) leaves the site; authors of statements that are not
    shown are not named either."""
    parts = db.session.scalars(
        select(OpinionParticipant)
        .where(OpinionParticipant.round_id == rnd.id)
        .order_by(OpinionParticipant.id)
    ).all()
    stmt = select(OpinionStatement).where(OpinionStatement.round_id == rnd.id)
    if published_only:
        stmt = stmt.where(OpinionStatement.state == StatementState.PUBLISHED)
    stmts = db.session.scalars(stmt.order_by(OpinionStatement.id)).all()
    vote_rows = db.session.scalars(
        select(OpinionVote).where(
            OpinionVote.round_id == rnd.id,
            OpinionVote.statement_id.in_([s.id for s in stmts]),
        )
    ).all()
    if published_only:
        active = {v.participant_id for v in vote_rows} | {
            s.author_participant_id for s in stmts if s.author_participant_id
        }
        ext = {p.id: n for n, p in enumerate(p for p in parts if p.id in active)}
        cid = {s.id: n for n, s in enumerate(stmts)}
    else:
        ext = {p.id: (p.external_id if p.external_id is not None else p.id) for p in parts}
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
        for v in vote_rows
    ]  # fmt: skip
    state = json.loads(rnd.map_state) if rnd.map_state else {}
    labels = {int(p): g for p, g in (state.get("labels") or {}).items()}
    groups = {ext[p.id]: labels.get(p.id) for p in parts if p.id in ext}
    return PolisConversation(comments, votes, groups)


def export_zip(rnd: OpinionRound) -> bytes:
    """The download for staff: a zip of the Pol.is files of ``export_round(published_only)``
    and a README with the round's question and the attribution of imported data. Cells that
    a spreadsheet would run as a formula are neutralised (``forum.exports.neutralise``)."""
    import io
    import zipfile

    from forum.exports import neutralise

    conv = export_round(rnd, published_only=True)
    for c in conv.comments:
        c.body = neutralise(c.body)
    files = conversation_files(conv)
    note = f"{rnd.question}\n\nExported {utcnow():%Y-%m-%d %H:%M} UTC in the Pol.is format.\n"
    if rnd.source == "polis":
        note += f"\n{ATTRIBUTION}\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
        zf.writestr("README.txt", note)
    return buf.getvalue()
