"""Outcomes' write operations. Each checks permission, validates, writes its rows and an
event row (``forum.eventlog.record``) in the same transaction, and flushes; the view commits.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forum import eventlog, hooks
from forum import permissions as fp
from forum.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.models import (
    Follow,
    Notification,
    Post,
    PostState,
    Support,
    Topic,
    User,
    enum_member,
    utcnow,
)
from forum.rendering import render_markdown

from . import permissions
from .models import (
    CitationKind,
    DecidingBody,
    Outcome,
    OutcomeCitation,
    OutcomeStatus,
    OutcomeUpdate,
)

TEXT_MIN, TEXT_MAX = 10, 10_000
LINK_MAX = 500
NOTE_MAX = 300
CITATIONS_MAX = 20
NOTIFICATION_KIND = "outcome_update"
# One citation a line: the post's number or its link (…/indlaeg/42), then the note,
# optionally after a colon or a dash: "42: Mange ønskede en cykelsti". A word before the
# number names another kind ("svar 42", "idé 17", "møde 90"; see ``_kind_words``), and a
# link to another package's page is recognised by its address (…/borgerbudget/ideer/17).
_CITATION_LINE = re.compile(r"^(?:\S*/indlaeg/|#?p?)(\d{1,10})(?:[#?/]\S*)?\s*[:–—-]?\s*(.*)$")
_WORD = re.compile(r"^([^\W\d_]+)\.?\s+(\S.*)$")
_LINK_TAIL = r"(?:[#?/]\S*)?\s*[:–—-]?\s*(.*)$"

Wanted = tuple[str | None, int, str]  # (kind, or None: a post of the debate or elsewhere; id; note)


def outcome_path(topic_id: int) -> str:
    """The outcome page's path (``outcomes.topic_outcome``), for mails built without a
    request; a test checks that it is the route's."""
    return f"/emner/{topic_id}/resultat"


def _kind_words() -> dict[str, str]:
    words = {"indlæg": CitationKind.POST.value, "post": CitationKind.POST.value}
    for kind, source in hooks.citable_sources().items():
        if kind in {k.value for k in CitationKind}:
            for word in source.words:
                words[word.lower()] = kind
    return words


def _parse_line(line: str, words: dict[str, str]) -> tuple[str | None, int, str] | None:
    kind = None
    match = _WORD.match(line)
    if match and match.group(1).lower() in words:
        kind, line = words[match.group(1).lower()], match.group(2)
    is_link = "/" in line.split(None, 1)[0]
    if is_link:
        for k, source in hooks.citable_sources().items():
            if source.of_posts or (kind is not None and kind != k):
                continue
            found = re.match(r"^\S*?" + source.link + _LINK_TAIL, line)
            if found:
                return k, int(found.group(1)), found.group(2)
    found = _CITATION_LINE.match(line)
    if found is None:
        return None
    if is_link and kind is not None and kind != CitationKind.POST.value and not _of_posts(kind):
        return None  # "idé …/indlaeg/42": a post's link is not an idea's
    return kind, int(found.group(1)), found.group(2)


def _of_posts(kind: str) -> bool:
    source = hooks.citable_sources().get(kind)
    return bool(source and source.of_posts)


def parse_citations(text: str | None) -> list[Wanted]:
    """``[(kind or None, id, note)]`` from the form's lines; ``InvalidInput`` names the bad
    line. A bare number is a post: of this debate, or an answer or a meeting's contribution
    elsewhere (``_check_citations`` decides)."""
    out: list[Wanted] = []
    seen: set[tuple[str | None, int]] = set()
    words = _kind_words()
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parsed = _parse_line(line, words)
        if parsed is None:
            raise InvalidInput(
                citations=_(
                    "Line %(line)d: start with the number of a post (or its link), then a "
                    "short note.",
                    line=number,
                )
            )
        kind, target_id, note = parsed
        note = " ".join(note.split())
        if len(note) > NOTE_MAX:
            raise InvalidInput(
                citations=_(
                    "Line %(line)d: a note has at most %(n)d characters.", line=number, n=NOTE_MAX
                )
            )
        key = (None if kind == CitationKind.POST.value else kind, target_id)
        if key in seen:
            continue
        seen.add(key)
        out.append((kind, target_id, note))
    if len(out) > CITATIONS_MAX:
        raise InvalidInput(
            citations=_("Cite at most %(n)d contributions in one update.", n=CITATIONS_MAX)
        )
    return out


def _check_link(link: str | None) -> str | None:
    link = (link or "").strip()
    if not link:
        return None
    parts = urlsplit(link)
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
        or len(link) > LINK_MAX
        or any(c.isspace() for c in link)
    ):
        raise InvalidInput(
            link=_(
                "Give a web address that starts with http:// or https:// (at most %(n)d "
                "characters).",
                n=LINK_MAX,
            )
        )
    return link


