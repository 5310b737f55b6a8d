"""Pol.is interchange: import of the real conversations, export round trip, malformed files
(one-line error naming file and line, nothing written)."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from opinions.models import OpinionParticipant, OpinionRound, OpinionStatement, OpinionVote
from opinions.polis import read_conversation

from .conftest import DATA

SEATTLE = DATA / "15-per-hour-seattle"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_then_export_round_trip(runner, staff, topic, tmp_path):
    result = runner.invoke(args=["opinions", "import", str(SEATTLE), "--topic", str(topic.id)])
    assert result.exit_code == 0, result.output
    rnd = db.session.scalars(select(OpinionRound)).one()
    source = read_conversation(SEATTLE)
    assert rnd.source == "polis" and not rnd.is_open()
    assert _count(OpinionStatement) == len(source.comments)
    assert _count(OpinionVote) == len(source.votes)
    # Pseudonymous participants, not accounts.
    assert (
        db.session.scalar(select(func.count()).where(OpinionParticipant.user_id.is_not(None))) == 0
    )
    assert rnd.map_json and '"ready": true' in rnd.map_json
    out = tmp_path / "out"
    result = runner.invoke(args=["opinions", "export", str(rnd.id), str(out)])
    assert result.exit_code == 0, result.output
    again = read_conversation(out)
    assert {(c.id, c.body, c.moderated >= 0) for c in again.comments} == {
        (c.id, c.body, c.moderated >= 0) for c in source.comments
    }
    assert sorted((v.voter, v.comment, v.vote) for v in again.votes) == sorted(
        (v.voter, v.comment, v.vote) for v in source.votes
    )
    assert any(g is not None for g in again.groups.values())


def test_import_without_topic_makes_a_closed_topic(runner, staff):
    result = runner.invoke(args=["opinions", "import", str(SEATTLE)])
    assert result.exit_code == 0, result.output
    rnd = db.session.scalars(select(OpinionRound)).one()
    assert rnd.topic.title == "$15/hour" and "CC BY 4.0" in rnd.topic.intro_source


def _broken(tmp_path, name, edit):
    d = tmp_path / "conv"
    shutil.copytree(SEATTLE, d)
    edit(d / name)
    return d


def _replace_line(path, number, text):
    lines = path.read_bytes().split(b"\n")
    lines[number - 1] = text
    path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        ("votes.csv", lambda p: _replace_line(p, 1, b"timestamp,datetime,comment-id,vote"),
         "votes.csv, line 1: missing column(s) voter-id"),
        ("votes.csv", lambda p: _replace_line(p, 3, b"1,x,999,3,1"),
         "votes.csv, line 3: unknown comment-id 999"),
        ("votes.csv", lambda p: _replace_line(p, 4, b"1,x,0,3,2"),
         "votes.csv, line 4: vote '2' is not one of -1, 0, 1"),
        ("comments.csv", lambda p: _replace_line(p, 3, p.read_bytes().split(b"\n")[1]),
         "comments.csv, line 3: duplicate comment-id 53"),
        ("comments.csv", lambda p: p.write_bytes(b""), "comments.csv, line 1: the file is empty"),
        ("votes.csv", lambda p: _replace_line(p, 5, b"1,\xff\xfe,0,3,1"),
         "votes.csv, line 5: not UTF-8 text"),
        ("participants-votes.csv", lambda p: _replace_line(p, 2, b"0,0,13"),
         "participants-votes.csv, line 2: 3 fields"),
    ],
)  # fmt: skip
def test_malformed_files_fail_with_one_line_and_write_nothing(
    runner, staff, topic, tmp_path, name, edit, expected
):
    d = _broken(tmp_path, name, edit)
    result = runner.invoke(args=["opinions", "import", str(d), "--topic", str(topic.id)])
    assert result.exit_code != 0
    message = result.output.strip().splitlines()
    assert len(message) == 1 and expected in message[0]
    assert _count(OpinionRound) == 0 and _count(OpinionStatement) == 0
