"""What citizens think of a topic, as figures: the read side shared by the synthesis page and
the council report.

Only what everyone may read counts: published posts of public topics. Groups of people
(local areas) smaller than ``REPORTS_K_MIN`` (5) are never shown; the group is counted as
suppressed instead, so a page can say so. A person's local area is their area of residence
where they gave it (privacy's consented facts, through
``forum.hooks.register_participant_areas``); for everyone else, the area of the public
debates they take part in most (ties: the lower area id).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from markupsafe import Markup
from sqlalchemy import func, select

from forum import anonymity, hooks
from forum import permissions as fp
from forum.extensions import db
from forum.models import Area, Post, PostState, Role, Stance, Topic, User

STANCES = ("for", "against", "question", "none")
ARGUMENT_STANCES = ("for", "against")
TOP_ARGUMENTS = 3
EXCERPT_CHARS = 280
UNKNOWN_AREA = 0  # the group of people whose area is not known


def k_min() -> int:
    return anonymity.k_min()


@dataclass(frozen=True)
class Contribution:
    """A post as a synthesis quotes it (plain text, shortened)."""

    post_id: int
    topic_id: int
    stance: str
    supports: int
    excerpt: str
    author_id: int
    author_name: str
    politician: bool
    party: str | None
    area_id: int
    created_at: datetime


@dataclass
class AreaGroup:
    area_id: int
    name: str  # "" for the unknown area (the template names it)
    people: int
    posts: int
    stances: dict[str, int]  # people per stance


@dataclass
class TargetGroupRow:
    key: str  # the value's key; "" for people who did not give the fact
    label: str  # "" for those who did not give it (the template names them)
    people: int | None  # None: not shown (fewer than k people, or the rule's second group)
    stances: dict[str, int] | None  # people per stance, None when not shown


@dataclass
class TargetGroupTable:
    """Participants by one consented fact (privacy's target groups, through
    ``forum.hooks.participant_facts``), with the k-anonymity rule of ``forum.anonymity``."""

    fact: str
    label: str
    rows: list[TargetGroupRow]
    suppressed: int  # groups not shown

    @property
    def given(self) -> bool:
        """Did anybody give the fact (else the table says nothing)?"""
        return any(r.key and (r.people is None or r.people > 0) for r in self.rows)


@dataclass
class Synthesis:
    posts: int = 0
    participants: int = 0
    stance_people: dict[str, int] = field(default_factory=dict)
    stance_posts: dict[str, int] = field(default_factory=dict)
    weeks: list[tuple[date, dict[str, int]]] = field(default_factory=list)
    areas: list[AreaGroup] = field(default_factory=list)  # shown groups, k or more people
    suppressed_groups: int = 0
    suppressed_people: int = 0
    arguments: dict[str, list[Contribution]] = field(default_factory=dict)
    unanswered: list[Contribution] = field(default_factory=list)
    replies: list[Contribution] = field(default_factory=list)
    k: int = 5
    area_names: dict[int, str] = field(default_factory=dict)  # of the quoted people's areas
    target_groups: list[TargetGroupTable] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.posts == 0


def excerpt(html: str, limit: int = EXCERPT_CHARS) -> str:
    """A post's text without markup, cut at a word boundary with an ellipsis."""
    text = " ".join(Markup(html).striptags().split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


def _rows(topic_ids: list[int], start: datetime | None, end: datetime | None):
    """The published posts of the public topics ``topic_ids`` (in the period), one query."""
    q = (
        select(
            Post.id,
            Post.topic_id,
            Post.parent_id,
            Post.author_id,
            Post.stance,
            Post.support_count,
            Post.created_at,
            User.role,
            User.display_name,
            User.party,
            User.deleted_at,
        )
        .join(User, User.id == Post.author_id)
        .join(Topic, Topic.id == Post.topic_id)
        .where(
            Post.topic_id.in_(topic_ids),
            Post.state == PostState.PUBLISHED,
            Topic.status.in_(fp.PUBLIC_TOPIC_STATES),
        )
        .order_by(Post.created_at, Post.id)
    )
    if start is not None:
        q = q.where(Post.created_at >= start)
    if end is not None:
        q = q.where(Post.created_at < end)
    return db.session.execute(q).all()


def _bodies(post_ids) -> dict[int, str]:
    """The rendered text of the quoted posts only (one query), not of every counted post."""
    ids = sorted(set(post_ids))
    if not ids:
        return {}
    return dict(db.session.execute(select(Post.id, Post.body_html).where(Post.id.in_(ids))).all())


def person_areas(user_ids: set[int]) -> dict[int, int]:
    """Each person's local area (see the module's docstring); missing ids: unknown."""
    if not user_ids:
        return {}
    registered = hooks.participant_areas(user_ids) or {}
    counts = db.session.execute(
        select(Post.author_id, Topic.area_id, func.count(Post.id))
        .join(Topic, Topic.id == Post.topic_id)
        .where(
            Post.author_id.in_(user_ids),
            Post.state == PostState.PUBLISHED,
            Topic.status.in_(fp.PUBLIC_TOPIC_STATES),
            Topic.area_id.is_not(None),
        )
        .group_by(Post.author_id, Topic.area_id)
    ).all()
    best: dict[int, tuple[int, int]] = {}
    for author_id, area_id, n in counts:
        cur = best.get(author_id)
        if cur is None or (n, -area_id) > (cur[1], -cur[0]):
            best[author_id] = (area_id, n)
    # A given area of residence wins over the area someone writes in.
    return {uid: a for uid, (a, _n) in best.items()} | registered


def area_names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_(ids))).all())


