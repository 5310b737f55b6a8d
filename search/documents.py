"""From database rows to index documents, in bulk (a few queries per batch, never per row).

A document is a plain dict with the fields ``search/index/__init__.py`` describes. Posts
deleted by their author have no document. Q&A questions, answers and statements are forum
posts in their session's topic (see ``qa/__init__.py``), so they are indexed, found and
checked as posts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select

from forum import hooks, permissions
from forum.extensions import db
from forum.models import Post, PostState, Topic, User

from .text import markdown_to_text

POST, TOPIC = "post", "topic"


def doc_id(kind: str, pk: int) -> str:
    return f"{kind[0]}{pk}"


@dataclass(frozen=True)
class _Author:
    display_name: str
    role: str
    party: str | None


@dataclass(frozen=True)
class _Topic:
    id: int
    title: str
    intro_source: str
    committee_id: int | None
    area_id: int | None
    author_id: int
    status: str
    created_at: object

    @property
    def public(self) -> bool:
        return self.status in {s.value for s in permissions.PUBLIC_TOPIC_STATES}


_TOPIC_COLUMNS = (
    Topic.id,
    Topic.title,
    Topic.intro_source,
    Topic.committee_id,
    Topic.area_id,
    Topic.author_id,
    Topic.status,
    Topic.created_at,
)
_POST_COLUMNS = (
    Post.id,
    Post.topic_id,
    Post.author_id,
    Post.body_source,
    Post.stance,
    Post.state,
    Post.created_at,
)
_PUBLIC_POST = {s.value for s in permissions.PUBLIC_POST_STATES}


def _value(v):
    return getattr(v, "value", v)


def _topics(ids: Iterable[int]) -> dict[int, _Topic]:
    ids = set(ids)
    if not ids:
        return {}
    rows = db.session.execute(select(*_TOPIC_COLUMNS).where(Topic.id.in_(ids))).all()
    return {r[0]: _Topic(r[0], r[1], r[2], r[3], r[4], r[5], _value(r[6]), r[7]) for r in rows}


def _authors(ids: Iterable[int]) -> dict[int, _Author]:
    ids = set(ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(User.id, User.display_name, User.role, User.party).where(User.id.in_(ids))
    ).all()
    return {r[0]: _Author(r[1], _value(r[2]), r[3]) for r in rows}


def topic_doc(t: _Topic, author: _Author | None) -> dict:
    return {
        "id": doc_id(TOPIC, t.id),
        "kind": TOPIC,
        "pk": str(t.id),
        "topic": str(t.id),
        "committee": str(t.committee_id) if t.committee_id else None,
        "area": str(t.area_id) if t.area_id else None,
        "author_id": str(t.author_id),
        "author": author.display_name if author else None,
        "role": author.role if author else None,
        "party": author.party if author else None,
        "state": t.status,
        "vis": "public" if t.public else "restricted",
        "created": t.created_at,
        "title": t.title,
        "body": markdown_to_text(t.intro_source),
    }


def post_doc(row, t: _Topic, author: _Author | None, origin: str | None = None) -> dict | None:
    pid, _topic_id, author_id, body, stance, state, created = row
    state = _value(state)
    if state == PostState.DELETED.value:
        return None
    return {
        "id": doc_id(POST, pid),
        "kind": POST,
        "pk": str(pid),
        "topic": str(t.id),
        "committee": str(t.committee_id) if t.committee_id else None,
        "area": str(t.area_id) if t.area_id else None,
        "author_id": str(author_id),
        "author": author.display_name if author else None,
        "role": author.role if author else None,
        "party": author.party if author else None,
        "stance": _value(stance),
        "state": state,
        "vis": "public" if state in _PUBLIC_POST and t.public else "restricted",
        "created": created,
        "body": markdown_to_text(body),
        "ttitle": t.title,
        "origin": origin,
    }


def source_doc(
    source, item: hooks.SearchItem, author: _Author | None, t: _Topic | None = None
) -> dict:
    """A document for an item another package keeps (``forum.hooks.SearchSource``). The
    source decides its visibility, committee and area; an item of a topic also carries the
    topic's title (``ttitle``, as a post does)."""
    return {
        "id": doc_id(source.kind, item.id),
        "kind": source.kind,
        "pk": str(item.id),
        "topic": str(item.topic_id) if item.topic_id else None,
        "committee": str(item.committee_id) if item.committee_id else None,
        "area": str(item.area_id) if item.area_id else None,
        "author_id": str(item.author_id) if item.author_id else None,
        "author": author.display_name if author else None,
        "role": author.role if author else None,
        "party": author.party if author else None,
        "state": item.state,
        "vis": "public" if item.public else "restricted",
        "created": item.created_at,
        "title": item.title,
        "body": markdown_to_text(item.text),
        "ttitle": t.title if t is not None else None,
        "origin": getattr(source, "origin", None),
    }


