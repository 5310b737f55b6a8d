"""Read side: the queries pages need, each a fixed number of SQL statements.

A topic page costs the same number of queries whether it has 3 posts or 3,000: the
visible posts of the topic are loaded in one statement (a few columns each) and arranged
into a tree here; the page's share of them is then loaded in full in a second one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, literal, null, select
from sqlalchemy.orm import joinedload, selectinload

from . import hooks, permissions
from .extensions import db
from .models import (
    Area,
    Committee,
    Follow,
    Notification,
    Post,
    PostRevision,
    PostState,
    Role,
    Stance,
    Support,
    Topic,
    TopicStatus,
    User,
    utcnow,
)

SORTS = ("oldest", "newest", "supported")


@dataclass
class Node:
    post: Post  # on a page of the thread, a row of _SKELETON where the page does not show it
    show_text: bool  # False: a placeholder (deleted, or hidden from this viewer)
    children: list[Node] = field(default_factory=list)
    descendants: int = 0
    more: int = 0  # replies left off a page's very long thread (behind a "continue" link)


@dataclass
class Thread:
    roots: list[Node]
    by_id: dict[int, Node]
    stance_counts: dict[str, int]
    supported_ids: set[int]
    total_visible: int
    page: int = 1  # which page of the thread ``roots`` are (see ``load_thread_page``)
    pages: int = 1  # how many pages the thread has for this viewer, sort and filter
    shown_ids: set[int] = field(default_factory=set)  # the posts this page shows


# A page of a long thread holds whole top-level posts (each with its replies) and ends
# after this many of them, or earlier when the next one would take the page over the
# post budget. Only posts the page shows count: replies deeper than THREAD_DISPLAY_DEPTH
# are behind "continue" links. A single top-level post with more replies than the budget
# gets a page of its own, showing the budget's worth in reading order and the rest behind
# "continue this thread" links (see ``_cap``).
# (The defaults; the app passes its THREAD_PAGE_ROOTS and THREAD_PAGE_POSTS settings.)
THREAD_PAGE_ROOTS = 20
THREAD_PAGE_POSTS = 30


def _sort_key(sort: str):
    if sort == "newest":
        return lambda n: (-n.post.created_at.timestamp(), -n.post.id)
    if sort == "supported":
        return lambda n: (-n.post.support_count, n.post.created_at, n.post.id)
    return lambda n: (n.post.created_at, n.post.id)


# What the tree, the page split, the sort and the visibility rule need of every post.
_SKELETON = (
    Post.id,
    Post.topic_id,
    Post.parent_id,
    Post.author_id,
    Post.depth,
    Post.stance,
    Post.state,
    Post.support_count,
    Post.created_at,
)


def load_thread(topic: Topic, viewer, sort: str = "oldest", stance: str | None = None) -> Thread:
    """All posts of ``topic`` the viewer may see, as a tree (two queries, one if anonymous)."""
    posts = db.session.scalars(
        select(Post)
        .options(joinedload(Post.author))
        .where(Post.topic_id == topic.id, permissions.visible_posts_clause(viewer, topic))
        .order_by(Post.created_at, Post.id)
    ).all()
    return _arrange(topic, viewer, posts, sort, stance)


def _arrange(topic: Topic, viewer, posts, sort: str, stance: str | None) -> Thread:
    by_id: dict[int, Node] = {}
    children: dict[int | None, list[Node]] = defaultdict(list)
    for p in posts:
        node = Node(p, permissions.can_see_post(viewer, p, topic))
        by_id[p.id] = node
    for node in by_id.values():
        parent = node.post.parent_id
        if parent is not None and parent not in by_id:
            continue  # the parent is invisible to this viewer: so is its subtree
        children[parent].append(node)

    def build(node: Node) -> bool:
        kept = [c for c in children.get(node.post.id, []) if build(c)]
        node.children = kept
        node.descendants = sum(1 + c.descendants for c in kept)
        return node.show_text or bool(kept)  # placeholders only where replies hang on them

    roots = [n for n in children.get(None, []) if build(n)]
    stance_counts = Counter(
        n.post.stance.value for n in roots if n.post.stance and n.post.state == PostState.PUBLISHED
    )
    if stance in {s.value for s in Stance}:
        roots = [n for n in roots if n.post.stance and n.post.stance.value == stance]
    roots.sort(key=_sort_key(sort if sort in SORTS else "oldest"))
    supported: set[int] = set()
    if getattr(viewer, "is_authenticated", False) and posts:
        supported = set(
            db.session.scalars(
                select(Support.post_id)
                .join(Post, Post.id == Support.post_id)
                .where(Support.user_id == viewer.id, Post.topic_id == topic.id)
            )
        )
    return Thread(
        roots=roots,
        by_id=by_id,
        stance_counts={s.value: stance_counts.get(s.value, 0) for s in Stance},
        supported_ids=supported,
        total_visible=sum(1 for n in by_id.values() if n.show_text),
    )


def _shown(node: Node, display_depth: int) -> list[Node]:
    """``node`` and the replies below it that the page shows (above the display depth)."""
    out = [node]
    stack = [node]
    while stack:
        for child in stack.pop().children:
            if child.post.depth < display_depth:
                out.append(child)
                stack.append(child)
    return out


def _cap(root: Node, display_depth: int, limit: int) -> None:
    """Keep the first ``limit`` posts of ``root``'s shown tree in reading order (depth
    first, replies oldest first); a post whose later replies are cut counts them in
    ``more``."""
    kept = 0

    def walk(node: Node) -> None:
        nonlocal kept
        kept += 1
        if node.post.depth + 1 >= display_depth:
            return  # its replies are behind the "continue" link already
        for i, child in enumerate(node.children):
            if kept >= limit:
                cut = node.children[i:]
                node.children = node.children[:i]
                node.more = sum(1 + c.descendants for c in cut)
                return
            walk(child)

    walk(root)


def split_pages(
    roots: list[Node],
    display_depth: int,
    max_roots: int = THREAD_PAGE_ROOTS,
    max_posts: int = THREAD_PAGE_POSTS,
) -> list[list[Node]]:
    """Sorted top-level posts into pages (at least one, perhaps empty); see THREAD_PAGE_*."""
    pages: list[list[Node]] = [[]]
    posts = 0
    for root in roots:
        size = len(_shown(root, display_depth))
        current = pages[-1]
        if current and (len(current) >= max_roots or posts + size > max_posts):
            current = []
            pages.append(current)
            posts = 0
        current.append(root)
        posts += size
    return pages


def load_thread_page(
    topic: Topic,
    viewer,
    sort: str = "oldest",
    stance: str | None = None,
    page: int = 1,
    *,
    display_depth: int,
    locate: int | None = None,
    max_roots: int = THREAD_PAGE_ROOTS,
    max_posts: int = THREAD_PAGE_POSTS,
) -> Thread:
    """One page of the thread as ``viewer`` sees it: three queries (two if anonymous),
    however long the thread.

    The tree of every visible post is built from a few columns per post; the page is cut
    from the viewer's own tree (posts the viewer may not see take no room, so they never
    shift anyone else's pages), and only the posts that page shows are loaded in full.
    ``locate``: a post id; the page is then the one holding it (``page`` is ignored), or
    0 when the viewer's tree (with this filter) does not have it. A ``page`` past the last
    one gives ``roots == []`` with ``pages`` set, for the caller to redirect.
    """
    # Rows, not ORM objects: they have the attributes the tree and the visibility rule read
    # (state, author_id, ...) at a fraction of the cost of 3,000 mapped instances.
    skeleton = db.session.execute(
        select(*_SKELETON)
        .where(Post.topic_id == topic.id, permissions.visible_posts_clause(viewer, topic))
        .order_by(Post.created_at, Post.id)
    ).all()
    thread = _arrange(topic, viewer, skeleton, sort, stance)
    pages = split_pages(thread.roots, display_depth, max_roots, max_posts)
    thread.pages = len(pages)
    if locate is not None:
        page = 0
        node = thread.by_id.get(locate)
        while node is not None and node.post.parent_id is not None:
            node = thread.by_id.get(node.post.parent_id)
        for number, roots in enumerate(pages, 1):
            if node is not None and any(r is node for r in roots):
                page = number
                break
    thread.page = page
    thread.roots = pages[page - 1] if 1 <= page <= len(pages) else []
    for root in thread.roots:
        _cap(root, display_depth, max_posts)
    shown = {n.post.id: n for root in thread.roots for n in _shown(root, display_depth)}
    thread.shown_ids = set(shown)
    if shown:
        # The posts the page shows, in full with their authors, in place of their rows.
        for post in db.session.scalars(
            select(Post).options(joinedload(Post.author)).where(Post.id.in_(list(shown)))
        ):
            shown[post.id].post = post
    return thread


# A post of the viewer's own that others do not see as they do: its text shows to its author
# only (pending, rejected, hidden, removed). A deleted post is a placeholder for everyone.
PRIVATE_OWN_STATES = (PostState.PENDING, PostState.REJECTED, PostState.HIDDEN, PostState.REMOVED)


@dataclass(frozen=True)
class ViewerInTopic:
    """What a signed-in viewer's topic page shows of their own: supports pressed, the follow
    button, and whether they have a post there that only they see (``PRIVATE_OWN_STATES``)."""

    supported_ids: frozenset[int]
    has_private: bool
    following: bool


def _viewer_in_topic_statement():
    uid, tid = bindparam("user_id"), bindparam("topic_id")
    supports = (
        select(Support.post_id)
        .join(Post, Post.id == Support.post_id)
        .where(Support.user_id == uid, Post.topic_id == tid)
    )
    private = select(literal(0)).where(
        select(Post.id)
        .where(Post.topic_id == tid, Post.author_id == uid, Post.state.in_(PRIVATE_OWN_STATES))
        .exists()
    )
    follows = select(literal(-1)).where(
        select(Follow.user_id).where(Follow.user_id == uid, Follow.topic_id == tid).exists()
    )
    return supports.union_all(private, follows)


# Built once (every signed-in topic page GET runs it).
_VIEWER_IN_TOPIC = _viewer_in_topic_statement()


def viewer_in_topic(viewer, topic: Topic) -> ViewerInTopic:
    """``ViewerInTopic`` in one statement: the supported post ids, with two marker rows
    (post ids start at 1): 0 for a private post of the viewer's, -1 for a follow."""
    ids = set(db.session.scalars(_VIEWER_IN_TOPIC, {"user_id": viewer.id, "topic_id": topic.id}))
    return ViewerInTopic(frozenset(i for i in ids if i > 0), 0 in ids, -1 in ids)


