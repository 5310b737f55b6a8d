"""Export my data: a zip with ``data.json`` and a readable ``index.html``.

Every table in ``services.OWNED`` contributes the person's rows (all columns except secrets);
posts bring their edit history and topic title, ballots their choices. Built in the request:
one query per table (a few dozen), measured in tests/privacy/test_export.py and
bench/privacy_export.py against the 10-second target for 1,000 contributions.
"""

from __future__ import annotations

import enum
import io
import json
import threading
import zipfile
from datetime import date, datetime

from flask import render_template
from sqlalchemy import select

from forum.extensions import db
from forum.models import Post, PostRevision, Topic, User, utcnow

from .services import OWNED, SECRET_COLUMNS

# Who is being exported right now, in this process: a second request waits for nothing and
# is told so (the rate limit bounds it across processes).
_building: set[int] = set()
_lock = threading.Lock()


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return value.hex()
    return value


def _rows(table, column: str, user_id: int, order=None) -> list[dict]:
    query = select(table).where(table.c[column] == user_id)
    pk = list(table.primary_key.columns)
    query = query.order_by(*(order or pk))
    out = []
    for row in db.session.execute(query).mappings():
        out.append(
            {
                key: _plain(value)
                for key, value in row.items()
                if (table.name, key) not in SECRET_COLUMNS
            }
        )
    return out


def collect(user: User) -> dict:
    """Everything that is the person's own, as plain JSON values."""
    users = db.metadata.tables["users"]
    profile = _rows(users, "id", user.id)[0]
    data: dict[str, object] = {
        "exported_at": utcnow().isoformat(),
        "profile": profile,
    }
    for name, column in sorted(OWNED.items()):
        table = db.metadata.tables.get(name)
        if table is None:
            continue
        data[name] = _rows(table, column, user.id)
    # Posts: their topic's title and their earlier texts (edit history).
    titles = dict(
        db.session.execute(
            select(Topic.id, Topic.title)
            .join(Post, Post.topic_id == Topic.id)
            .where(Post.author_id == user.id)
            .distinct()
        ).all()
    )
    history: dict[int, list[dict]] = {}
    revisions = db.session.execute(
        select(PostRevision.post_id, PostRevision.body_source, PostRevision.created_at)
        .join(Post, Post.id == PostRevision.post_id)
        .where(Post.author_id == user.id)
        .order_by(PostRevision.post_id, PostRevision.created_at)
    ).all()
    for post_id, body, created in revisions:
        history.setdefault(post_id, []).append(
            {"body_source": body, "created_at": created.isoformat()}
        )
    for post in data["posts"]:
        post["topic_title"] = titles.get(post["topic_id"], "")
        post["edit_history"] = history.get(post["id"], [])
    choices = db.metadata.tables.get("budget_ballot_choices")
    if choices is not None and data.get("budget_ballots"):
        by_ballot: dict[int, list[dict]] = {}
        ids = [b["id"] for b in data["budget_ballots"]]
        for row in db.session.execute(
            select(choices).where(choices.c.ballot_id.in_(ids))
        ).mappings():
            by_ballot.setdefault(row["ballot_id"], []).append(
                {k: _plain(v) for k, v in row.items() if k != "ballot_id"}
            )
        for ballot in data["budget_ballots"]:
            ballot["choices"] = by_ballot.get(ballot["id"], [])
    return data


class AlreadyBuilding(Exception):
    pass


def build_zip(user: User) -> bytes:
    """The zip's bytes. Raises ``AlreadyBuilding`` while this process builds one for them."""
    with _lock:
        if user.id in _building:
            raise AlreadyBuilding
        _building.add(user.id)
    try:
        data = collect(user)
        html = render_template("privacy/export.html", data=data, user=user)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=1, default=str))
            zf.writestr("index.html", html)
        return buffer.getvalue()
    finally:
        with _lock:
            _building.discard(user.id)