def _source_docs(source, ids: set[int]) -> tuple[list[dict], list[str]]:
    """Documents of these items of ``source``; the ids with none (the item is gone, or the
    topic it belongs to is) come back as the second list."""
    items = source.items(sorted(ids)) if ids else {}
    topics = _topics({i.topic_id for i in items.values() if i.topic_id})
    authors = _authors({i.author_id for i in items.values() if i.author_id})
    docs, gone = [], []
    for pk in sorted(ids):
        item = items.get(pk)
        t = topics.get(item.topic_id) if item is not None and item.topic_id else None
        if item is None or (item.topic_id and t is None):
            gone.append(doc_id(source.kind, pk))
        else:
            docs.append(source_doc(source, item, authors.get(item.author_id), t))
    return docs, gone


@dataclass
class Loaded:
    docs: list[dict]
    deleted: list[str]  # document ids to remove


def load(
    post_ids: Iterable[int] = (),
    topic_ids: Iterable[int] = (),
    others: dict[str, set[int]] | None = None,
) -> Loaded:
    """Current documents for these posts and topics (and ``others``: ids per kind of a
    registered ``SearchSource``); ids with no document come back as ``deleted`` (gone from
    the database, or deleted by their author)."""
    post_ids, topic_ids = set(post_ids), set(topic_ids)
    docs: list[dict] = []
    deleted: list[str] = []
    rows = []
    if post_ids:
        rows = db.session.execute(select(*_POST_COLUMNS).where(Post.id.in_(post_ids))).all()
    topics = _topics({r[1] for r in rows} | topic_ids)
    authors = _authors({r[2] for r in rows} | {t.author_id for t in topics.values()})
    origins = hooks.origins_of_posts(r[0] for r in rows)
    found = set()
    for row in rows:
        doc = post_doc(row, topics[row[1]], authors.get(row[2]), origins.get(row[0]))
        found.add(row[0])
        if doc is None:
            deleted.append(doc_id(POST, row[0]))
        else:
            docs.append(doc)
    deleted += [doc_id(POST, pid) for pid in post_ids - found]
    for tid in topic_ids:
        t = topics.get(tid)
        if t is None:
            deleted.append(doc_id(TOPIC, tid))
        else:
            docs.append(topic_doc(t, authors.get(t.author_id)))
    sources = hooks.search_sources()
    for kind, ids in (others or {}).items():
        if kind in sources and ids:
            more, gone = _source_docs(sources[kind], set(ids))
            docs += more
            deleted += gone
    return Loaded(docs, deleted)


def post_ids_of_topics(topic_ids: Iterable[int]) -> list[int]:
    topic_ids = list(set(topic_ids))
    if not topic_ids:
        return []
    return list(db.session.scalars(select(Post.id).where(Post.topic_id.in_(topic_ids))))


def content_of_users(user_ids: Iterable[int]) -> tuple[list[int], list[int]]:
    """(post ids, topic ids) written by these users."""
    user_ids = list(set(user_ids))
    if not user_ids:
        return [], []
    posts = list(db.session.scalars(select(Post.id).where(Post.author_id.in_(user_ids))))
    topics = list(db.session.scalars(select(Topic.id).where(Topic.author_id.in_(user_ids))))
    return posts, topics


def count_all() -> int:
    posts = (
        db.session.scalar(select(func.count(Post.id)).where(Post.state != PostState.DELETED)) or 0
    )
    others = sum(len(source.all_ids()) for source in hooks.search_sources().values())
    return posts + (db.session.scalar(select(func.count(Topic.id))) or 0) + others


def iter_all(batch: int = 2000) -> Iterator[list[dict]]:
    """Every document in the database, in batches (topics first, then posts by id, then the
    items of registered search sources)."""
    topics = _topics(db.session.scalars(select(Topic.id)))
    authors: dict[int, _Author] = {}

    def author(uid: int) -> _Author | None:
        if uid not in authors:
            authors.update(_authors([uid]))
        return authors.get(uid)

    authors.update(_authors({t.author_id for t in topics.values()}))
    ordered = sorted(topics.values(), key=lambda t: t.id)
    for i in range(0, len(ordered), batch):
        yield [topic_doc(t, author(t.author_id)) for t in ordered[i : i + batch]]
    last = 0
    while True:
        rows = db.session.execute(
            select(*_POST_COLUMNS)
            .where(Post.id > last, Post.state != PostState.DELETED)
            .order_by(Post.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        missing = {r[2] for r in rows} - authors.keys()
        if missing:
            authors.update(_authors(missing))
        missing_topics = {r[1] for r in rows} - topics.keys()
        if missing_topics:  # topics created while the rebuild runs
            topics.update(_topics(missing_topics))
        origins = hooks.origins_of_posts(r[0] for r in rows)
        docs = [post_doc(r, topics[r[1]], authors.get(r[2]), origins.get(r[0])) for r in rows]
        yield [d for d in docs if d is not None]
        last = rows[-1][0]
        db.session.expire_all()
    for source in hooks.search_sources().values():
        ids = sorted(source.all_ids())
        for i in range(0, len(ids), batch):
            docs, _gone = _source_docs(source, set(ids[i : i + batch]))
            yield docs
