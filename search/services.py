"""Search's operations: reading a search request, running it with the visibility rule,
exports, saved searches and their notifications.

Like the forum's services these never commit and never read ``request``: views, the CLI and
the indexer pass plain values in and commit.

The visibility rule: every hit is re-checked against the database with the function the
pages use (``forum.permissions.can_see_post`` / ``can_see_topic``) before it is shown, one
query per kind of hit for the whole page, and without the moderators' switch only published
posts in public topics count. A hit the check drops is replaced by the next one, so pages
have no holes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forum import eventlog, exports, hooks, permissions
from forum.errors import InvalidInput, NotFound
from forum.exports import neutralise as _csv_safe  # the writer neutralises every cell too
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.models import (
    Area,
    Committee,
    Notification,
    Post,
    PostState,
    Role,
    Topic,
    User,
    utcnow,
)

from . import documents, index
from .models import SavedSearch
from .query import ROLES, SORTS, STANCES, Criteria, Notice, parse
from .text import markdown_to_text, snippet

PARAMS = (
    "q",
    "udvalg",
    "omraade",
    "emne",
    "rolle",
    "parti",
    "holdning",
    "slags",
    "kilde",
    "fra",
    "til",
    "sort",
)
NOTIFICATION_KIND = "saved_search"


def _cfg(name: str):
    return current_app.config[name]


# --- places for filters ------------------------------------------------------------------------


@dataclass
class Places:
    committees: list[Committee]
    areas: list[Area]
    parties: list[str]

    @property
    def committee_by_slug(self) -> dict[str, Committee]:
        return {c.slug: c for c in self.committees}

    @property
    def area_by_slug(self) -> dict[str, Area]:
        return {a.slug: a for a in self.areas}


def load_places() -> Places:
    """Committees, areas and the parties politicians belong to (three small queries)."""
    return Places(
        committees=list(db.session.scalars(select(Committee).order_by(Committee.name))),
        areas=list(db.session.scalars(select(Area).order_by(Area.name))),
        parties=list(
            db.session.scalars(
                select(User.party)
                .where(User.role == Role.POLITICIAN, User.party.is_not(None))
                .distinct()
                .order_by(User.party)
            )
        ),
    )


# --- reading a request -------------------------------------------------------------------------


@dataclass
class SearchRequest:
    criteria: Criteria
    params: dict[str, str]  # the accepted parameters (for links, saving and exporting)
    page: int = 1
    notices: list[Notice] = field(default_factory=list)
    topic: Topic | None = None
    places: Places | None = None


def _local_day_start(d: date) -> datetime:
    tz = ZoneInfo(_cfg("BABEL_DEFAULT_TIMEZONE"))
    return (
        datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    )


def _date(raw: str | None, label: str, notices: list[Notice]) -> date | None:
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        value = None
    if value is None or not 1900 <= value.year <= 2999:
        notices.append(
            Notice(
                "bad_date",
                _l(
                    "“%(value)s” is not a date we understand (write it as 2026-11-26); "
                    "the %(which)s date is left out.",
                    value=raw[:20],
                    which=label,
                ),
            )
        )
        return None
    return value


def _choice(
    params: Mapping[str, str], name: str, allowed: Iterable[str], label, notices: list[Notice]
) -> str | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if raw in allowed:
        return raw
    notices.append(
        Notice(
            f"unknown_{name}",
            _l(
                "The %(filter)s “%(value)s” is unknown, so that filter is left out.",
                filter=label,
                value=raw[:40],
            ),
        )
    )
    return None


def _read_topic(
    raw: str, viewer, crit: Criteria, accepted: dict, notices: list[Notice]
) -> Topic | None:
    raw = raw.strip()
    if not raw:
        return None
    topic = db.session.get(Topic, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if topic is None or not permissions.can_see_topic(viewer, topic):
        notices.append(
            Notice(
                "unknown_emne",
                _l("The topic you wanted to search in is unknown, so that filter is left out."),
            )
        )
        return None
    crit.topic_id = topic.id
    accepted["emne"] = str(topic.id)
    return topic


def _read_dates(
    params: Mapping[str, str], crit: Criteria, accepted: dict, notices: list[Notice]
) -> None:
    crit.date_from = _date(params.get("fra"), _l("from"), notices)
    crit.date_to = _date(params.get("til"), _l("to"), notices)
    if crit.date_from and crit.date_to and crit.date_from > crit.date_to:
        crit.date_from, crit.date_to = crit.date_to, crit.date_from
        notices.append(
            Notice("dates_swapped", _l("The from-date was after the to-date, so we swapped them."))
        )
    if crit.date_from:
        crit.created_from = _local_day_start(crit.date_from)
        accepted["fra"] = crit.date_from.isoformat()
    if crit.date_to:
        crit.created_until = _local_day_start(crit.date_to + timedelta(days=1))
        accepted["til"] = crit.date_to.isoformat()


def _read_page(raw: str, notices: list[Notice]) -> int:
    raw = raw.strip()
    if not raw:
        return 1
    if raw.isdigit() and len(raw) < 7 and int(raw) >= 1:
        return int(raw)
    notices.append(
        Notice(
            "bad_page",
            _l("“%(value)s” is not a page number; showing the first page.", value=raw[:20]),
        )
    )
    return 1


def read_request(params: Mapping[str, str], viewer, places: Places | None = None) -> SearchRequest:
    """Turn URL parameters (or a saved search's) into criteria. Never raises for bad input:
    unknown or malformed values are left out with a notice saying so."""
    places = places or load_places()
    notices: list[Notice] = []
    accepted: dict[str, str] = {}
    q = parse(params.get("q"), _cfg("SEARCH_MAX_QUERY_LENGTH"), _cfg("SEARCH_MAX_TERMS"))
    notices += q.notices
    if q.text:
        accepted["q"] = q.text
    crit = Criteria(q)
    for name, by_slug, label, attr in (
        ("udvalg", places.committee_by_slug, _l("committee"), "committee_id"),
        ("omraade", places.area_by_slug, _l("local area"), "area_id"),
    ):
        slug = _choice(params, name, by_slug, label, notices)
        if slug:
            setattr(crit, attr, by_slug[slug].id)
            accepted[name] = slug
    topic = _read_topic(params.get("emne") or "", viewer, crit, accepted, notices)
    for name, allowed, label, attr in (
        ("rolle", ROLES, _l("author role"), "role"),
        ("parti", places.parties, _l("party"), "party"),
        ("holdning", STANCES, _l("stance"), "stance"),
        ("slags", kinds(), _l("kind of contribution"), "kind"),
    ):
        value = _choice(params, name, allowed, label, notices)
        if value:
            setattr(crit, attr, value)
            accepted[name] = value
    origin = _choice(params, "kilde", hooks.post_origins(), _l("source"), notices)
    if origin:
        crit.origin = origin
        accepted["kilde"] = origin
    _read_dates(params, crit, accepted, notices)
    sort = (params.get("sort") or "").strip()
    if sort in SORTS:
        crit.sort = sort
        if sort != "relevance":
            accepted["sort"] = sort
    crit.include_restricted = bool(params.get("skjulte")) and permissions.is_moderator(viewer)
    if crit.include_restricted:
        scope = permissions.moderated_area_ids(viewer)
        crit.restricted_areas = None if scope is None else frozenset(scope)
    page = _read_page(params.get("side") or "", notices)
    return SearchRequest(crit, accepted, page, notices, topic, places)


def kinds() -> tuple[str, ...]:
    """The kinds of document one may filter on: posts, topics and the registered sources'."""
    return (documents.POST, documents.TOPIC, *hooks.search_sources())


def kind_choices() -> list[tuple[str, object]]:
    """(value, label) of each kind, for the filter and a saved search's description."""
    return [
        (documents.POST, _l("Posts")),
        (documents.TOPIC, _l("Topics")),
        *((kind, source.label) for kind, source in hooks.search_sources().items()),
    ]


# --- running a search --------------------------------------------------------------------------


@dataclass
class Hit:
    kind: str
    topic: Topic | None  # None for another package's item
    post: Post | None
    author: User | None
    created_at: datetime
    url: str
    title: Markup
    snippet: Markup
    item: hooks.SearchItem | None = None  # another package's item (a meeting)
    item_committee: Committee | None = None
    item_area: Area | None = None
    origin: str | None = None  # a post's origin key ("moeder"), for its label

    @property
    def pk(self) -> int:
        if self.item is not None:
            return self.item.id
        return self.post.id if self.post is not None else self.topic.id

    @property
    def committee(self) -> Committee | None:
        return self.item_committee if self.item is not None else self.topic.committee

    @property
    def area(self) -> Area | None:
        return self.item_area if self.item is not None else self.topic.area

    @property
    def origin_label(self) -> str:
        origin = hooks.post_origins().get(self.origin or "")
        return str(origin.label) if origin is not None else ""

    @property
    def topic_id(self) -> int | None:
        """The topic it belongs to (None for another package's item of no topic)."""
        if self.item is not None:
            return self.item.topic_id
        return self.topic.id

    @property
    def stance(self) -> str | None:
        return self.post.stance.value if self.post is not None and self.post.stance else None

    @property
    def state(self) -> str:
        if self.item is not None:
            return self.item.state
        if self.post is not None:
            return self.post.state.value
        return "published" if self.topic.is_public else self.topic.status.value


@dataclass
class SearchPage:
    request: SearchRequest
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    last_page: int = 1
    has_next: bool = False
    facets: dict[str, list[tuple[object, int]]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    unavailable: bool = False
    places: Places | None = None

    @property
    def refused(self) -> bool:
        return any(n.refused for n in self.notices)


def _posts_with_origins(post_ids: list[int]) -> list[Post]:
    """The posts, each with ``search_origin``: the key of its registered origin
    (``forum.hooks.PostOrigin``) or None — the origins are columns of the same query."""
    origins = list(hooks.post_origins().items())
    rows = db.session.execute(
        select(
            Post,
            *(Post.id.in_(o.post_ids()).label(f"origin_{i}") for i, (_k, o) in enumerate(origins)),
        )
        .options(
            joinedload(Post.author),
            joinedload(Post.topic).joinedload(Topic.committee),
            joinedload(Post.topic).joinedload(Topic.area),
        )
        .where(Post.id.in_(post_ids))
    ).unique()
    posts = []
    for p, *marks in rows:
        p.search_origin = next(
            (key for (key, _o), mark in zip(origins, marks, strict=True) if mark), None
        )
        posts.append(p)
    return posts


def _visible(viewer, crit: Criteria, hits: list[tuple[str, int]]) -> dict[tuple[str, int], object]:
    """The hits ``viewer`` may see now, by the database: one query per kind of hit."""
    post_ids = [pk for kind, pk in hits if kind == documents.POST]
    topic_ids = [pk for kind, pk in hits if kind == documents.TOPIC]
    out: dict[tuple[str, int], object] = {}
    for p in _posts_with_origins(post_ids) if post_ids else ():
        if not permissions.can_see_post(viewer, p, p.topic):
            continue
        if not crit.include_restricted and not (
            p.state in permissions.PUBLIC_POST_STATES and p.topic.is_public
        ):
            continue
        out[(documents.POST, p.id)] = p
    if topic_ids:
        topics = db.session.scalars(
            select(Topic)
            .options(joinedload(Topic.author), joinedload(Topic.committee), joinedload(Topic.area))
            .where(Topic.id.in_(topic_ids))
        ).unique()
        for t in topics:
            if permissions.can_see_topic(viewer, t) and (crit.include_restricted or t.is_public):
                out[(documents.TOPIC, t.id)] = t
    for kind, source in hooks.search_sources().items():
        ids = [pk for k, pk in hits if k == kind]
        for pk, item in source.visible(viewer, ids).items() if ids else ():
            if crit.include_restricted or item.public:
                out[(kind, pk)] = item
    return out


def _make_hit(
    key: tuple[str, int],
    obj,
    raw: index.RawResults,
    places: Places,
) -> Hit:
    exact, stems = raw.exact_terms, raw.stem_terms
    width = _cfg("SEARCH_SNIPPET_CHARS")
    if isinstance(obj, hooks.SearchItem):
        return Hit(
            kind=key[0],
            topic=None,
            post=None,
            author=db.session.get(User, obj.author_id),
            created_at=obj.created_at,
            url=obj.url,
            title=snippet(obj.title, index.word_forms, exact, stems, max_chars=1000),
            snippet=snippet(
                markdown_to_text(obj.text), index.word_forms, exact, stems, max_chars=width
            ),
            item=obj,
            item_committee=next((c for c in places.committees if c.id == obj.committee_id), None),
            item_area=next((a for a in places.areas if a.id == obj.area_id), None),
        )
    if isinstance(obj, Post):
        return Hit(
            kind=documents.POST,
            topic=obj.topic,
            post=obj,
            author=obj.author,
            created_at=obj.created_at,
            url=url_for("forum.post", post_id=obj.id) + f"#p{obj.id}",
            title=snippet(obj.topic.title, index.word_forms, exact, stems, max_chars=1000),
            snippet=snippet(
                markdown_to_text(obj.body_source), index.word_forms, exact, stems, max_chars=width
            ),
            origin=getattr(obj, "search_origin", None),
        )
    return Hit(
        kind=documents.TOPIC,
        topic=obj,
        post=None,
        author=obj.author,
        created_at=obj.created_at,
        url=url_for("forum.topic", topic_id=obj.id),
        title=snippet(obj.title, index.word_forms, exact, stems, max_chars=1000),
        snippet=snippet(
            markdown_to_text(obj.intro_source), index.word_forms, exact, stems, max_chars=width
        ),
    )


def _facets(raw: index.RawResults, places: Places) -> dict[str, list[tuple[object, int]]]:
    out = {}
    for name, items in (("committee", places.committees), ("area", places.areas)):
        counts = raw.facets.get(name, {})
        rows = [(item, counts[str(item.id)]) for item in items if counts.get(str(item.id))]
        rows.sort(key=lambda pair: (-pair[1], pair[0].name))
        out[name] = rows
    return out


def _state():
    from . import state

    return state()


def run_search(viewer, req: SearchRequest, places: Places | None = None) -> SearchPage:
    """One page of results for ``viewer``, checked against the database."""
    places = places or req.places or load_places()
    result = SearchPage(request=req, page=req.page, notices=list(req.notices), places=places)
    crit = req.criteria
    if crit.query.refused:
        return result
    per_page, max_page = _cfg("SEARCH_PER_PAGE"), _cfg("SEARCH_MAX_PAGE")
    if req.page > max_page:
        result.notices.append(
            Notice(
                "page_too_far",
                _l(
                    "Only the first %(n)d pages of results can be shown. "
                    "Narrow your search with the filters.",
                    n=max_page,
                ),
                refused=True,
            )
        )
        return result
    need = req.page * per_page
    limit = need + 1  # one more than the page needs: is there a next page?
    checked: dict[tuple[str, int], object] = {}
    seen: set[tuple[str, int]] = set()
    try:
        snap = _state().snapshots.current()
        raw = index.run(
            snap, crit, limit=limit, facets=True, max_expansion=_cfg("SEARCH_MAX_EXPANSION")
        )
        for _round in range(6):
            fresh = [h for h in raw.hits if h not in seen]
            checked.update(_visible(viewer, crit, fresh))
            seen.update(fresh)
            visible = [h for h in raw.hits if h in checked]
            if len(visible) > need or len(raw.hits) >= raw.total:
                break
            limit *= 2  # stale hits were dropped: look further down the list
            raw.hits = index.run(
                snap, crit, limit=limit, facets=False, max_expansion=_cfg("SEARCH_MAX_EXPANSION")
            ).hits
    except index.IndexUnavailable:
        result.unavailable = True
        return result
    except index.TooBroad as exc:
        result.notices.append(
            Notice(
                "too_broad",
                _l(
                    "“%(prefix)s*” stands for too many different words. "
                    "Write more letters before the *.",
                    prefix=exc.prefix,
                ),
                refused=True,
            )
        )
        return result
    dropped = len(seen) - len(checked)
    result.total = max(0, raw.total - dropped)
    result.last_page = max(1, math.ceil(result.total / per_page))
    result.has_next = len(visible) > need or len(raw.hits) < raw.total
    shown = visible[need - per_page : need]
    result.hits = [_make_hit(h, checked[h], raw, places) for h in shown]
    result.facets = _facets(raw, places)
    if not result.hits and req.page > 1:
        result.notices.append(
            Notice(
                "page_beyond",
                _l(
                    "There is no page %(page)d for this search: it has %(last)d.",
                    page=req.page,
                    last=result.last_page,
                ),
            )
        )
    return result


def index_unavailable() -> bool:
    return not _state().store.health_cached().ok


# --- export ------------------------------------------------------------------------------------

ROLE_LABELS = {
    "citizen": _l("Citizen"),
    "politician": _l("Politician"),
    "moderator": _l("Municipality"),
    "staff": _l("Municipality"),
    "admin": _l("Municipality"),
}
STANCE_LABELS = {"for": _l("For"), "against": _l("Against"), "question": _l("Question")}


def export_csv(viewer, req: SearchRequest) -> tuple[Iterator[str], bool]:
    """The whole result set (up to ``SEARCH_EXPORT_MAX`` rows) as CSV text with a BOM, in the
    page's language, separated as Excel expects in that language
    (``forum.exports.spreadsheet_delimiter``).

    Returns (the text in pieces, truncated): the rows are made 500 at a time as the response
    is sent, so a big export never sits in memory whole. Rows are checked against the
    database like a page is. Iterate within the request (``stream_with_context``).
    """
    crit = req.criteria
    max_rows = _cfg("SEARCH_EXPORT_MAX")
    hits: list[tuple[str, int]] = []
    truncated = False
    if not crit.query.refused:
        try:
            raw = index.run(
                _state().snapshots.current(),
                crit,
                limit=max_rows,
                facets=False,
                max_expansion=_cfg("SEARCH_MAX_EXPANSION"),
            )
        except index.TooBroad:
            raw = index.RawResults([], 0, {}, set(), set())
        hits, truncated = raw.hits, raw.total > max_rows
    viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else None
    return _csv_pieces(viewer_id, crit, hits), truncated


def _csv_pieces(
    viewer_id: int | None, crit: Criteria, hits: list[tuple[str, int]]
) -> Iterator[str]:
    # Made while the response is sent: by then the request's app context has ended and
    # removed its database session, so the request's user object is detached (a moderator's
    # areas could not be loaded). ``stream_with_context`` gives the generator a new session:
    # the viewer is read again in it.
    viewer = db.session.get(User, viewer_id) if viewer_id is not None else None
    w = exports.CsvWriter()  # neutralises formulas; the BOM; the language's delimiter
    w.writerow(
        [
            _("id"),
            _("link"),
            _("date"),
            _("author"),
            _("role"),
            _("party"),
            _("committee"),
            _("area"),
            _("topic"),
            _("stance"),
            _("text"),
        ]
    )
    tz = ZoneInfo(_cfg("BABEL_DEFAULT_TIMEZONE"))
    for start in range(0, len(hits), 500):
        chunk = hits[start : start + 500]
        visible = _visible(viewer, crit, chunk)
        for h in chunk:
            obj = visible.get(h)
            if obj is not None:
                w.writerow(_csv_row(h, obj, tz))
        yield w.take()
    if w.pending():  # nothing matched: the header alone
        yield w.take()


def _csv_row(h: tuple[str, int], obj, tz) -> list[str]:
    if isinstance(obj, hooks.SearchItem):
        created = obj.created_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)
        author = db.session.get(User, obj.author_id) if obj.author_id else None
        committee = db.session.get(Committee, obj.committee_id) if obj.committee_id else None
        area = db.session.get(Area, obj.area_id) if obj.area_id else None
        link = (
            obj.url
            if obj.url.startswith("http")
            else url_for("forum.home", _external=True).rstrip("/") + obj.url
        )
        return [
            documents.doc_id(h[0], h[1]),
            link,
            created.strftime("%Y-%m-%d %H:%M"),
            _csv_safe(author.display_name if author else ""),
            str(ROLE_LABELS.get(author.role.value, author.role.value)) if author else "",
            _csv_safe((author.party if author else None) or ""),
            _csv_safe(committee.name if committee else ""),
            _csv_safe(area.name if area else ""),
            _csv_safe(obj.title),
            "",
            _csv_safe(obj.text),
        ]
    if isinstance(obj, Post):
        topic, text, stance = obj.topic, obj.body_source, obj.stance
        link = url_for("forum.post", post_id=obj.id, _external=True) + f"#p{obj.id}"
    else:
        topic, text, stance = obj, obj.intro_source, None
        link = url_for("forum.topic", topic_id=obj.id, _external=True)
    created = obj.created_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)
    return [
        documents.doc_id(h[0], h[1]),
        link,
        created.strftime("%Y-%m-%d %H:%M"),
        _csv_safe(obj.author.display_name),
        str(ROLE_LABELS.get(obj.author.role.value, obj.author.role.value)),
        _csv_safe(obj.author.party or ""),
        _csv_safe(topic.committee.name if topic.committee else ""),
        _csv_safe(topic.area.name if topic.area else ""),
        _csv_safe(topic.title),
        str(STANCE_LABELS[stance.value]) if stance else "",
        _csv_safe(text),
    ]