def _contribution(row, area_id: int) -> Contribution:
    stance = row.stance.value if row.stance is not None else "none"
    return Contribution(
        post_id=row.id,
        topic_id=row.topic_id,
        stance=stance,
        supports=row.support_count or 0,
        excerpt="",  # filled in for the quoted posts alone (``_quote``)
        author_id=row.author_id,
        author_name="" if row.deleted_at is not None else row.display_name,
        politician=row.role == Role.POLITICIAN and row.deleted_at is None,
        party=row.party,
        area_id=area_id,
        created_at=row.created_at,
    )


def strongest(candidates: list[Contribution], n: int = TOP_ARGUMENTS) -> list[Contribution]:
    """The ``n`` most supported, never two from one author, spread over areas first: a pass
    taking only new authors in new areas, then one taking new authors anywhere."""
    key = lambda c: (-c.supports, c.created_at, c.post_id)  # noqa: E731
    return sorted(_choose(sorted(candidates, key=key), n), key=key)


def _choose(ranked: list, n: int, author=lambda c: c.author_id, area=lambda c: c.area_id) -> list:
    """The first ``n`` of ``ranked`` with distinct authors, spread over areas first."""
    chosen: list = []
    authors: set[int] = set()
    areas: set[int] = set()
    for spread in (True, False):
        for c in ranked:
            if len(chosen) >= n:
                break
            if author(c) in authors or (spread and area(c) in areas):
                continue
            chosen.append(c)
            authors.add(author(c))
            areas.add(area(c))
    return chosen


def _week(d: datetime) -> date:
    day = d.date()
    return day - timedelta(days=day.weekday())


def _people_stances(rows) -> dict[int, str]:
    """Each person's stance: that of their newest post with a stance (else "none")."""
    out: dict[int, str] = {}
    for r in rows:  # oldest first: later posts override
        if r.stance is not None:
            out[r.author_id] = r.stance.value
        else:
            out.setdefault(r.author_id, "none")
    return out


def _area_groups(s: Synthesis, rows, areas: dict[int, int], stance_of: dict[int, str]) -> None:
    people: dict[int, set[int]] = defaultdict(set)
    posts: Counter[int] = Counter()
    for r in rows:
        a = areas.get(r.author_id, UNKNOWN_AREA)
        people[a].add(r.author_id)
        posts[a] += 1
    names = s.area_names
    # A hidden area is not named (the page gives only how many areas and people are left
    # out), so no second area needs hiding: the rule without the total.
    hidden = anonymity.suppressed({a: len(m) for a, m in people.items()}, s.k, total_known=False)
    for a, members in people.items():
        if a in hidden:
            s.suppressed_groups += 1
            s.suppressed_people += len(members)
            continue
        stances = Counter(stance_of[u] for u in members)
        s.areas.append(
            AreaGroup(a, names.get(a, ""), len(members), posts[a], {k: stances[k] for k in STANCES})
        )
    s.areas.sort(key=lambda g: (g.area_id == UNKNOWN_AREA, -g.people, g.name))


def target_group_tables(
    stance_of: dict[int, str], k: int, known: list[hooks.TargetGroups] | None = None
) -> list[TargetGroupTable]:
    """People per consented target group and their stances; the people who did not give a
    fact are a group of their own, so every count adds up to the participants and the one
    rule (``forum.anonymity.suppressed``, the total known) decides what is shown."""
    tables = []
    for facts in known if known is not None else hooks.participant_facts(stance_of):
        members: dict[str, list[int]] = {key: [] for key, _label in facts.values}
        members[""] = []
        for uid in stance_of:
            value = facts.people.get(uid, "")
            members.setdefault(value if value in members else "", []).append(uid)
        hidden = anonymity.suppressed({key: len(m) for key, m in members.items()}, k)
        labels = dict(facts.values)
        rows = []
        for key in [*labels, ""]:
            shown = key not in hidden
            stances = Counter(stance_of[u] for u in members[key]) if shown else None
            rows.append(
                TargetGroupRow(
                    key,
                    labels.get(key, ""),
                    len(members[key]) if shown else None,
                    {st: stances[st] for st in STANCES} if stances is not None else None,
                )
            )
        tables.append(TargetGroupTable(facts.fact, facts.label, rows, len(hidden)))
    return tables


