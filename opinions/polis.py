"""Pol.is export files: reading and checking them (pure), writing them.

A Pol.is export directory holds ``comments.csv`` (timestamp, datetime, comment-id, author-id,
agrees, disagrees, moderated, comment-body), ``votes.csv`` (timestamp, datetime, comment-id,
voter-id, vote; a later row for the same voter and comment replaces an earlier one) and, when
present, ``participants-votes.csv`` (participant, group-id, n-comments, n-votes, n-agree,
n-disagree, then one column per comment id). A malformed file raises ``PolisFormatError``
with one line naming the file and the line; nothing is read half.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

COMMENT_COLUMNS = [
    "timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated",
    "comment-body",
]  # fmt: skip
VOTE_COLUMNS = ["timestamp", "datetime", "comment-id", "voter-id", "vote"]
PV_COLUMNS = ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"]


class PolisFormatError(ValueError):
    """A malformed Pol.is file: the message names the file and the line."""


@dataclass
class PolisComment:
    id: int
    author: int
    body: str
    moderated: int  # 1 shown, 0 not yet moderated, -1 moderated out
    timestamp: int


@dataclass
class PolisVote:
    comment: int
    voter: int
    vote: int
    timestamp: int


@dataclass
class PolisConversation:
    comments: list[PolisComment]
    votes: list[PolisVote]  # last vote per voter and comment, in file order
    groups: dict[int, int | None] = field(default_factory=dict)  # participant -> Pol.is group

    def vote_triples(self, shown_only: bool = True) -> list[tuple[int, int, int]]:
        keep = {c.id for c in self.comments if not shown_only or c.moderated >= 0}
        return [(v.voter, v.comment, v.vote) for v in self.votes if v.comment in keep]

    def statement_ids(self, shown_only: bool = True) -> list[int]:
        return sorted(c.id for c in self.comments if not shown_only or c.moderated >= 0)


def _rows(path: Path, columns: list[str], prefix_only: bool = False):
    """Yield (line number, row dict) of a CSV file after checking its header."""
    name = path.name
    if not path.is_file():
        raise PolisFormatError(f"{name}: file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolisFormatError(f"{name}, line {line}: not UTF-8 text") from None
    if not text.strip():
        raise PolisFormatError(f"{name}, line 1: the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    have = header[: len(columns)] if prefix_only else header
    missing = [c for c in columns if c not in have]
    if missing:
        raise PolisFormatError(f"{name}, line 1: missing column(s) {', '.join(missing)}")
    yield 1, header
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise PolisFormatError(
                f"{name}, line {line}: {len(row)} fields where the header has {len(header)}"
            )
        yield line, dict(zip(header, row, strict=True))


def _int(name: str, line: int, column: str, value: str, allowed=None) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        msg = f"{name}, line {line}: {column} {value!r} is not a whole number"
        raise PolisFormatError(msg) from None
    if allowed is not None and number not in allowed:
        shown = ", ".join(str(a) for a in sorted(allowed))
        raise PolisFormatError(f"{name}, line {line}: {column} {value!r} is not one of {shown}")
    return number


def read_comments(path: Path) -> list[PolisComment]:
    comments: dict[int, PolisComment] = {}
    rows = _rows(path, COMMENT_COLUMNS)
    next(rows)
    for line, row in rows:
        cid = _int(path.name, line, "comment-id", row["comment-id"])
        if cid in comments:
            raise PolisFormatError(f"{path.name}, line {line}: duplicate comment-id {cid}")
        body = row["comment-body"].strip()
        if not body:
            raise PolisFormatError(f"{path.name}, line {line}: empty comment-body")
        comments[cid] = PolisComment(
            id=cid,
            author=_int(path.name, line, "author-id", row["author-id"]),
            body=body,
            moderated=_int(path.name, line, "moderated", row["moderated"], {-1, 0, 1}),
            timestamp=_int(path.name, line, "timestamp", row["timestamp"] or "0"),
        )
    if not comments:
        raise PolisFormatError(f"{path.name}, line 2: no comments")
    return sorted(comments.values(), key=lambda c: c.id)


def read_votes(path: Path, comment_ids: set[int]) -> list[PolisVote]:
    last: dict[tuple[int, int], PolisVote] = {}
    rows = _rows(path, VOTE_COLUMNS)
    next(rows)
    for line, row in rows:
        cid = _int(path.name, line, "comment-id", row["comment-id"])
        if cid not in comment_ids:
            raise PolisFormatError(f"{path.name}, line {line}: unknown comment-id {cid}")
        vote = PolisVote(
            comment=cid,
            voter=_int(path.name, line, "voter-id", row["voter-id"]),
            vote=_int(path.name, line, "vote", row["vote"], {-1, 0, 1}),
            timestamp=_int(path.name, line, "timestamp", row["timestamp"] or "0"),
        )
        key = (vote.voter, cid)
        if key in last and last[key].timestamp > vote.timestamp:
            continue  # an earlier vote listed later does not replace the later one
        last[key] = vote
    return list(last.values())


def read_groups(path: Path, comment_ids: set[int]) -> dict[int, int | None]:
    """participants-votes.csv: each participant's Pol.is group (None when not placed)."""
    groups: dict[int, int | None] = {}
    rows = _rows(path, PV_COLUMNS, prefix_only=True)
    _, header = next(rows)
    for col in header[len(PV_COLUMNS) :]:
        cid = _int(path.name, 1, "comment column", col)
        if cid not in comment_ids:
            raise PolisFormatError(f"{path.name}, line 1: unknown comment-id {cid}")
    for line, row in rows:
        pid = _int(path.name, line, "participant", row["participant"])
        if pid in groups:
            raise PolisFormatError(f"{path.name}, line {line}: duplicate participant {pid}")
        gid = row["group-id"].strip()
        groups[pid] = _int(path.name, line, "group-id", gid) if gid else None
        for col in header[len(PV_COLUMNS) :]:
            if row[col].strip():
                _int(path.name, line, f"vote on {col}", row[col], {-1, 0, 1})
    return groups