# --- saved searches ----------------------------------------------------------------------------


def saved_params(saved: SavedSearch) -> dict[str, str]:
    params = {k: str(v) for k, v in (saved.filters or {}).items() if k in PARAMS and v}
    if saved.query:
        params["q"] = saved.query
    return params


def _describe_kind_and_origin(f: dict) -> list[str]:
    """The kind (``slags``) and origin (``kilde``) filters in words."""
    out = []
    kind_label = dict(kind_choices()).get(f.get("slags", ""))
    if kind_label:
        out.append(_("Only: %(kind)s", kind=kind_label))
    origin = hooks.post_origins().get(f.get("kilde", ""))
    if origin is not None:
        out.append(str(origin.label))
    return out


def describe_filters(saved: SavedSearch, places: Places) -> list[str]:
    """A saved search's filters as people read them ("Udvalget for Børn og Skole",
    "Politicians only", "From date: 2026-01-01"), not as the URL holds them."""
    f = saved.filters or {}
    out: list[str] = []
    committee = places.committee_by_slug.get(f.get("udvalg", ""))
    area = places.area_by_slug.get(f.get("omraade", ""))
    if committee:
        out.append(committee.name)
    if area:
        out.append(area.name)
    if f.get("emne", "").isdigit():
        topic = db.session.get(Topic, int(f["emne"]))
        if topic is not None and permissions.can_see_topic(saved.user, topic):
            out.append(_("Only in the topic “%(title)s”.", title=topic.title))
    roles = {"politician": _("Politicians only"), "citizen": _("Citizens only")}
    if f.get("rolle") in roles:
        out.append(roles[f["rolle"]])
    if f.get("parti"):
        out.append(f["parti"])
    if f.get("holdning") in STANCE_LABELS:
        out.append(str(STANCE_LABELS[f["holdning"]]))
    out += _describe_kind_and_origin(f)
    if f.get("fra"):
        out.append(f"{_('From date')}: {f['fra']}")
    if f.get("til"):
        out.append(f"{_('To date')}: {f['til']}")
    if f.get("sort") == "newest":
        out.append(_("Newest first"))
    return out