@dataclass(frozen=True)
class ReaderFacts:
    """The signed-in reader's unread notifications and the facts other packages registered
    (``hooks.register_reader_fact``): ``personal`` when any of them is true."""

    unread: int
    facts: dict[str, bool]

    @property
    def personal(self) -> bool:
        return any(self.facts.values())


def _reader_facts_statement():
    """The names of the facts that apply now and the statement that reads them, built once
    per app and set of facts."""
    from flask import current_app

    expressions = hooks.reader_fact_expressions()
    names = tuple(expressions)
    statements = current_app.extensions.setdefault("borgerdialog.reader_facts_statements", {})
    built = statements.get(names)
    if built is not None:
        return built
    uid, now = bindparam("reader_id"), bindparam("now")
    unread = (
        select(func.count(Notification.id))
        .where(Notification.user_id == uid, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    columns = [unread.label("unread")]
    columns += [expr(uid, now).label(f"fact_{i}") for i, expr in enumerate(expressions.values())]
    built = statements[names] = (names, select(*columns))
    return built


def reader_facts(user) -> ReaderFacts:
    """``ReaderFacts`` of ``user`` in one statement, read once per request."""
    from flask import g, has_request_context

    from .models import utcnow

    memo = g.get(hooks.READER_FACTS_MEMO) if has_request_context() else None
    if memo is not None and memo[0] == user.id:
        return ReaderFacts(memo[2], memo[1])
    names, statement = _reader_facts_statement()
    row = db.session.execute(statement, {"reader_id": user.id, "now": utcnow()}).one()
    facts = {name: bool(value) for name, value in zip(names, row[1:], strict=True)}
    if has_request_context():
        setattr(g, hooks.READER_FACTS_MEMO, (user.id, facts, row[0] or 0))
    return ReaderFacts(row[0] or 0, facts)


def reader_in_topic(user, topic: Topic) -> tuple[ReaderFacts, ViewerInTopic]:
    """``reader_facts`` and ``viewer_in_topic`` in one statement (the topic page of a signed-in
    reader); the reader facts are remembered for the request as ``reader_facts`` does."""
    from flask import g, has_request_context

    from .models import utcnow

    names, facts_statement = _reader_facts_statement()
    statement = _reader_in_topic_statements().get(names)
    if statement is None:
        # One row of (unread, facts...) as the marker -2 and its columns, then the viewer rows.
        first = facts_statement.add_columns(literal(-2).label("marker"))
        viewer = _VIEWER_IN_TOPIC.subquery()
        width = len(first.selected_columns) - 1
        rows = select(*([null()] * width), viewer.c[0])
        statement = first.union_all(rows)
        _reader_in_topic_statements()[names] = statement
    params = {"reader_id": user.id, "user_id": user.id, "topic_id": topic.id, "now": utcnow()}
    ids: set[int] = set()
    facts_row = None
    for row in db.session.connection().execute(statement, params):
        if row[-1] == -2:
            facts_row = row
        else:
            ids.add(row[-1])
    facts = {name: bool(value) for name, value in zip(names, facts_row[1:-1], strict=True)}
    unread = facts_row[0] or 0
    if has_request_context():
        setattr(g, hooks.READER_FACTS_MEMO, (user.id, facts, unread))
    viewer_facts = ViewerInTopic(frozenset(i for i in ids if i > 0), 0 in ids, -1 in ids)
    return ReaderFacts(unread, facts), viewer_facts


def _reader_in_topic_statements() -> dict:
    from flask import current_app

    return current_app.extensions.setdefault("borgerdialog.reader_in_topic_statements", {})


def topic_with_place(topic_id: int) -> Topic | None:
    return db.session.scalar(
        select(Topic)
        .options(joinedload(Topic.committee), joinedload(Topic.area), joinedload(Topic.author))
        .where(Topic.id == topic_id)
    )


def is_following(user, topic: Topic) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(Follow, (user.id, topic.id)) is not None


def topics_for(
    viewer, committee: Committee | None = None, area: Area | None = None, limit: int | None = None
) -> list[Topic]:
    """Visible topics of a place: open first, then by latest activity."""
    open_first = (Topic.status != TopicStatus.OPEN).asc()
    stmt = (
        select(Topic)
        .options(joinedload(Topic.committee), joinedload(Topic.area))
        .where(permissions.visible_topics_clause(viewer))
        .where(Topic.status != TopicStatus.DECLINED)
        .order_by(open_first, Topic.last_activity_at.desc(), Topic.id.desc())
    )
    if committee is not None:
        stmt = stmt.where(Topic.committee_id == committee.id)
    if area is not None:
        stmt = stmt.where(Topic.area_id == area.id)
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def active_topics(viewer, limit: int = 10) -> list[Topic]:
    """Open debates, most recently active first: not the topics other packages opened as the
    discussion of their own things (budget ideas, Q&A sessions; see hooks.register_owned_topics),
    which their own pages and boxes link."""
    stmt = (
        select(Topic)
        .options(joinedload(Topic.committee), joinedload(Topic.area))
        .where(Topic.status == TopicStatus.OPEN)
    )
    for owned in hooks.owned_topic_queries():
        stmt = stmt.where(Topic.id.not_in(owned))
    return list(
        db.session.scalars(
            stmt.order_by(Topic.last_activity_at.desc(), Topic.id.desc()).limit(limit)
        )
    )


def featured_topics(limit: int = 5) -> list[Topic]:
    """Public topics an admin features on the home page, newest feature first."""
    return list(
        db.session.scalars(
            select(Topic)
            .options(joinedload(Topic.committee), joinedload(Topic.area))
            .where(
                Topic.featured_at.is_not(None),
                Topic.status.in_((TopicStatus.OPEN, TopicStatus.CLOSED, TopicStatus.ARCHIVED)),
            )
            .order_by(Topic.featured_at.desc(), Topic.id.desc())
            .limit(limit)
        )
    )


def upcoming_deadlines(limit: int = 5) -> list[Topic]:
    return list(
        db.session.scalars(
            select(Topic)
            .where(Topic.status == TopicStatus.OPEN, Topic.deadline > utcnow())
            .order_by(Topic.deadline)
            .limit(limit)
        )
    )


def politician_answers(limit: int = 5) -> list[Post]:
    """The newest published posts by politicians in public topics."""
    return list(
        db.session.scalars(
            select(Post)
            .join(User, User.id == Post.author_id)
            .join(Topic, Topic.id == Post.topic_id)
            .options(joinedload(Post.author), joinedload(Post.topic))
            .where(
                User.role == Role.POLITICIAN,
                Post.state == PostState.PUBLISHED,
                Topic.status.in_(permissions.PUBLIC_TOPIC_STATES),
            )
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(limit)
        )
    )


def committees_with_counts() -> list[tuple[Committee, int]]:
    counts = dict(
        db.session.execute(
            select(Topic.committee_id, func.count(Topic.id))
            .where(Topic.status == TopicStatus.OPEN)
            .group_by(Topic.committee_id)
        ).all()
    )
    return [
        (c, counts.get(c.id, 0))
        for c in db.session.scalars(select(Committee).order_by(Committee.position, Committee.name))
    ]


def areas_with_counts() -> list[tuple[Area, int]]:
    counts = dict(
        db.session.execute(
            select(Topic.area_id, func.count(Topic.id))
            .where(Topic.status == TopicStatus.OPEN)
            .group_by(Topic.area_id)
        ).all()
    )
    return [
        (a, counts.get(a.id, 0))
        for a in db.session.scalars(select(Area).order_by(Area.position, Area.name))
    ]


def politicians_of_committee(committee: Committee) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.POLITICIAN, User.committees.any(Committee.id == committee.id))
            .order_by(User.display_name)
        )
    )


