"""Hooks other packages register with the forum core at start-up.

The core never imports moderation; moderation calls ``register_post_policy`` from its
``init_app`` and the core asks the registered policy for each new post and each edit of
a published post. Registration is per app, so tests can build many apps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol

from flask import current_app, has_app_context

from .models import PostState

if TYPE_CHECKING:
    from .models import Post, Topic, User

Action = Literal["create", "edit"]


class PostDecision(NamedTuple):
    state: PostState
    reason: str | None = None


PostPolicy = Callable[["Post", Action], PostDecision]
_KEY = "borgerdialog.post_policy"


def register_post_policy(app, policy: PostPolicy) -> None:
    app.extensions[_KEY] = policy


def decide_post(post: Post, action: Action) -> PostDecision:
    """Ask the registered policy; with none registered, everything is published."""
    policy = current_app.extensions.get(_KEY)
    if policy is None:
        return PostDecision(PostState.PUBLISHED)
    return policy(post, action)


# A user restriction answers "may this user do this now?" with None (yes) or the reason
# shown to them (e.g. a suspension). Actions: "post", "reply", "edit", "support",
# "open_topic", and for other packages "flag", "ask", "vote".
UserRestriction = Callable[["User", str], "str | None"]
_RESTRICTION_KEY = "borgerdialog.user_restriction"


def register_user_restriction(app, check: UserRestriction) -> None:
    """Add a restriction; several packages may register (moderation, mail), asked in order."""
    checks = app.extensions.setdefault(_RESTRICTION_KEY, [])
    if check not in checks:
        checks.append(check)


def user_restriction(user: User, action: str) -> str | None:
    """Why ``user`` may not ``action`` now (the first registered reason), or None; with none
    registered, nobody is restricted."""
    for check in current_app.extensions.get(_RESTRICTION_KEY, ()):
        reason = check(user, action)
        if reason:
            return reason
    return None


# A write block answers "may this user write nothing at all now?" with None (they may) or the
# reason (moderation: a suspension). Pages ask it to hide every write control (forms, reply,
# support, report, ask, vote buttons); the services still refuse through user_restriction.
WriteBlock = Callable[["User"], "str | None"]
_WRITE_BLOCK_KEY = "borgerdialog.write_blocks"


def register_write_block(app, check: WriteBlock) -> None:
    checks = app.extensions.setdefault(_WRITE_BLOCK_KEY, [])
    if check not in checks:
        checks.append(check)


def write_block(user: User) -> str | None:
    """Why ``user`` may not write anything now (the first registered reason), or None."""
    if not has_app_context():
        return None
    for check in current_app.extensions.get(_WRITE_BLOCK_KEY, ()):
        reason = check(user)
        if reason:
            return reason
    return None


def registered_post_policy(app) -> PostPolicy | None:
    """The policy registered so far, so a later package can wrap it (live Q&A publishes
    its session politicians' answers at once and asks the wrapped policy otherwise)."""
    return app.extensions.get(_KEY)


# A topic guard answers "may this user do this in this topic through the forum's own pages
# and services?" with None (yes) or the reason. Live Q&A uses it for the topics its sessions
# write to, whose questions and answers have rules of their own. Actions: "post", "reply",
# "edit", "support".
TopicGuard = Callable[["User | None", "Topic", str], "str | None"]
_GUARD_KEY = "borgerdialog.topic_guards"


def register_topic_guard(app, guard: TopicGuard) -> None:
    guards = app.extensions.setdefault(_GUARD_KEY, [])
    if guard not in guards:
        guards.append(guard)


def topic_guard(user: User | None, topic: Topic, action: str) -> str | None:
    """Why ``action`` is refused in ``topic`` (the first registered reason), or None."""
    if not has_app_context():
        return None
    for guard in current_app.extensions.get(_GUARD_KEY, ()):
        reason = guard(user, topic, action)
        if reason:
            return reason
    return None


# Topics other packages open as the discussion of something of their own (a citizen-budget
# idea's thread, a live Q&A session's debate). ``query()`` answers a SELECT of one column: the
# ids of those topics, never NULL. Lists of debates (the home page's active topics) leave them
# out; the owner's pages link them.
_OWNED_TOPICS_KEY = "borgerdialog.owned_topics"


def register_owned_topics(app, query: Callable[[], object]) -> None:
    queries = app.extensions.setdefault(_OWNED_TOPICS_KEY, [])
    if query not in queries:
        queries.append(query)


def owned_topic_queries() -> list:
    """The registered SELECTs of owned topic ids (none outside an app context)."""
    if not has_app_context():
        return []
    return [query() for query in current_app.extensions.get(_OWNED_TOPICS_KEY, ())]


# Steps other packages add to ``flask seed-demo`` (called after the forum's demo data, in
# the same transaction, with the moderation and verification policies paused).
_DEMO_KEY = "borgerdialog.demo_steps"


def register_demo_step(app, step: Callable[[], int], *, late: bool = False) -> None:
    """``step()`` writes demo rows (no commit) and returns how many it wrote. A ``late`` step
    runs after every other package's steps: it may join what they wrote through the hooks
    (live Q&A holds a demo session at a demo meeting through ``meeting_links``)."""
    steps = app.extensions.setdefault(_DEMO_KEY, [])
    if all(s is not step for s, _late in steps):
        steps.append((step, late))


def demo_steps() -> list[Callable[[], int]]:
    """The registered steps: in registration order, the late ones last."""
    steps = current_app.extensions.get(_DEMO_KEY, ())
    return [s for s, late in steps if not late] + [s for s, late in steps if late]


# --- review of content other packages own -----------------------------------------------------
# Content that is not a forum post but must wait for a moderator (citizen budgets' ideas). The
# owning package registers a ReviewSource (how to show the content to a moderator and apply a
# decision); the moderation package registers the queue. Neither imports the other: with no
# queue registered (moderation absent or switched off) ``request_review`` answers False and
# the owner publishes at once or reviews the content itself.


class ReviewRequest(NamedTuple):
    kind: str  # the source's kind, at most 10 characters (e.g. "idea")
    target_id: int
    author_id: int | None
    area_id: int | None
    committee_id: int | None
    reason: str = "new_content"  # the queue's reason code: "new_content", "edited_content"
    detail: str = ""  # for the moderator, e.g. "edited"


class ReviewView(NamedTuple):
    """What a moderator sees of one piece of content (no permission implied)."""

    title: str
    body_html: str  # safe HTML, rendered on write
    url: str  # the content's own page (authors and moderators may see it there)
    author_id: int | None
    area_id: int | None
    committee_id: int | None
    state: str  # e.g. "pending", "published", "rejected"
    context: str = ""  # where it belongs, e.g. the citizen budget's title


class ReviewSource(Protocol):
    """Registered by the owning package with ``register_review_source``."""

    kind: str
    label: str  # what the content is called, e.g. "Citizen budget idea" (lazy gettext)

    def views(self, target_ids: list[int]) -> dict[int, ReviewView]:
        """The content of several items at once (one query: the queue page stays constant)."""

    def decide(self, moderator: User, target_id: int, approve: bool, reason: str) -> int | None:
        """Publish or reject a waiting item, tell its author (``reason``: the rule and the
        moderator's text, in words for the author); returns the notification's id. Raises
        the forum's ``DomainError``s (``Conflict`` when it no longer waits)."""

    def reinstate(self, moderator: User, target_id: int) -> None:
        """Publish a rejected item again (an appeal granted); the queue tells the author."""


class ReviewQueue(Protocol):
    def active(self) -> bool:
        """Does the queue take content now (moderation may be switched off)?"""

    def hold(self, request: ReviewRequest) -> bool:
        """Put the content in the queue (in the current transaction); False: no queue now."""

    def withdraw(self, kind: str, target_id: int, actor_id: int | None) -> None:
        """The content no longer waits (its author withdrew it): close its open items."""


_SOURCES_KEY = "borgerdialog.review_sources"
_QUEUE_KEY = "borgerdialog.review_queue"


def register_review_source(app, source: ReviewSource) -> None:
    app.extensions.setdefault(_SOURCES_KEY, {})[source.kind] = source


def review_sources() -> dict[str, ReviewSource]:
    if not has_app_context():
        return {}
    return dict(current_app.extensions.get(_SOURCES_KEY, {}))


def register_review_queue(app, queue: ReviewQueue) -> None:
    app.extensions[_QUEUE_KEY] = queue


def request_review(request: ReviewRequest) -> bool:
    """Hold ``request``'s content for a moderator; False when no queue takes it."""
    queue = current_app.extensions.get(_QUEUE_KEY) if has_app_context() else None
    return bool(queue is not None and queue.hold(request))


def review_queue_active() -> bool:
    """Is there a queue that would take content now? (Owners then decide only through it.)"""
    queue = current_app.extensions.get(_QUEUE_KEY) if has_app_context() else None
    return bool(queue is not None and queue.active())


def withdraw_review(kind: str, target_id: int, actor_id: int | None) -> None:
    queue = current_app.extensions.get(_QUEUE_KEY) if has_app_context() else None
    if queue is not None:
        queue.withdraw(kind, target_id, actor_id)


# The audit log (moderation's, registered at start-up): administration writes who did what,
# to what, with the before/after values, in the same transaction as the change.
# ``audit_log(action, target_type, target_id, actor=..., from_state=..., to_state=...,
# text=..., data=..., area_id=..., committee_id=..., subject_user_id=...)``.
_AUDIT_KEY = "borgerdialog.audit_log"


def register_audit_log(app, writer: Callable[..., object]) -> None:
    app.extensions[_AUDIT_KEY] = writer


def audit_log_registered(app) -> bool:
    return _AUDIT_KEY in app.extensions


def audit_log(action: str, target_type: str, target_id: int | None, **kw) -> object:
    """Append one entry to the registered audit log; without one there is nowhere to keep
    who did what, so the action must not happen (RuntimeError, never a silent loss)."""
    writer = current_app.extensions.get(_AUDIT_KEY)
    if writer is None:
        raise RuntimeError("No audit log is registered (the moderation package keeps it).")
    return writer(action, target_type, target_id, **kw)


# --- notes on posts other packages cite -------------------------------------------------------
# A package that cites forum posts (outcomes: "what we heard → what we did") registers a
# reader; pages that show posts ask it once per page with the topic and all the posts they
# show (a fixed number of queries, however many posts) and print each post's notes
# (``Citation``: the words and the link).


class Citation(NamedTuple):
    label: str  # e.g. "Cited in the outcome: Decided (3 December 2026)", already translated
    url: str


PostCitations = Callable[[int, list[int]], "dict[int, list[Citation]]"]
_CITATIONS_KEY = "borgerdialog.post_citations"


def register_post_citations(app, reader: PostCitations) -> None:
    readers = app.extensions.setdefault(_CITATIONS_KEY, [])
    if reader not in readers:
        readers.append(reader)


def post_citations(topic_id: int, post_ids) -> dict[int, list[Citation]]:
    """The notes of the posts ``post_ids`` of topic ``topic_id`` (post id -> notes); only
    posts with notes appear. No query when there are no posts or no readers."""
    ids = sorted({int(i) for i in post_ids})
    if not ids or not has_app_context():
        return {}
    out: dict[int, list[Citation]] = {}
    for reader in current_app.extensions.get(_CITATIONS_KEY, ()):
        for post_id, notes in reader(topic_id, ids).items():
            out.setdefault(post_id, []).extend(notes)
    return out


# --- contributions other packages let outcomes cite ---------------------------------------------
# An outcome (outcomes) cites what it answers: posts of its own debate, and through these hooks
# contributions other packages own (a live Q&A answer, a citizen-budget idea, an offline
# contribution from a meeting). The owner registers a ``CitableSource``; the citing package
# registers a ``cited_in`` reader, which the owner's permalink page asks for its notes
# ("Cited in the outcome of …"). Answers and offline contributions are forum posts: their
# notes come through ``post_citations`` like any post's.


class Citable(NamedTuple):
    kind: str
    target_id: int
    title: str  # what it is, translated ("Answer by … in the Q&A session …")
    url: str  # its permalink


class CitableSource(Protocol):
    kind: str  # at most 20 characters: "answer", "idea", "offline"
    label: str  # what one is called, e.g. "Q&A answer" (lazy gettext)
    words: tuple[str, ...]  # words a writer may put before its number ("svar", "answer")
    link: str  # a regular expression finding its number in its permalink ("/ideer/(\d+)")
    of_posts: bool  # its ids are forum post ids

    def citable(self, viewer, ids: list[int]) -> dict[int, Citable]:
        """Those of ``ids`` that ``viewer`` may see now and that may be cited (published,
        in a public place); one query."""


_CITABLE_KEY = "borgerdialog.citable_sources"
_CITED_IN_KEY = "borgerdialog.cited_in"


def register_citable_source(app, source: CitableSource) -> None:
    app.extensions.setdefault(_CITABLE_KEY, {})[source.kind] = source


def citable_sources() -> dict[str, CitableSource]:
    if not has_app_context():
        return {}
    return dict(current_app.extensions.get(_CITABLE_KEY, {}))


def register_cited_in(app, reader: Callable[[str, list[int]], dict[int, list[Citation]]]):
    readers = app.extensions.setdefault(_CITED_IN_KEY, [])
    if reader not in readers:
        readers.append(reader)


def cited_in(kind: str, ids) -> dict[int, list[Citation]]:
    """The notes of the items ``ids`` of ``kind`` (id -> notes); no query without ids or
    readers."""
    ids = sorted({int(i) for i in ids})
    if not ids or not has_app_context():
        return {}
    out: dict[int, list[Citation]] = {}
    for reader in current_app.extensions.get(_CITED_IN_KEY, ()):
        for item_id, notes in reader(kind, ids).items():
            out.setdefault(item_id, []).extend(notes)
    return out


# --- the audit log of another package ----------------------------------------------------------
# The same writer as ``audit_log`` above (moderation registers it), for packages whose
# entries are optional (outcomes: an update written): with no writer registered (moderation
# absent) nothing is written and ``audit`` answers False.


def audit(
    action: str,
    target_type: str,
    target_id: int | None,
    *,
    actor: User | None,
    topic: Topic | None = None,
    text: str = "",
    data: dict | None = None,
) -> bool:
    """Append an audit entry in the current transaction; False when no writer is registered."""
    writer = current_app.extensions.get(_AUDIT_KEY) if has_app_context() else None
    if writer is None:
        return False
    writer(action, target_type, target_id, actor=actor, topic=topic, text=text, data=data or {})
    return True


# --- who a participant is, for syntheses and reports ------------------------------------------
# Reports (the synthesis page, the council report) group people by local area and name only
# those who agreed to be named. The facts belong to another package (consented facts: area
# of residence, consent to be named); it registers readers here. With none registered, a
# person's area is unknown to these readers and nobody but politicians is named.

ParticipantAreas = Callable[[list[int]], "dict[int, int]"]
NamedParticipants = Callable[[list[int]], "set[int]"]
_AREAS_KEY = "borgerdialog.participant_areas"
_NAMED_KEY = "borgerdialog.named_participants"


def register_participant_areas(app, reader: ParticipantAreas) -> None:
    """``reader(user_ids)`` -> {user id: area id} for those whose area is known."""
    app.extensions[_AREAS_KEY] = reader


def participant_areas(user_ids) -> dict[int, int] | None:
    """{user id: area id} from the registered reader, or None when no reader is registered
    (the caller decides its fallback)."""
    reader = current_app.extensions.get(_AREAS_KEY) if has_app_context() else None
    return None if reader is None else reader(sorted(set(user_ids)))


def register_named_participants(app, reader: NamedParticipants) -> None:
    """``reader(user_ids)`` -> the ids of those who agreed to be named in reports."""
    app.extensions[_NAMED_KEY] = reader


def named_participants(user_ids) -> set[int]:
    reader = current_app.extensions.get(_NAMED_KEY) if has_app_context() else None
    return set() if reader is None else set(reader(sorted(set(user_ids))))


# Consented target groups (age band, children at home, …): the package that keeps those facts
# registers a reader; reports and the opinion map break figures down by them, always through
# ``forum.anonymity`` (no group of fewer than k people is shown). With none registered there
# are no target groups.


class TargetGroups(NamedTuple):
    """One consented fact and who gave which value."""

    fact: str  # e.g. "age_band"
    label: str  # the fact's name, translated
    values: list[tuple[str, str]]  # (key, label) in the order to show
    people: dict[int, str]  # user id -> value key, only those who gave it with consent


ParticipantFacts = Callable[[list[int]], "list[TargetGroups]"]
_FACTS_KEY = "borgerdialog.participant_facts"


def register_participant_facts(app, reader: ParticipantFacts) -> None:
    """``reader(user_ids)`` -> one ``TargetGroups`` per fact (every fact, even when nobody of
    ``user_ids`` gave it; with no ids, the facts and their labels alone)."""
    app.extensions[_FACTS_KEY] = reader


def participant_facts(user_ids) -> list[TargetGroups]:
    reader = current_app.extensions.get(_FACTS_KEY) if has_app_context() else None
    return [] if reader is None else list(reader(sorted(set(user_ids))))


# --- sections other packages add to a topic's synthesis -------------------------------------------
# The synthesis page and the council report (reports) show, per topic, what other packages know
# about what citizens think (the opinion map's groups and statements). The owner registers a
# reader that renders its own section as safe HTML (no script, no style attribute, no external
# resource: the same HTML goes into the PDF), from public content only (what an anonymous
# visitor may see), with headings at the level asked for.


class SynthesisSection(NamedTuple):
    key: str  # e.g. "opinions", unique per package
    title: str  # the section's heading, translated
    html: object  # Markup
    rows: list[tuple[str, str, object]] = []  # (section, label, value) for the CSV appendix


SynthesisReader = Callable[[int, int], "list[SynthesisSection]"]  # (topic id, heading level)
_SYNTHESIS_KEY = "borgerdialog.synthesis_sections"


def register_synthesis_section(app, reader: SynthesisReader) -> None:
    readers = app.extensions.setdefault(_SYNTHESIS_KEY, [])
    if reader not in readers:
        readers.append(reader)


def synthesis_sections(topic_id: int, heading_level: int = 2) -> list[SynthesisSection]:
    """Every registered package's sections for ``topic_id`` (none outside an app context)."""
    if not has_app_context():
        return []
    return [
        section
        for reader in current_app.extensions.get(_SYNTHESIS_KEY, ())
        for section in reader(topic_id, heading_level)
    ]


# --- upcoming dated events (feeds) ------------------------------------------------------------
# Packages with public dated events (live Q&A sessions; meetings) register a reader; the
# "upcoming" Atom feed (api/feeds.py) asks them all. Each reader answers public items only.


class Upcoming(NamedTuple):
    title: str
    url: str  # absolute
    starts_at: datetime  # naive UTC
    updated_at: datetime  # naive UTC
    summary: str = ""


_UPCOMING_KEY = "borgerdialog.upcoming"


def register_upcoming(app, reader: Callable[[], list[Upcoming]]) -> None:
    readers = app.extensions.setdefault(_UPCOMING_KEY, [])
    if reader not in readers:
        readers.append(reader)


def upcoming() -> list[Upcoming]:
    """Every registered reader's upcoming public events (none outside an app context)."""
    if not has_app_context():
        return []
    return [item for reader in current_app.extensions.get(_UPCOMING_KEY, ()) for item in reader()]


# --- mails other packages send through the outbox ---------------------------------------------
# A package with a mail of its own (admin: an invitation) registers a composer for its kind and
# queues the mail with ``queue_mail``; the mail package registers the outbox and, when the mail
# is sent, asks the composer for its content. Neither imports the other.


class OutboxMail(NamedTuple):
    """A mail's content: ``template`` names ``<template>.txt`` and ``<template>.html``
    (which may extend ``mail/email/_layout.html``), rendered in the recipient's language
    with ``context``."""

    subject: str
    template: str
    context: dict


# payload -> the mail, or None when there is nothing to send any more (e.g. already used)
MailComposer = Callable[[dict], "OutboxMail | None"]
_COMPOSERS_KEY = "borgerdialog.mail_composers"
_OUTBOX_KEY = "borgerdialog.outbox"


def register_mail_composer(app, kind: str, composer: MailComposer) -> None:
    app.extensions.setdefault(_COMPOSERS_KEY, {})[kind] = composer


def mail_composer(kind: str) -> MailComposer | None:
    if not has_app_context():
        return None
    return current_app.extensions.get(_COMPOSERS_KEY, {}).get(kind)


def register_outbox(app, queue: Callable[..., object]) -> None:
    """``queue(kind, to_addr, payload, user=None, locale=None)`` adds a mail to the outbox in
    the current transaction (the mail package)."""
    app.extensions[_OUTBOX_KEY] = queue


def queue_mail(
    kind: str, to_addr: str, payload: dict, user: User | None = None, locale: str | None = None
) -> bool:
    """Queue a mail of a registered kind to ``to_addr`` (``user``: the account it is about,
    if any, so deleting the account drops it); False when no outbox is registered."""
    queue = current_app.extensions.get(_OUTBOX_KEY) if has_app_context() else None
    if queue is None:
        return False
    queue(kind, to_addr, payload, user=user, locale=locale)
    return True


# --- erasing what a package keeps outside the database ----------------------------------------
# Deleting an account (privacy) asks every registered eraser to remove what it keeps about the
# person outside the tables (mail: the ``.eml`` files its file backend wrote), before the rows
# that name those things go.
AccountEraser = Callable[[int, str], int]  # (user id, e-mail address) -> things removed
_ERASERS_KEY = "borgerdialog.account_erasers"


def register_account_eraser(app, eraser: AccountEraser) -> None:
    erasers = app.extensions.setdefault(_ERASERS_KEY, [])
    if eraser not in erasers:
        erasers.append(eraser)


def erase_account_traces(user_id: int, email: str) -> int:
    """Run every registered eraser; returns how many things they removed."""
    if not has_app_context():
        return 0
    return sum(e(user_id, email) for e in current_app.extensions.get(_ERASERS_KEY, ()))


# --- facts about the signed-in reader that make a page personal ---------------------------------
# A package whose pages show a signed-in reader something of their own on every page (a banner:
# moderation's suspension, mail's unconfirmed address) registers a fact: a function of the
# reader's id (a bind parameter) and the time now (another) that returns a SQL boolean
# expression, true when that reader gets it, and optionally ``applies()``: whether the fact
# can be true under the app's configuration now (e.g. mail asks for confirmation only when
# configured to). The core reads every applying fact and the unread-notification count in one
# statement per request (``forum.queries.reader_facts``; the statement is built once per set
# of applying facts); pages cached for many readers are served only to readers for whom all
# facts are false, and a package may skip its own lookup when its fact is known to be false
# this request (``known_reader_fact``).
ReaderFact = Callable[[object, object], object]
_READER_FACTS_KEY = "borgerdialog.reader_facts"
READER_FACTS_MEMO = "reader_facts"  # in ``g`` during a request: (user id, facts, unread)


def register_reader_fact(
    app, name: str, expression: ReaderFact, applies: Callable[[], bool] | None = None
) -> None:
    app.extensions.setdefault(_READER_FACTS_KEY, {})[name] = (expression, applies)


def reader_fact_expressions() -> dict[str, ReaderFact]:
    """The facts that apply now, by name, in the order they were registered."""
    if not has_app_context():
        return {}
    registered = current_app.extensions.get(_READER_FACTS_KEY, {})
    return {
        name: expression
        for name, (expression, applies) in registered.items()
        if applies is None or applies()
    }


def known_reader_fact(name: str, user_id: int) -> bool | None:
    """The fact ``name`` of reader ``user_id`` if this request read it already (False also
    when it does not apply now), else None."""
    from flask import g, has_request_context

    if not has_request_context():
        return None
    facts = g.get(READER_FACTS_MEMO)
    if facts is None or facts[0] != user_id:
        return None
    return facts[1].get(name, False)


# --- area-scoped capacities other packages keep -------------------------------------------------
# A capacity a person holds in some local areas, kept by a feature package (meetings: the
# local forum contact of an area), administered where roles are: admin's person page shows one
# checkbox list per registered capacity in the role form, and a change goes into the same
# audited ``role_change`` entry, with the before/after areas. Neither package imports the other.


class AreaCapacity(NamedTuple):
    name: str  # a short key, e.g. "meeting_contact" (the form field is ``cap_<name>``)
    label: object  # the checkbox list's legend (lazy gettext)
    read: Callable[[User], set[int]]  # the areas ``user`` holds it in
    # (actor, user, area ids) -> changed?; sets exactly these areas, flushes, refuses with
    # the forum's DomainErrors
    write: Callable[[User, User, set[int]], bool]


_CAPACITIES_KEY = "borgerdialog.area_capacities"


def register_area_capacity(app, capacity: AreaCapacity) -> None:
    app.extensions.setdefault(_CAPACITIES_KEY, {})[capacity.name] = capacity


def area_capacities() -> list[AreaCapacity]:
    """The registered capacities, in the order they were registered (none outside an app)."""
    if not has_app_context():
        return []
    return list(current_app.extensions.get(_CAPACITIES_KEY, {}).values())


# --- a live Q&A session held at a meeting (hybrid) ---------------------------------------------
# A meeting out in the municipality may have a live Q&A session: the room asks through the
# projector view, people at home online. Meetings keeps the link (its table
# ``meeting_qa_sessions``) and registers ``MeetingLinks``; live Q&A registers a reader of its
# sessions. The session's form offers the meetings its organiser may link, the session's page
# shows the meeting, the meeting's page shows the session. Neither package imports the other.


class MeetingFacts(NamedTuple):
    id: int
    title: str
    url: str  # the meeting's page (path)
    starts_at: datetime  # naive UTC
    ends_at: datetime
    place: str  # address and room, or ""
    online_link: str | None
    cancelled: bool
    committee_id: int | None
    area_id: int | None
    topic_id: int | None
    politician_ids: tuple[int, ...]


class MeetingLinks(Protocol):
    def choices(self, user: User, session_id: int | None) -> list[tuple[int, str]]:
        """Meetings ``user`` may hold a session at (not over, not cancelled, theirs to
        manage), plus the one ``session_id`` is linked to now."""

    def facts(self, meeting_id: int) -> MeetingFacts | None:
        """A meeting's public facts (for the session form's prefill)."""

    def of_session(self, session_id: int) -> MeetingFacts | None:
        """The meeting the session is held at, if any."""

    def link(self, user: User, session_id: int, meeting_id: int | None) -> bool:
        """Hold the session at ``meeting_id`` (None: at no meeting); refuses with the
        forum's DomainErrors (field ``meeting_id``); True when something changed."""


class SessionFacts(NamedTuple):
    id: int
    title: str
    url: str  # the session's page (path)
    projector_url: str
    state: str  # "scheduled", "live", "ended"
    starts_at: datetime
    ends_at: datetime


_MEETING_LINKS_KEY = "borgerdialog.meeting_links"
_LIVE_SESSIONS_KEY = "borgerdialog.live_sessions"


def register_meeting_links(app, links: MeetingLinks) -> None:
    app.extensions[_MEETING_LINKS_KEY] = links


def meeting_links() -> MeetingLinks | None:
    """The registered meeting links (None without the meetings package)."""
    return current_app.extensions.get(_MEETING_LINKS_KEY) if has_app_context() else None


def register_live_sessions(app, reader: Callable[[int], SessionFacts | None]) -> None:
    """``reader(session_id)`` -> the session's facts (None when there is no such session)."""
    app.extensions[_LIVE_SESSIONS_KEY] = reader


def live_session(session_id: int) -> SessionFacts | None:
    reader = current_app.extensions.get(_LIVE_SESSIONS_KEY) if has_app_context() else None
    return None if reader is None else reader(session_id)


# --- search over what other packages keep ------------------------------------------------------
# Search indexes forum posts and topics. A package with content of its own that people search
# for registers a ``SearchSource`` (meetings: a meeting, which may or may not belong to a
# topic; outcomes: a topic's outcome). The indexer re-reads an item whenever an event with the
# source's ``subject_type`` names it, when its topic is renamed, moved, hidden or reopened
# (``ids_of_topics``), and when its author's name changes (``ids_by_authors``); the results
# page re-checks every hit with ``visible`` and shows only what the viewer may see now. The
# source decides an item's visibility, committee and area (an outcome takes its topic's).
# Each source is one option of the search page's »Kind« filter (``label``). A package that
# marks some forum posts as coming from somewhere (meetings: what was said at a meeting,
# entered afterwards) registers a ``PostOrigin``; search indexes the origin with each post
# (and with a source's items when the source names it as ``origin``) and offers it as the
# »Source« filter. Search imports none of these packages.


class SearchItem(NamedTuple):
    """One item of a source: as the index holds it (``items``) or as a results page shows it
    to a viewer who may see it now (``visible``). No permission implied."""

    id: int
    title: str  # what is indexed (``items``) or the hit's heading (``visible``)
    text: str  # Markdown source or plain text (search makes it plain)
    url: str  # the item's page (path)
    label: str  # what it is, for the hit ("Meeting: …", "Outcome: …"), already translated
    author_id: int | None
    created_at: datetime  # naive UTC: the item's date (a meeting's start, an outcome's update)
    committee_id: int | None = None
    area_id: int | None = None
    topic_id: int | None = None  # the topic it belongs to, if any
    public: bool = True  # may anyone see it? (an outcome: exactly when its topic is public)
    state: str = "published"  # e.g. "cancelled"; shown on the hit when not "published"
    state_label: str = ""  # the state in words, already translated


class SearchSource(Protocol):
    kind: str  # the document kind, e.g. "meeting"; its first letter is unique among kinds
    label: object  # what the items are called, plural ("Meetings"; lazy gettext): the filter
    subject_type: str  # events with this subject_type (subject id = item id) change an item
    origin: str | None  # the PostOrigin key its items also count under (None: none)

    def items(self, ids: list[int]) -> dict[int, SearchItem]:
        """The current items (one query; ids missing from the answer have no document)."""

    def all_ids(self) -> list[int]:
        """Every item's id (for a rebuild)."""

    def ids_of_topics(self, topic_ids: list[int]) -> list[int]:
        """The items of these topics (a topic renamed, moved, hidden or reopened)."""

    def ids_by_authors(self, user_ids: list[int]) -> list[int]:
        """The items these people are the authors of (a new display name re-indexes them)."""

    def visible(self, viewer, ids: list[int]) -> dict[int, SearchItem]:
        """The items ``viewer`` may see now, checked against the database (the results
        page's re-check; one query)."""


class PostOrigin(NamedTuple):
    key: str  # the filter's URL value, e.g. "moeder"
    label: object  # the filter's option, e.g. "From meetings" (lazy gettext)
    # A SELECT of one column: the ids of the posts with this origin (used as a subquery, so
    # the results page reads origins in its one query for posts)
    post_ids: Callable[[], object]


_SEARCH_SOURCES_KEY = "borgerdialog.search_sources"
_POST_ORIGINS_KEY = "borgerdialog.post_origins"


def register_search_source(app, source: SearchSource) -> None:
    app.extensions.setdefault(_SEARCH_SOURCES_KEY, {})[source.kind] = source


def search_sources() -> dict[str, SearchSource]:
    """The registered sources by kind (none outside an app context)."""
    if not has_app_context():
        return {}
    return dict(current_app.extensions.get(_SEARCH_SOURCES_KEY, {}))


def register_post_origin(app, origin: PostOrigin) -> None:
    app.extensions.setdefault(_POST_ORIGINS_KEY, {})[origin.key] = origin


def post_origins() -> dict[str, PostOrigin]:
    if not has_app_context():
        return {}
    return dict(current_app.extensions.get(_POST_ORIGINS_KEY, {}))


def origins_of_posts(post_ids) -> dict[int, str]:
    """post id -> origin key, for the posts among ``post_ids`` that have one (the first
    registered origin wins). No query without registered origins or posts."""
    from sqlalchemy import select

    from .extensions import db
    from .models import Post

    ids = sorted({int(i) for i in post_ids})
    out: dict[int, str] = {}
    origins = post_origins()
    if not ids or not origins:
        return out
    for key, origin in origins.items():
        found = db.session.scalars(
            select(Post.id).where(Post.id.in_(ids), Post.id.in_(origin.post_ids()))
        )
        for pid in found:
            out.setdefault(pid, key)
    return out


# --- moderation's desk, for packages that moderate on pages of their own ------------------------
# Live Q&A moderates its questions on the session's own page: it sets a topic's mode (pre- or
# post-moderation), approves or rejects a held question, and offers the debate rules as the
# reasons. Moderation registers its desk; qa asks it without importing moderation. With none
# registered (moderation absent) modes are not kept, there are no rules to choose, and
# ``moderator_desk()`` answers None.


class ModeratorDesk(Protocol):
    def set_mode(self, actor: User, target_type: str, target_id: int, mode: str | None) -> None:
        """A committee's, area's or topic's mode ("post"/"pre"; None: inherit), audited."""

    def moderate_post(
        self, moderator: User, post: Post, action: str, rule_id=None, text: str = ""
    ) -> None:
        """Act on ``post`` as from its moderation page (decision, audit entry, notice)."""

    def rule_choices(self, lang: str) -> list[tuple[str, str]]:
        """The active debate rules as (id, title in ``lang``), in their order."""


_DESK_KEY = "borgerdialog.moderator_desk"


def register_moderator_desk(app, desk: ModeratorDesk) -> None:
    app.extensions[_DESK_KEY] = desk


def moderator_desk() -> ModeratorDesk | None:
    return current_app.extensions.get(_DESK_KEY) if has_app_context() else None


# --- how each kind of notification is described to a person -------------------------------------
# One registry of notification kinds. The package that writes a kind registers, once, how it
# reads: a ``Describer`` that turns the facts of one notification (``NoticeFacts``: the row on
# the notifications page, or the mail item at send time) into a ``Notice``: the sentence, the
# link and the detail. The notifications page (templates/forum/notifications.html, through
# ``describe_notification``) and every mail, immediate and digest (mail/compose.py), ask the
# same describer, so each sentence is written once and mail imports no feature package.
# Registration is per app; a later registration of a kind replaces the earlier one (moderation
# adds the debate rule and the moderator's words to the forum's own proposal kinds).

Medium = Literal["page", "mail"]


@dataclass
class NoticeFacts:
    """One notification as a describer sees it. ``link(endpoint, **values)`` builds a URL of
    the site and ``site(path)`` turns a path an event carried into one: plain paths on the page,
    absolute URLs (``MAIL_BASE_URL``) in a mail. ``topic`` and ``post`` are what the row or the
    item names, not yet checked against ``user``'s rights (the describer checks what it shows;
    the page has already replaced a notification whose post the reader may not see)."""

    kind: str
    user: User  # the person told
    medium: Medium
    link: Callable[..., str]
    site: Callable[[str], str]
    topic: Topic | None = None
    post: Post | None = None
    actor: User | None = None  # who did it (a post's author), if anyone
    payload: dict = field(default_factory=dict)  # what the event carried (mail: title, path, …)
    created_at: datetime | None = None
    expires_at: datetime | None = None  # mail: when the item stops being worth sending
    now: datetime | None = None
    find_notification: Callable[[], int | None] | None = None  # mail: the in-app row, if any
    _notification_id: int | None = None

    @property
    def notification_id(self) -> int | None:
        """The in-app notification's id (found once, lazily, for a mail item)."""
        if self._notification_id is None and self.find_notification is not None:
            self._notification_id = self.find_notification()
            self.find_notification = None
        return self._notification_id


@dataclass
class Notice:
    """How one notification reads. ``text``: the sentence (the mail's subject). ``url``: where
    it leads. ``detail``, by key (both media read the same keys; a describer may leave out
    what one medium does not show):

    - ``said``: what else is said, one line (the reason, the moderator's or municipality's
      words, already quoted);
    - ``rule``, ``rule_url``: the debate rule invoked, and its place on the rules page;
    - ``see``, ``see_hint``: on the page the sentence is the link, unless ``see`` names a link
      of its own after it (``see_hint``: its words for screen readers);
    - mail only: ``excerpt_html`` (the post or topic; the mail shortens it to text),
      ``own_excerpt_html`` (the recipient's own post, likewise), ``appeal_url``, ``more``.
    """

    text: str
    url: str | None = None
    detail: dict = field(default_factory=dict)


Describer = Callable[[NoticeFacts], "Notice | None"]  # None: nothing to say (no longer visible)


class NotificationKind(NamedTuple):
    kind: str
    describe: Describer
    gone: object  # what the page says when ``describe`` answers None (lazy gettext)
    package: str  # who registered it (``flask seams`` lists it)


_NOTICE_KINDS_KEY = "borgerdialog.notification_kinds"


def register_notification_kind(
    app, kind: str, describe: Describer, *, gone: object = None, package: str = ""
) -> None:
    """Register how notifications of ``kind`` read; ``gone``: the page's words when there is
    nothing left to say (default: the post is no longer available)."""
    app.extensions.setdefault(_NOTICE_KINDS_KEY, {})[kind] = NotificationKind(
        kind, describe, gone, package or describe.__module__.split(".")[0]
    )


def notification_kinds(app=None) -> dict[str, NotificationKind]:
    """The registered kinds (``app``: default the current app)."""
    if app is None:
        if not has_app_context():
            return {}
        app = current_app
    return dict(app.extensions.get(_NOTICE_KINDS_KEY, {}))


def describe_notification(facts: NoticeFacts) -> Notice | None:
    """The registered description of ``facts``; None for a kind nobody registered and for a
    notification with nothing left to say."""
    registered = notification_kinds().get(facts.kind)
    return registered.describe(facts) if registered is not None else None