def list_saved(user: User) -> list[SavedSearch]:
    return list(
        db.session.scalars(
            select(SavedSearch).where(SavedSearch.user_id == user.id).order_by(SavedSearch.name)
        )
    )


def save_search(
    user: User, name: str, params: Mapping[str, str], notify: bool = True
) -> SavedSearch:
    """Save a search under ``name``; only the parameters the page accepted are kept."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 100:
        raise InvalidInput(name=_("Give the search a name of 1–100 characters."))
    req = read_request(params, user)
    if req.criteria.query.refused:
        raise InvalidInput(name=_("This search cannot be saved: change it first."))
    count = (
        db.session.scalar(select(func.count(SavedSearch.id)).where(SavedSearch.user_id == user.id))
        or 0
    )
    if count >= _cfg("SEARCH_MAX_SAVED"):
        raise InvalidInput(
            name=_(
                "You can keep at most %(n)d saved searches. Delete one first.",
                n=_cfg("SEARCH_MAX_SAVED"),
            )
        )
    exists = db.session.scalar(
        select(SavedSearch.id).where(SavedSearch.user_id == user.id, SavedSearch.name == name)
    )
    if exists:
        raise InvalidInput(name=_("You already have a saved search with this name."))
    filters = {k: v for k, v in req.params.items() if k != "q"}
    saved = SavedSearch(
        user_id=user.id,
        name=name,
        query=req.params.get("q", ""),
        filters=filters,
        notify=notify,
        created_at=utcnow(),
    )
    db.session.add(saved)
    db.session.flush()
    return saved


def delete_saved(user: User, saved_id: int) -> None:
    saved = db.session.get(SavedSearch, saved_id)
    if saved is None or saved.user_id != user.id:
        raise NotFound(_("No such saved search."))
    db.session.delete(saved)
    db.session.flush()


def notify_saved_searches(docs: list[dict]) -> int:
    """Tell owners of saved searches about new contributions that match them.

    ``docs`` are the index documents of the posts just published and the topics just opened
    (the indexer passes the batch it wrote). One in-app notification per person and
    contribution, however many of their searches match; never about one's own; only what the
    owner may see; never twice (a batch repeated after a crash finds its notifications
    already there). Returns how many were created.
    """
    if not docs:
        return 0
    saved = list(
        db.session.scalars(
            select(SavedSearch)
            .options(joinedload(SavedSearch.user))
            .where(SavedSearch.notify.is_(True))
        )
    )
    if not saved:
        return 0
    places = load_places()
    searches = []
    for s in saved:
        req = read_request(saved_params(s), s.user, places)
        if not req.criteria.query.refused:
            searches.append((s.id, req.criteria))
    matches = index.percolate(docs, searches, max_expansion=_cfg("SEARCH_MAX_EXPANSION"))
    if not matches:
        return 0
    items, told = _matched_and_told({d for ids in matches.values() for d in ids})
    per_user: Counter[int] = Counter()
    cap = _cfg("SEARCH_NOTIFY_MAX_PER_BATCH")
    by_id = {s.id: s for s in saved}
    created = 0
    for sid, ids in matches.items():
        s = by_id[sid]
        for d in ids:
            item = items.get(d)
            if (
                item is None
                or item.author_id == s.user_id
                or (s.user_id, d) in told
                or per_user[s.user_id] >= cap
                or not _still_new_and_visible(s.user, item)
            ):
                continue
            told.add((s.user_id, d))
            per_user[s.user_id] += 1
            created += 1
            s.last_match_at = utcnow()
            post = item if isinstance(item, Post) else None
            topic_id = item.topic_id if post is not None else item.id
            db.session.add(
                Notification(
                    user_id=s.user_id,
                    kind=NOTIFICATION_KIND,
                    topic_id=topic_id,
                    post_id=post.id if post else None,
                    actor_id=item.author_id,
                )
            )
            eventlog.record(
                "notification",
                "user",
                s.user_id,
                f"user:{s.user_id}",
                {
                    "kind": NOTIFICATION_KIND,
                    "post_id": post.id if post else None,
                    "topic_id": topic_id,
                    "saved_search_id": s.id,
                },
            )
    db.session.flush()
    return created


def _matched_and_told(found: set[str]) -> tuple[dict[str, Post | Topic], set[tuple[int, str]]]:
    """The matched posts and topics by document id, and the (user id, document id) pairs
    already notified."""
    post_ids = {int(d[1:]) for d in found if d[0] == "p"}
    topic_ids = {int(d[1:]) for d in found if d[0] == "t"}
    items: dict[str, Post | Topic] = {}
    told: set[tuple[int, str]] = set()
    if post_ids:
        items.update(
            (f"p{p.id}", p)
            for p in db.session.scalars(
                select(Post).options(joinedload(Post.topic)).where(Post.id.in_(post_ids))
            )
        )
        told |= {
            (uid, f"p{pid}")
            for uid, pid in db.session.execute(
                select(Notification.user_id, Notification.post_id).where(
                    Notification.kind == NOTIFICATION_KIND, Notification.post_id.in_(post_ids)
                )
            )
        }
    if topic_ids:
        items.update(
            (f"t{t.id}", t)
            for t in db.session.scalars(select(Topic).where(Topic.id.in_(topic_ids)))
        )
        told |= {
            (uid, f"t{tid}")
            for uid, tid in db.session.execute(
                select(Notification.user_id, Notification.topic_id).where(
                    Notification.kind == NOTIFICATION_KIND,
                    Notification.post_id.is_(None),
                    Notification.topic_id.in_(topic_ids),
                )
            )
        }
    return items, told


def _still_new_and_visible(user: User, item: Post | Topic) -> bool:
    """Is the contribution (by the database, now) public and visible to ``user``?"""
    if isinstance(item, Post):
        return (
            item.state == PostState.PUBLISHED
            and item.topic.is_public
            and permissions.can_see_post(user, item, item.topic)
        )
    return item.is_public and permissions.can_see_topic(user, item)
