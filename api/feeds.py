"""Atom feeds (feedgen) of public content: new topics (all, per committee, per area), new
posts in a topic, outcomes, upcoming Q&A sessions and other dated events (other packages
register theirs: ``forum.hooks.register_upcoming``), and a saved search behind a secret URL.

Every feed reads what an anonymous visitor may see, with the same rules as the API
(``api/views.py``): a saved search's feed runs the search as nobody in particular, since
its URL may travel further than its owner.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, abort, current_app, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum import hooks, permissions
from forum.extensions import db
from forum.models import Area, Committee, Post, Topic

from . import licence
from .http import etag_for, last_event_id, not_modified
from .views import public_topic_or_404, public_topics

bp = Blueprint("api_feeds", __name__, url_prefix="/feeds")
ENTRIES = 50


# Characters XML 1.0 cannot hold (C0 controls but tab and newlines, lone surrogates, U+FFFE/F):
# text may contain them (a title sent through the API), and lxml refuses to write them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text) -> str:
    """``text`` without the characters an XML document cannot contain."""
    return _NOT_XML.sub("", str(text or ""))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _feed(feed_id: str, title: str, link: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(_xml(title))
    fg.link(href=link, rel="alternate")
    fg.link(href=request.url, rel="self")
    fg.language("da")
    fg.updated(datetime.now(UTC))
    fg.author({"name": current_app.config.get("SITE_NAME", "Borgerdialog")})
    name, url = licence()
    fg.rights(f"{name}: {url}")  # the open data's licence (site settings)
    fg.link(href=url, rel="license")
    return fg


def _answer(build) -> Response:
    """The feed as Atom with an ETag of the log's newest event (304 without building)."""
    tag = etag_for(last_event_id(), licence()[0])
    early = not_modified(tag)
    if early is not None:
        return early
    fg = build()
    resp = Response(fg.atom_str(pretty=False), mimetype="application/atom+xml")
    resp.set_etag(tag)
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


def _topic_entries(fg: FeedGenerator, topics: list[Topic]) -> None:
    # feedgen puts entries first-added last; add oldest first so the newest leads.
    for t in reversed(topics):
        fe = fg.add_entry()
        url = url_for("forum.topic", topic_id=t.id, _external=True)
        fe.id(url)
        fe.title(_xml(t.title))
        fe.link(href=url)
        fe.published(_utc(t.created_at))
        fe.updated(_utc(t.updated_at or t.created_at))
        fe.content(_xml(t.intro_html), type="html")


def _topics_feed(where=None, title: str = "", link: str = "") -> Response:
    def build():
        stmt = public_topics().order_by(Topic.created_at.desc(), Topic.id.desc()).limit(ENTRIES)
        if where is not None:
            stmt = stmt.where(where)
        fg = _feed(request.url, title, link)
        _topic_entries(fg, list(db.session.scalars(stmt)))
        return fg

    return _answer(build)


@bp.route("/emner.atom")
def topics():
    return _topics_feed(None, _("New topics"), url_for("forum.home", _external=True))


@bp.route("/udvalg/<slug>.atom")
def committee(slug: str):
    place = db.session.scalar(select(Committee).where(Committee.slug == slug)) or abort(404)
    link = url_for("forum.committee", slug=slug, _external=True)
    return _topics_feed(
        Topic.committee_id == place.id, _("New topics: %(name)s", name=place.name), link
    )


@bp.route("/omraader/<slug>.atom")
def area(slug: str):
    place = db.session.scalar(select(Area).where(Area.slug == slug)) or abort(404)
    link = url_for("forum.area", slug=slug, _external=True)
    return _topics_feed(Topic.area_id == place.id, _("New topics: %(name)s", name=place.name), link)


@bp.route("/emner/<int:topic_id>/indlaeg.atom")
def topic_posts(topic_id: int):
    try:
        topic = public_topic_or_404(topic_id)
    except Exception:
        abort(404)

    def build():
        posts = db.session.scalars(
            select(Post)
            .options(joinedload(Post.author))
            .where(Post.topic_id == topic.id, Post.state.in_(permissions.PUBLIC_POST_STATES))
            .order_by(Post.id.desc())
            .limit(ENTRIES)
        ).all()
        link = url_for("forum.topic", topic_id=topic.id, _external=True)
        fg = _feed(request.url, _("New posts: %(title)s", title=topic.title), link)
        for p in reversed(posts):
            fe = fg.add_entry()
            url = url_for("forum.post", post_id=p.id, _external=True)
            fe.id(url)
            fe.title(_xml(_("%(name)s in %(title)s", name=_author(p), title=topic.title)))
            fe.link(href=url)
            fe.author({"name": _xml(_author(p))})
            fe.published(_utc(p.created_at))
            fe.updated(_utc(p.edited_at or p.created_at))
            fe.content(_xml(p.body_html), type="html")
        return fg

    return _answer(build)


def _author(post: Post) -> str:
    return _("Former participant") if post.author.deleted_at else post.author.display_name