def read_conversation(directory: Path | str) -> PolisConversation:
    """Read and check a Pol.is export directory; raises ``PolisFormatError``."""
    directory = Path(directory)
    comments = read_comments(directory / "comments.csv")
    ids = {c.id for c in comments}
    votes = read_votes(directory / "votes.csv", ids)
    pv = directory / "participants-votes.csv"
    groups = read_groups(pv, ids) if pv.exists() else {}
    return PolisConversation(comments, votes, groups)


def write_conversation(directory: Path | str, conv: PolisConversation) -> None:
    """Write comments.csv, votes.csv and participants-votes.csv in Pol.is's format."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in conversation_files(conv).items():
        with open(directory / name, "w", newline="", encoding="utf-8") as fh:
            fh.write(text)


def conversation_files(conv: PolisConversation) -> dict[str, str]:
    """The three Pol.is files (name -> CSV text), as ``write_conversation`` writes them."""
    from datetime import UTC, datetime

    def stamp(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")

    tally: dict[int, list[int]] = {c.id: [0, 0] for c in conv.comments}
    per_voter: dict[int, dict[int, int]] = {}
    for v in conv.votes:
        if v.vote == 1:
            tally[v.comment][0] += 1
        elif v.vote == -1:
            tally[v.comment][1] += 1
        per_voter.setdefault(v.voter, {})[v.comment] = v.vote
    out: dict[str, str] = {}
    fh = io.StringIO(newline="")
    w = csv.writer(fh)
    w.writerow(COMMENT_COLUMNS)
    for c in conv.comments:
        a, d = tally[c.id]
        w.writerow([c.timestamp, stamp(c.timestamp), c.id, c.author, a, d, c.moderated, c.body])
    out["comments.csv"] = fh.getvalue()
    fh = io.StringIO(newline="")
    w = csv.writer(fh)
    w.writerow(VOTE_COLUMNS)
    for v in sorted(conv.votes, key=lambda v: (v.timestamp, v.voter, v.comment)):
        w.writerow([v.timestamp, stamp(v.timestamp), v.comment, v.voter, v.vote])
    out["votes.csv"] = fh.getvalue()
    authored: dict[int, int] = {}
    for c in conv.comments:
        if c.author >= 0:  # -1: no participant wrote it (a seed statement)
            authored[c.author] = authored.get(c.author, 0) + 1
    ids = [c.id for c in conv.comments]
    people = sorted(set(per_voter) | set(authored) | set(conv.groups))
    fh = io.StringIO(newline="")
    w = csv.writer(fh)
    w.writerow(PV_COLUMNS + [str(i) for i in ids])
    for p in people:
        mine = per_voter.get(p, {})
        g = conv.groups.get(p)
        w.writerow(
            [p, "" if g is None else g, authored.get(p, 0), len(mine),
             sum(1 for x in mine.values() if x == 1),
             sum(1 for x in mine.values() if x == -1)]
            + ["" if i not in mine else mine[i] for i in ids]
        )  # fmt: skip
    out["participants-votes.csv"] = fh.getvalue()
    return out