def politicians_of_area(area: Area) -> list[User]:
    """Politicians who have written in the area's topics (councillors are elected at large)."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role == Role.POLITICIAN,
                User.id.in_(
                    select(Post.author_id)
                    .join(Topic, Topic.id == Post.topic_id)
                    .where(Topic.area_id == area.id, Post.state == PostState.PUBLISHED)
                ),
            )
            .order_by(User.display_name)
        )
    )


def profile_posts(owner: User, viewer, page: int, per_page: int) -> tuple[list[Post], bool]:
    """A user's contributions as ``viewer`` may see them; returns (posts, has_more)."""
    stmt = (
        select(Post)
        .join(Topic, Topic.id == Post.topic_id)
        .options(joinedload(Post.topic))
        .where(Post.author_id == owner.id, Post.state != PostState.DELETED)
        .order_by(Post.created_at.desc(), Post.id.desc())
    )
    is_self = getattr(viewer, "is_authenticated", False) and viewer.id == owner.id
    if not is_self:
        if permissions.is_moderator(viewer) and permissions.moderated_area_ids(viewer) is None:
            pass
        else:
            stmt = stmt.where(
                Post.state == PostState.PUBLISHED,
                Topic.status.in_(permissions.PUBLIC_TOPIC_STATES),
            )
    rows = list(db.session.scalars(stmt.offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def profile_counts(owner: User) -> dict[str, int]:
    published = db.session.scalar(
        select(func.count(Post.id))
        .join(Topic, Topic.id == Post.topic_id)
        .where(
            Post.author_id == owner.id,
            Post.state == PostState.PUBLISHED,
            Topic.status.in_(permissions.PUBLIC_TOPIC_STATES),
        )
    )
    return {"posts": published or 0}


def notifications_for(user: User, page: int, per_page: int) -> tuple[list[Notification], bool]:
    rows = list(
        db.session.scalars(
            select(Notification)
            .options(
                joinedload(Notification.topic),
                joinedload(Notification.post),
                joinedload(Notification.actor),
            )
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


def revisions(post: Post) -> list[PostRevision]:
    return list(
        db.session.scalars(
            select(PostRevision)
            .where(PostRevision.post_id == post.id)
            .order_by(PostRevision.created_at.desc(), PostRevision.id.desc())
        )
    )


def pending_proposals(viewer) -> list[Topic]:
    scope = permissions.moderated_area_ids(viewer)
    stmt = (
        select(Topic)
        .options(joinedload(Topic.area), joinedload(Topic.author))
        .where(Topic.status == TopicStatus.PROPOSED)
        .order_by(Topic.created_at)
    )
    if scope is not None:
        stmt = stmt.where(Topic.area_id.in_(scope))
    return list(db.session.scalars(stmt))


def user_with_memberships(user_id: int) -> User | None:
    return db.session.scalar(
        select(User).options(selectinload(User.committees)).where(User.id == user_id)
    )


@dataclass(frozen=True)
class TopicFacts:
    """What a topic page needs to know before it reads its data (one statement)."""

    status: TopicStatus
    room_last: int  # the newest event of the topic's room (0 if none)
    cursor: int  # the newest event of all (the live cursor, see forum/live.py)


def _facts_columns() -> tuple:
    """The newest event of the topic's room and of all (the live cursor); binds ``room``."""
    from .models import Event

    return (
        select(func.max(Event.id)).where(Event.room == bindparam("room")).scalar_subquery(),
        select(func.max(Event.id)).scalar_subquery(),
    )


# Built once: the anonymous topic page, served from the cache, runs only this statement.
_TOPIC_FACTS = select(Topic.status, *_facts_columns()).where(Topic.id == bindparam("topic_id"))


def topic_page_facts(topic_id: int) -> TopicFacts | None:
    """The topic's status, its room's newest event and the live cursor, or None when there
    is no such topic. Read together, before the page's data, so that neither event id
    claims something the page does not show."""
    row = db.session.execute(
        _TOPIC_FACTS, {"topic_id": topic_id, "room": f"topic:{topic_id}"}
    ).first()
    if row is None:
        return None
    return TopicFacts(row[0], row[1] or 0, row[2] or 0)


_TOPIC_WITH_FACTS = (
    select(Topic, *_facts_columns())
    .options(joinedload(Topic.committee), joinedload(Topic.area), joinedload(Topic.author))
    .where(Topic.id == bindparam("topic_id"))
)


_TOPIC_ALONE_WITH_FACTS = select(Topic, *_facts_columns()).where(Topic.id == bindparam("topic_id"))


def topic_alone_with_facts(topic_id: int) -> tuple[Topic | None, TopicFacts | None]:
    """``topic_with_facts`` without the committee, area and author (loaded when used): for
    a page that is most often served from a cache."""
    row = db.session.execute(
        _TOPIC_ALONE_WITH_FACTS, {"topic_id": topic_id, "room": f"topic:{topic_id}"}
    ).first()
    if row is None:
        return None, None
    return row[0], TopicFacts(row[0].status, row[1] or 0, row[2] or 0)


def topic_with_facts(topic_id: int) -> tuple[Topic | None, TopicFacts | None]:
    """``topic_with_place`` and ``topic_page_facts`` in one statement."""
    row = db.session.execute(
        _TOPIC_WITH_FACTS, {"topic_id": topic_id, "room": f"topic:{topic_id}"}
    ).first()
    if row is None:
        return None, None
    return row[0], TopicFacts(row[0].status, row[1] or 0, row[2] or 0)


def last_event_id(room: str) -> int:
    """The newest event of a room (0 if none): changes whenever the room's content does."""
    from .models import Event

    return db.session.scalar(select(func.max(Event.id)).where(Event.room == room)) or 0