@bp.route("/resultater.atom")
def outcomes():
    if "outcomes" not in current_app.blueprints:
        abort(404)
    from outcomes.models import Outcome

    def build():
        rows = db.session.execute(
            select(Outcome, Topic)
            .join(Topic, Topic.id == Outcome.topic_id)
            .where(permissions.visible_topics_clause(None))
            .order_by(Outcome.updated_on.desc(), Outcome.id.desc())
            .limit(ENTRIES)
        ).all()
        fg = _feed(request.url, _("Outcomes"), url_for("outcomes.index", _external=True))
        for outcome, topic in reversed(rows):
            fe = fg.add_entry()
            url = url_for("outcomes.topic_outcome", topic_id=topic.id, _external=True)
            fe.id(f"{url}#{outcome.updated_on.isoformat()}")
            fe.title(_xml(topic.title))
            fe.link(href=url)
            updated = datetime(*outcome.updated_on.timetuple()[:3], tzinfo=UTC)
            fe.updated(updated)
            latest = outcome.updates[0] if outcome.updates else None
            if latest is not None and getattr(latest, "text_html", None):
                fe.content(_xml(latest.text_html), type="html")
        return fg

    return _answer(build)


@bp.route("/kommende.atom")
def upcoming():
    """Upcoming dated events other packages announce (Q&A sessions; meetings when they
    exist), soonest first."""

    def build():
        fg = _feed(request.url, _("Upcoming events"), url_for("forum.home", _external=True))
        items = sorted(hooks.upcoming(), key=lambda i: i.starts_at, reverse=True)
        for item in items[:ENTRIES]:
            fe = fg.add_entry()
            fe.id(item.url)
            fe.title(_xml(item.title))
            fe.link(href=item.url)
            fe.updated(_utc(item.updated_at))
            fe.published(_utc(item.starts_at))
            fe.summary(_xml(item.summary or item.title))
        return fg

    return _answer(build)


# --- saved searches -------------------------------------------------------------------------


def _saved_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="borgerdialog-saved-feed")


def saved_search_token(saved_id: int) -> str:
    """The secret part of a saved search's feed address (signed with the app's key)."""
    return _saved_serializer().dumps(saved_id)


def saved_search_feed_url(saved_id: int) -> str:
    """The secret address of a saved search's feed (unguessable: signed with the app's key)."""
    return url_for("api_feeds.saved_search", token=saved_search_token(saved_id), _external=True)


@bp.route("/soegning/<token>.atom")
def saved_search(token: str):
    try:
        saved_id = int(_saved_serializer().loads(token))
    except (BadSignature, ValueError, TypeError):
        abort(404)
    if "search" not in current_app.blueprints:
        abort(404)
    from search import services as search_services
    from search.models import SavedSearch

    saved = db.session.get(SavedSearch, saved_id) or abort(404)

    def build():
        req = search_services.read_request(search_services.saved_params(saved), None)
        page = search_services.run_search(None, req)
        link = url_for("search.results", _external=True, **req.params)
        fg = _feed(request.url, _("Search: %(name)s", name=saved.name), link)
        for hit in reversed(page.hits):
            fe = fg.add_entry()
            url = hit.url if hit.url.startswith("http") else request.host_url.rstrip("/") + hit.url
            fe.id(url)
            fe.title(_xml(str(hit.title) or hit.topic.title))
            fe.link(href=url)
            fe.updated(_utc(hit.created_at))
            fe.content(_xml(str(hit.snippet)), type="html")
        return fg

    return _answer(build)


# --- <link rel="alternate"> on the pages ----------------------------------------------------


def alternate_links() -> list[tuple[str, str]]:
    """The feeds of the page being shown: (address, title) for base.html's head."""
    endpoint = request.endpoint or ""
    args = request.view_args or {}
    try:
        if endpoint == "forum.topic" and "topic_id" in args:
            return [(url_for("api_feeds.topic_posts", topic_id=args["topic_id"]), _("New posts"))]
        if endpoint == "forum.committee" and "slug" in args:
            return [(url_for("api_feeds.committee", slug=args["slug"]), _("New topics"))]
        if endpoint == "forum.area" and "slug" in args:
            return [(url_for("api_feeds.area", slug=args["slug"]), _("New topics"))]
        if endpoint == "forum.home":
            return [
                (url_for("api_feeds.topics"), _("New topics")),
                (url_for("api_feeds.upcoming"), _("Upcoming events")),
            ]
        if endpoint.startswith("outcomes."):
            return [(url_for("api_feeds.outcomes"), _("Outcomes"))]
    except Exception:  # a page whose arguments make no feed: no link, never an error
        return []
    return []


def _qa_upcoming() -> list[hooks.Upcoming]:
    from qa.models import QASession, SessionState

    rows = db.session.scalars(
        select(QASession)
        .where(QASession.state == SessionState.SCHEDULED)
        .order_by(QASession.starts_at)
        .limit(ENTRIES)
    ).all()
    return [
        hooks.Upcoming(
            title=s.title,
            url=url_for("qa.session", session_id=s.id, _external=True),
            starts_at=s.starts_at,
            updated_at=s.created_at,
            summary=s.title,
        )
        for s in rows
        if permissions.can_see_topic(None, s.debate_topic)
    ]


def init_app(app) -> None:
    @app.context_processor
    def feed_links():
        return {"alternate_feeds": alternate_links, "saved_search_feed_url": saved_search_feed_url}

    if "qa" in app.blueprints:
        hooks.register_upcoming(app, _qa_upcoming)
