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
from forum.models import Follow, Notification, Post, PostState, Support, Topic, User, utcnow
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
# optionally after a colon or a dash: "42: Mange ønskede en cykelsti".
_CITATION_LINE = re.compile(r"^(?:\S*/indlaeg/|#?p?)(\d{1,10})(?:[#?/]\S*)?\s*[:–—-]?\s*(.*)$")


def outcome_path(topic_id: int) -> str:
    """The outcome page's path (``outcomes.topic_outcome``), for mails built without a
    request; a test checks that it is the route's."""
    return f"/emner/{topic_id}/resultat"


def parse_citations(text: str | None) -> list[tuple[int, str]]:
    """``[(post id, note)]`` from the form's lines; ``InvalidInput`` names the bad line."""
    out: list[tuple[int, str]] = []
    seen: set[int] = set()
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _CITATION_LINE.match(line)
        if match is None:
            raise InvalidInput(
                citations=_(
                    "Line %(line)d: start with the number of a post (or its link), then a "
                    "short note.",
                    line=number,
                )
            )
        post_id, note = int(match.group(1)), " ".join(match.group(2).split())
        if len(note) > NOTE_MAX:
            raise InvalidInput(
                citations=_(
                    "Line %(line)d: a note has at most %(n)d characters.", line=number, n=NOTE_MAX
                )
            )
        if post_id in seen:
            continue
        seen.add(post_id)
        out.append((post_id, note))
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


def _enum_value(cls, value, field: str):
    try:
        return cls(value)
    except ValueError:
        raise InvalidInput(**{field: _("Choose one of the options.")}) from None


def _cited_posts(writer: User, topic: Topic, wanted: list[tuple[int, str]]) -> None:
    """Refuse a citation of a post that is not a public contribution of this topic that the
    writer may see (pending, hidden, rejected, removed and deleted posts are refused)."""
    if not wanted:
        return
    posts = {
        p.id: p
        for p in db.session.scalars(select(Post).where(Post.id.in_([i for i, _n in wanted])))
    }
    for post_id, _note in wanted:
        post = posts.get(post_id)
        if (
            post is None
            or post.topic_id != topic.id
            or post.state != PostState.PUBLISHED
            or not fp.can_see_post(writer, post, topic)
        ):
            raise InvalidInput(
                citations=_(
                    "Post %(id)d cannot be cited: only published posts of this debate can.",
                    id=post_id,
                )
            )


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
    status = _enum_value(OutcomeStatus, status, "status")
    body = _enum_value(DecidingBody, body, "body")
    text = _check_text(text)
    decided_on = _check_date(decided_on)
    link = _check_link(link)
    wanted = parse_citations(citations) if isinstance(citations, str | None) else citations
    _cited_posts(writer, topic, wanted)

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
        OutcomeCitation(kind=CitationKind.POST, target_id=post_id, note=note)
        for post_id, note in wanted
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
            "cited": [post_id for post_id, _n in wanted],
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
        data={"outcome_id": outcome.id, "cited_posts": [post_id for post_id, _n in wanted]},
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
