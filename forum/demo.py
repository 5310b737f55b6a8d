"""Seeding the demo municipality (``flask seed-demo``) through the forum's services.

Everything a visitor sees is written the way a real user would write it: accounts through
``register_user``/``set_role``, topics through ``create_topic``, posts through
``create_post``, supports through ``toggle_support``, so the event log, notifications,
follows and counters are as real as the rows. Only the timestamps are moved back
afterwards, so that the debates look as if they had grown over the past weeks.

The caller commits (services flush as they go).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from . import fanout, services
from .demo_content import (
    AREAS,
    CITIZENS,
    COMMITTEES,
    MODERATOR_AREAS,
    POLITICIANS,
    STAFF,
    TOPICS,
    big_debate,
)
from .errors import Conflict
from .extensions import db
from .models import (
    Area,
    Committee,
    Notification,
    Post,
    Role,
    Support,
    Topic,
    TopicStatus,
    User,
    utcnow,
)

# One memorable password for every demo account, the administrator excepted.
DEMO_PASSWORD = "demo-holbaek-2026"
ADMIN_PASSWORD = "admin-holbaek-2026"
POLITICIAN_DOMAIN = "holbaek.example"
CITIZEN_DOMAIN = "example.dk"
# Notifications older than this are marked read, so demo users are not greeted by hundreds.
UNREAD_WINDOW = timedelta(days=4)

Progress = Callable[[int], None]
Account = tuple[str, str, str, str]  # (role label, display name, e-mail, password)

_TRANSLIT = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})


def email_local_part(name: str) -> str:
    """ "Ole Kjærgaard" -> "ole.kjaergaard": Danish letters spelled out, other accents dropped."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_TRANSLIT))
    ascii_name = ascii_name.encode("ascii", "ignore").decode().lower()
    parts = ["".join(c for c in word if c.isalnum() or c == "-") for word in ascii_name.split()]
    return ".".join(p for p in parts if p)


def _count(posts: list[dict]) -> int:
    return sum(1 + _count(p["replies"]) for p in posts)


def demo_size(big_posts: int = 320) -> int:
    """How many times ``seed_demo`` calls ``progress(1)`` (for a progress bar)."""
    users = len(STAFF) + len(POLITICIANS) + len(CITIZENS)
    posts = sum(_count(t["debate"]) for t in TOPICS if not t.get("big")) + big_posts
    # places + users + (topic + its supports) per topic + posts + notifications
    return 1 + users + 2 * len(TOPICS) + posts + 1


def seed_demo(
    progress: Progress | None = None, *, big_posts: int = 320, rng_seed: int = 2026
) -> list[Account]:
    """Write Holbæk's committees, towns, people and debates; return the demo accounts.

    Needs an app context and a database without the demo accounts (raises ``Conflict``
    otherwise). Does not commit. Deterministic for a given ``rng_seed`` (apart from the
    clock: timestamps are relative to now).
    """
    tick: Progress = progress or (lambda _n: None)
    if services.get_user_by_email(STAFF["admin"][1]) is not None:
        raise Conflict("The demo data is already in this database.")
    now = utcnow()
    rng = random.Random(rng_seed)
    committees, areas = _seed_places()
    tick(1)
    accounts, people = _seed_people(committees, areas, now, rng, tick)
    supporters = [people[name] for name in CITIZENS] + [people[p[0]] for p in POLITICIANS]
    for spec in TOPICS:
        debate = big_debate(random.Random(rng_seed), big_posts) if spec.get("big") else None
        _seed_topic(
            spec, debate or spec["debate"], committees, areas, people, supporters, now, rng, tick
        )
    _settle_notifications(people.values(), now)
    tick(1)
    return accounts


# --- places and people ------------------------------------------------------------------------


def _seed_places() -> tuple[dict[str, Committee], dict[str, Area]]:
    """Committees and local areas by slug; existing ones (same slug) are kept as they are."""
    # There is no service for places yet (admins will manage them); plain ORM rows do.
    committees = {c.slug: c for c in db.session.scalars(select(Committee))}
    for slug, name, description in COMMITTEES:
        if slug not in committees:
            committees[slug] = Committee(slug=slug, name=name, description=description)
            db.session.add(committees[slug])
    areas = {a.slug: a for a in db.session.scalars(select(Area))}
    for slug, name, description in AREAS:
        if slug not in areas:
            areas[slug] = Area(slug=slug, name=name, description=description)
            db.session.add(areas[slug])
    db.session.flush()
    return committees, areas