def _questions(
    rows, areas: dict[int, int], limit: int
) -> tuple[list[Contribution], list[Contribution]]:
    """(questions without a politician's answer, politicians' posts), newest first, at most
    ``limit`` of each."""
    answered = {r.parent_id for r in rows if r.role == Role.POLITICIAN and r.parent_id}
    unanswered = [
        r
        for r in rows
        if r.stance == Stance.QUESTION and r.role != Role.POLITICIAN and r.id not in answered
    ]
    replies = [r for r in rows if r.role == Role.POLITICIAN and r.deleted_at is None]
    return (
        [_contribution(r, areas.get(r.author_id, UNKNOWN_AREA)) for r in unanswered[::-1][:limit]],
        [_contribution(r, areas.get(r.author_id, UNKNOWN_AREA)) for r in replies[::-1][:limit]],
    )


def synthesise(
    topic_ids: list[int],
    start: datetime | None = None,
    end: datetime | None = None,
    limit_lists: int = 10,
) -> Synthesis:
    """The figures of the published posts of the public topics ``topic_ids`` (in the period
    [start, end)). A fixed number of queries however many posts."""
    return synthesise_many(topic_ids, start, end, limit_lists)[0]


def synthesise_many(
    topic_ids: list[int],
    start: datetime | None = None,
    end: datetime | None = None,
    limit_lists: int = 10,
    per_topic: bool = False,
) -> tuple[Synthesis, dict[int, Synthesis]]:
    """The synthesis of ``topic_ids`` together and (``per_topic``) of each of them, from one
    read of their posts: the council report's topics cost no query each. Each person's area
    and target groups are read once for all (a person's area does not depend on the topic)."""
    rows = _rows(topic_ids, start, end) if topic_ids else []
    stance_of = _people_stances(rows)
    areas = person_areas(set(stance_of))
    facts = hooks.participant_facts(stance_of) if stance_of else []
    names = area_names(areas.values())
    overall = _from_rows(rows, areas, facts, names, limit_lists)
    per: dict[int, Synthesis] = {}
    if per_topic:
        grouped: dict[int, list] = defaultdict(list)
        for r in rows:
            grouped[r.topic_id].append(r)
        for tid in topic_ids:
            mine = grouped.get(tid, [])
            local = {areas[u] for u in {r.author_id for r in mine} if u in areas}
            per[tid] = _from_rows(
                mine, areas, facts, {a: names[a] for a in local if a in names}, limit_lists
            )
    _quote([overall, *per.values()])
    return overall, per


def _quote(syntheses: list[Synthesis]) -> None:
    """Put the text into every quoted contribution: one query for all the syntheses."""
    lists = [lst for s in syntheses for lst in (*s.arguments.values(), s.unanswered, s.replies)]
    bodies = _bodies(c.post_id for lst in lists for c in lst)
    for lst in lists:
        lst[:] = [replace(c, excerpt=excerpt(bodies.get(c.post_id, ""))) for c in lst]


def _from_rows(rows, areas, facts, names: dict[int, str], limit_lists: int) -> Synthesis:
    s = Synthesis(k=k_min())
    if not rows:
        s.stance_people = dict.fromkeys(STANCES, 0)
        s.stance_posts = dict.fromkeys(STANCES, 0)
        s.arguments = {k: [] for k in ARGUMENT_STANCES}
        return s
    s.posts = len(rows)
    stance_of = _people_stances(rows)
    s.participants = len(stance_of)
    people = Counter(stance_of.values())
    s.stance_people = {k: people[k] for k in STANCES}
    posts = Counter(r.stance.value if r.stance is not None else "none" for r in rows)
    s.stance_posts = {k: posts[k] for k in STANCES}
    weeks: dict[date, Counter] = defaultdict(Counter)
    for r in rows:
        weeks[_week(r.created_at)][r.stance.value if r.stance is not None else "none"] += 1
    s.weeks = [(w, {k: c[k] for k in STANCES}) for w, c in sorted(weeks.items())]
    s.area_names = names
    _area_groups(s, rows, areas, stance_of)
    s.target_groups = target_group_tables(stance_of, s.k, facts)
    for stance in ARGUMENT_STANCES:
        candidates = sorted(
            (r for r in rows if r.stance is not None and r.stance.value == stance),
            key=lambda r: (-(r.support_count or 0), r.created_at, r.id),
        )
        chosen = _choose(
            candidates,
            TOP_ARGUMENTS,
            author=lambda r: r.author_id,
            area=lambda r: areas.get(r.author_id, UNKNOWN_AREA),
        )  # only the chosen rows become contributions
        s.arguments[stance] = sorted(
            (_contribution(r, areas.get(r.author_id, UNKNOWN_AREA)) for r in chosen),
            key=lambda c: (-c.supports, c.created_at, c.post_id),
        )
    s.unanswered, s.replies = _questions(rows, areas, limit_lists)
    return s