def _check_text(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not TEXT_MIN <= len(text) <= TEXT_MAX:
        raise InvalidInput(
            text=_("The text must be %(lo)d–%(hi)d characters.", lo=TEXT_MIN, hi=TEXT_MAX)
        )
    return text


def _check_date(value: date | None) -> date:
    if value is None:
        raise InvalidInput(decided_on=_("Give the date."))
    latest = date.today() + timedelta(days=2 * 366)
    if not date(2000, 1, 1) <= value <= latest:
        raise InvalidInput(decided_on=_("Give a date between 2000 and two years from now."))
    return value


def _check_citations(
    writer: User, topic: Topic, wanted: list[Wanted]
) -> list[tuple[CitationKind, int, str]]:
    """Each wanted citation with its kind, or ``InvalidInput`` for the first that cannot be
    cited: a post must be a published post of this debate that the writer may see, or a
    live Q&A answer or a meeting's contribution (other packages, through
    ``forum.hooks.citable_sources``) that the writer may see; an idea a published idea the
    writer may see. Pending, hidden, rejected, removed and deleted contributions are refused,
    and so is anything the writer may not see (the message does not say which)."""
    if not wanted:
        return []
    sources = hooks.citable_sources()
    post_ids = [i for k, i, _n in wanted if k in (None, CitationKind.POST.value)]
    posts = (
        {p.id: p for p in db.session.scalars(select(Post).where(Post.id.in_(post_ids)))}
        if post_ids
        else {}
    )
    # Posts outside this debate: ask the sources of posts (answers, meetings' contributions).
    elsewhere = [i for i in post_ids if i not in posts or posts[i].topic_id != topic.id]
    by_kind: dict[str, dict[int, hooks.Citable]] = {}
    for kind, source in sources.items():
        ids = [i for k, i, _n in wanted if k == kind]
        if source.of_posts:
            ids += elsewhere
        by_kind[kind] = source.citable(writer, sorted(set(ids))) if ids else {}
    out: list[tuple[CitationKind, int, str]] = []
    for kind, target_id, note in wanted:
        if kind in (None, CitationKind.POST.value):
            post = posts.get(target_id)
            if (
                post is not None
                and post.topic_id == topic.id
                and post.state == PostState.PUBLISHED
                and fp.can_see_post(writer, post, topic)
            ):
                out.append((CitationKind.POST, target_id, note))
                continue
            found = next(
                (
                    k
                    for k, s in sources.items()
                    if s.of_posts and target_id in by_kind.get(k, {}) and kind is None
                ),
                None,
            )
            if found is not None and found in {k.value for k in CitationKind}:
                out.append((CitationKind(found), target_id, note))
                continue
            raise InvalidInput(
                citations=_(
                    "Post %(id)d cannot be cited: only published posts of this debate, "
                    "answers from live Q&A sessions and contributions from meetings you may "
                    "see can.",
                    id=target_id,
                )
            )
        if kind in {k.value for k in CitationKind} and target_id in by_kind.get(kind, {}):
            out.append((CitationKind(kind), target_id, note))
            continue
        label = sources[kind].label if kind in sources else kind
        raise InvalidInput(
            citations=_(
                "%(what)s %(id)d cannot be cited: it is not published, or you may not see it.",
                what=label,
                id=target_id,
            )
        )
    return out


def _by_nonce(author: User, nonce: str | None) -> OutcomeUpdate | None:
    if not nonce:
        return None
    return db.session.scalar(
        select(OutcomeUpdate).where(
            OutcomeUpdate.author_id == author.id, OutcomeUpdate.client_nonce == nonce
        )
    )


def outcome_of(topic: Topic) -> Outcome | None:
    return db.session.scalar(select(Outcome).where(Outcome.topic_id == topic.id))


def _check_writer(writer: User, topic: Topic) -> None:
    if not permissions.can_see_outcome(writer, topic):
        raise NotFound(_("No such topic."))
    if not permissions.can_write_outcome(writer, topic):
        raise PermissionDenied(
            _("Only staff and the politicians of the topic's committee write its outcome.")
        )
    if not topic.is_public:
        raise Conflict(_("A topic that is not open to everybody cannot have an outcome."))


def _insert(
    writer: User, outcome: Outcome, created: bool, update: OutcomeUpdate, nonce: str | None
) -> OutcomeUpdate:
    """Write the update (and a new outcome) in a savepoint; a lost race (the same form
    twice, or two first updates of one topic at once) rolls back only the savepoint and
    returns the winner's update, or refuses."""
    try:
        with db.session.begin_nested():
            if created:
                db.session.add(outcome)
                db.session.flush()
            update.outcome_id = outcome.id
            db.session.add(update)
            db.session.flush()
    except IntegrityError:
        for row in (update, outcome if created else None):
            if row is not None and row in db.session:
                db.session.expunge(row)
        existing = _by_nonce(writer, nonce)
        if existing is not None:
            return existing
        if created:
            raise Conflict(
                _("Someone else wrote this outcome at the same moment. Send the form again.")
            ) from None
        raise
    return update


def add_update(
    writer: User,
    topic: Topic,
    *,
    status: OutcomeStatus | str,
    body: DecidingBody | str,
    text: str,
    decided_on: date | None,
    link: str | None = None,
    citations: str | list[tuple[int, str]] | None = None,
    nonce: str | None = None,
    notify: bool = True,
) -> OutcomeUpdate:
    """Add a dated update to ``topic``'s outcome (the first one creates the outcome).

    Returns the existing update for a repeated ``nonce`` (a double-submitted form)."""
    _check_writer(writer, topic)
    existing = _by_nonce(writer, nonce)
    if existing is not None:
        return existing
    status = enum_member(OutcomeStatus, status, status=_("Choose one of the options."))
    body = enum_member(DecidingBody, body, body=_("Choose one of the options."))
    text = _check_text(text)
    decided_on = _check_date(decided_on)
    link = _check_link(link)
    if isinstance(citations, str | None):
        wanted = parse_citations(citations)
    else:  # [(post id, note)] or [(kind, id, note)]
        wanted = [c if len(c) == 3 else (None, c[0], c[1]) for c in citations]
    checked = _check_citations(writer, topic, wanted)

    outcome = outcome_of(topic)
    created = outcome is None
    if created:
        outcome = Outcome(
            topic_id=topic.id,
            status=status,
            body=body,
            updated_on=decided_on,
            created_by_id=writer.id,
            created_at=utcnow(),
        )
    update = OutcomeUpdate(
        status=status,
        body=body,
        text_source=text,
        text_html=str(render_markdown(text)),
        decided_on=decided_on,
        link=link,
        author_id=writer.id,
        created_at=utcnow(),
        client_nonce=nonce or None,
    )
    update.citations = [
        OutcomeCitation(kind=kind, target_id=target_id, note=note)
        for kind, target_id, note in checked
    ]
    written = _insert(writer, outcome, created, update, nonce)
    if written is not update:
        return written  # the same form was sent twice at once; the first one won
    # The timeline's head: the latest dated update (a later-added older entry leaves it).
    if created or decided_on >= outcome.updated_on:
        outcome.status, outcome.body, outcome.updated_on = status, body, decided_on
    topic.last_activity_at = utcnow()
    eventlog.record(
        "outcome_update",
        "outcome",
        outcome.id,
        f"topic:{topic.id}",
        {
            "topic_id": topic.id,
            "outcome_id": outcome.id,
            "update_id": update.id,
            "outcome_status": status.value,
            "created": created,
            "cited": [i for k, i, _n in checked if k == CitationKind.POST],
            "cited_other": [[k.value, i] for k, i, _n in checked if k != CitationKind.POST],
        },
        writer.id,
    )
    # The audit log (moderation's, through the forum's hook; nothing without moderation).
    hooks.audit(
        "outcome_update",
        "outcome_update",
        update.id,
        actor=writer,
        topic=topic,
        text=status.value,
        data={
            "outcome_id": outcome.id,
            "cited_posts": [i for k, i, _n in checked if k == CitationKind.POST],
            "cited_other": [[k.value, i] for k, i, _n in checked if k != CitationKind.POST],
        },
    )
    if notify:
        notify_participants(topic, update, writer)
    db.session.flush()
    return update


def participants(topic: Topic) -> set[int]:
    """Everybody who took part in ``topic``: authors of its published posts, those who
    agreed with them, and its followers (three SELECTs in one UNION)."""
    authors = select(Post.author_id.label("uid")).where(
        Post.topic_id == topic.id, Post.state == PostState.PUBLISHED
    )
    supporters = (
        select(Support.user_id.label("uid"))
        .join(Post, Post.id == Support.post_id)
        .where(Post.topic_id == topic.id, Post.state == PostState.PUBLISHED)
    )
    followers = select(Follow.user_id.label("uid")).where(Follow.topic_id == topic.id)
    return set(db.session.scalars(authors.union(supporters, followers)))


def notify_participants(topic: Topic, update: OutcomeUpdate, writer: User) -> int:
    """One in-app notification per person and update (and so one mail item, through the
    mail package's feed of ``notification`` events); the writer is not told."""
    users = sorted(participants(topic) - {writer.id})
    rows = [
        Notification(user_id=uid, kind=NOTIFICATION_KIND, topic_id=topic.id, actor_id=writer.id)
        for uid in users
    ]
    db.session.add_all(rows)
    eventlog.record_many(
        [
            {
                "kind": "notification",
                "subject_type": "user",
                "subject_id": uid,
                "room": f"user:{uid}",
                "payload": {
                    "kind": NOTIFICATION_KIND,
                    "topic_id": topic.id,
                    "update_id": update.id,
                    "title": topic.title,
                    "path": outcome_path(topic.id) + f"#u{update.id}",
                },
            }
            for uid in users
        ]
    )
    return len(rows)