def _seed_people(
    committees: dict[str, Committee],
    areas: dict[str, Area],
    now: datetime,
    rng: random.Random,
    tick: Progress,
) -> tuple[list[Account], dict[str, User]]:
    """Register every demo account; returns the accounts table and users by name and key."""
    accounts: list[Account] = []
    people: dict[str, User] = {}

    def register(label: str, name: str, email: str, password: str) -> User:
        user = services.register_user(email, name, password)
        user.created_at = now - timedelta(days=rng.uniform(45, 120))
        accounts.append((label, name, user.email, password))
        people[name] = user
        return user

    name, email = STAFF["admin"]
    people["admin"] = register("admin", name, email, ADMIN_PASSWORD)
    services.set_role(people["admin"], Role.ADMIN)
    tick(1)

    scope = [areas[slug] for slug in MODERATOR_AREAS]
    name, email = STAFF["moderator"]
    label = "moderator (" + ", ".join(a.name for a in scope) + ")"
    people["moderator"] = register(label, name, email, DEMO_PASSWORD)
    services.set_role(people["moderator"], Role.MODERATOR, areas=scope)
    tick(1)

    name, email = STAFF["staff"]
    people["staff"] = register("moderator", name, email, DEMO_PASSWORD)
    services.set_role(people["staff"], Role.MODERATOR)
    tick(1)

    name, email = STAFF["employee"]
    people["employee"] = register("staff (administration)", name, email, DEMO_PASSWORD)
    services.set_role(people["employee"], Role.STAFF)
    tick(1)

    for name, party, slugs in POLITICIANS:
        email = f"{email_local_part(name)}@{POLITICIAN_DOMAIN}"
        user = register(f"politician ({party})", name, email, DEMO_PASSWORD)
        services.set_role(
            user, Role.POLITICIAN, party=party, committees=[committees[s] for s in slugs]
        )
        tick(1)

    for name in CITIZENS:
        register("citizen", name, f"{email_local_part(name)}@{CITIZEN_DOMAIN}", DEMO_PASSWORD)
        tick(1)
    return accounts, people


# --- topics and debates -------------------------------------------------------------------------


def _opener(spec: dict, people: dict[str, User]) -> User:
    opener = spec["opener"]
    return people[POLITICIANS[opener][0]] if isinstance(opener, int) else people[opener]


def _timeline(spec: dict, now: datetime, rng: random.Random) -> dict[str, datetime | None]:
    """When the topic opened, when its debate ends, its deadline and when it closed."""
    opened = now - timedelta(days=spec["days_ago"], hours=rng.uniform(0, 6))
    days = spec.get("days_until_deadline")
    deadline = None
    if days:
        deadline = (now + timedelta(days=days)).replace(
            hour=22,
            minute=59,
            second=0,
            microsecond=0,  # 23:59 Danish (winter) time
        )
    closed = None
    if spec["status"] == "closed":
        if deadline is not None and deadline < now:
            closed = deadline + timedelta(hours=rng.uniform(8, 12))  # the next morning
            last_post = deadline
        else:
            closed = now - timedelta(days=spec.get("closed_days_ago", 1), hours=rng.uniform(0, 4))
            last_post = closed - timedelta(hours=1)
    else:
        last_post = now - timedelta(minutes=rng.randint(15, 60))
    return {"opened": opened, "last_post": last_post, "deadline": deadline, "closed": closed}


def _schedule(
    debate: list[dict], start: datetime, end: datetime, rng: random.Random
) -> list[tuple[dict, int | None, datetime]]:
    """(post, index of its parent in this list, written at), parents first.

    Top-level posts spread over the first nine tenths of [start, end], in the order given;
    replies follow their parent after a few hours (sooner when time runs short), always
    before ``end``. A post marked ``final`` comes last, just before ``end``.
    """
    out: list[tuple[dict, int | None, datetime]] = []
    span = (end - start).total_seconds()

    def visit(node: dict, parent: int | None, when: datetime) -> None:
        out.append((node, parent, when))
        index = len(out) - 1
        remaining = (end - when).total_seconds()
        delays = sorted(
            max(
                min(rng.expovariate(1 / (5 * 3600)), remaining * rng.uniform(0.05, 0.7)),
                min(60.0, remaining / 2),
            )
            for _ in node["replies"]
        )
        for child, delay in zip(node["replies"], delays, strict=True):
            visit(child, index, when + timedelta(seconds=delay))

    regular = [p for p in debate if not p.get("final")]
    offsets = sorted(rng.uniform(0.01, 0.9) * span for _ in regular)
    for node, offset in zip(regular, offsets, strict=True):
        visit(node, None, start + timedelta(seconds=offset))
    for node in debate:
        if node.get("final"):
            visit(node, None, end - timedelta(minutes=1))
    return out


def _seed_topic(
    spec: dict,
    debate: list[dict],
    committees: dict[str, Committee],
    areas: dict[str, Area],
    people: dict[str, User],
    supporters: list[User],
    now: datetime,
    rng: random.Random,
    tick: Progress,
) -> Topic:
    opener = _opener(spec, people)
    times = _timeline(spec, now, rng)
    deadline = times["deadline"]
    topic = services.create_topic(
        opener,
        spec["title"],
        spec["intro"],
        committee_id=committees[spec["committee"]].id if spec["committee"] else None,
        area_id=areas[spec["area"]].id if spec["area"] else None,
        deadline=deadline if deadline is not None and deadline > now else None,
    )
    tick(1)

    # The final word (if any) is written just before the topic closes.
    end = times["closed"] - timedelta(minutes=4) if times["closed"] else times["last_post"]
    regular_end = min(end, times["last_post"])
    written: list[tuple[Post, datetime]] = []
    for node, parent, when in _schedule(debate, times["opened"], regular_end, rng):
        if node.get("final"):
            when = end
        post = services.create_post(
            people[node["author"]],
            topic,
            node["body"],
            parent_id=written[parent][0].id if parent is not None else None,
            stance=node.get("stance"),
        )
        _backdate_post(post, when)
        written.append((post, when))
        tick(1)

    _add_supports(written, supporters, end, rng)
    tick(1)

    if deadline is not None and deadline < now:
        # The consultation is over: record the deadline that passed, then close.
        services.edit_topic(opener, topic, topic.title, topic.intro_source, deadline)
    if spec["status"] == "closed":
        services.set_topic_status(opener, topic, TopicStatus.CLOSED)
    topic.created_at = times["opened"]
    topic.updated_at = times["closed"] or times["opened"]
    topic.last_activity_at = max((w for _, w in written), default=times["opened"])
    db.session.flush()
    return topic


def _backdate_post(post: Post, when: datetime) -> None:
    """Move a just-written post (and the notifications it caused) back to ``when``."""
    post.created_at = when
    fanout.drain_in_transaction()  # the demo is written in one transaction: tell readers now
    db.session.execute(
        update(Notification).where(Notification.post_id == post.id).values(created_at=when)
    )


def _add_supports(
    written: list[tuple[Post, datetime]],
    supporters: list[User],
    end: datetime,
    rng: random.Random,
) -> None:
    """A few supports per post (more for top-level posts), never from the post's author."""
    for post, when in written:
        mean = 3.0 if post.parent_id is None else 1.2
        pool = [u for u in supporters if u.id != post.author_id]
        count = min(int(rng.expovariate(1 / mean)), 12, len(pool))
        for user in rng.sample(pool, count):
            services.toggle_support(user, post)
            support = db.session.get(Support, (user.id, post.id))
            support.created_at = when + (end - when) * rng.uniform(0.05, 0.9)
    db.session.flush()


def _settle_notifications(users: Iterable[User], now: datetime) -> None:
    """Mark older notifications read: a demo user sees the last days' news as unread."""
    for user in {u.id: u for u in users}.values():
        ids = list(
            db.session.scalars(
                select(Notification.id).where(
                    Notification.user_id == user.id,
                    Notification.read_at.is_(None),
                    Notification.created_at < now - UNREAD_WINDOW,
                )
            )
        )
        for i in range(0, len(ids), 500):  # stay well below databases' parameter limits
            services.mark_notifications_read(user, ids[i : i + 500])
