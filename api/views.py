"""The REST API v1 under ``/api/v1/``: public reads, and writes through keys.

Reads answer what an anonymous visitor may see on the pages and nothing more: every query
takes the forum's visibility rules (``forum.permissions``: ``visible_topics_clause(None)``,
``can_see_topic(None, …)``, published posts only), so a post that is pending, rejected,
hidden, removed or deleted, and a topic that is a proposal, is never named, not even as a
parent id or in a count.

Each list is cursor-paginated (``limit`` ≤ 200, an opaque signed ``cursor``), answers with an
``ETag`` built from the newest event of the log (a matching ``If-None-Match`` is a 304
computed before any data is read) and ``Cache-Control``. Errors are JSON (``api/http.py``).
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload
from werkzeug.routing import BaseConverter

from forum import permissions
from forum.converters import ID_MAX
from forum.extensions import db
from forum.models import (
    Area,
    Committee,
    Post,
    Role,
    Stance,
    Topic,
    TopicStatus,
    User,
)
from forum.text import drop_controls

from . import api_limit, schemas, setup_blueprint, write_limit
from .http import (
    ApiError,
    cacheable,
    check_params,
    choice_param,
    etag_for,
    int_param,
    last_event_id,
    make_cursor,
    not_modified,
    page_limit,
    read_cursor,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
setup_blueprint(bp)

# Every read endpoint, for the OpenAPI document (``api/openapi.py``): name -> (path, summary,
# query parameters, response schema). A parameter is its description, or (description, its
# JSON schema) when only some values are accepted: the document says which, so a request the
# document calls valid is not refused.
READS: dict[str, tuple[str, str, dict[str, str | tuple[str, dict]], type]] = {}


def one_of(text: str, values) -> tuple[str, dict]:
    """A query parameter that takes one of ``values``."""
    return text, {"type": "string", "enum": list(values)}


def read(rule: str, summary: str, params: dict[str, str | tuple[str, dict]], schema: type):
    """Register a GET endpoint and describe it for the OpenAPI document."""

    def wrap(view):
        READS[view.__name__] = (rule, summary, params, schema)
        return bp.route(rule, methods=["GET"], endpoint=view.__name__)(api_limit(view))

    return wrap


def _versioned(compute, *version, max_age: int = 60):
    """Answer with ``compute()``'s JSON under an ETag of the log's newest event and
    ``version``; a client holding that ETag gets a 304 and nothing is computed."""
    tag = etag_for(last_event_id(), *version)
    early = not_modified(tag)
    if early is not None:
        return early
    return cacheable(jsonify(compute()), tag, max_age)


class DigitsConverter(BaseConverter):
    """``<digits:…>``: any run of digits as an int, so an id no row can have reaches the
    view and gets the API's JSON 404 (the site's ``int`` converter would not match, and the
    answer would be the HTML 404 page)."""

    regex = r"\d{1,30}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def _abs(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


# --- people and places --------------------------------------------------------------------


def person(user: User) -> dict:
    """A contribution's author as the pages show them."""
    if user.deleted_at is not None:
        return {"name": "Former participant", "role": "former", "party": None}
    if user.role == Role.POLITICIAN:
        return {"name": user.display_name, "role": "politician", "party": user.party}
    if user.role == Role.CITIZEN:
        return {"name": user.display_name, "role": "citizen", "party": None}
    return {"name": user.display_name, "role": "staff", "party": None}


def place_ref(place: Committee | Area | None) -> dict | None:
    if place is None:
        return None
    return {"id": place.id, "slug": place.slug, "name": place.name}


def _open_counts(column) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(column, func.count(Topic.id))
            .where(Topic.status == TopicStatus.OPEN)
            .group_by(column)
        ).all()
    )


def _places(model, column, endpoint: str, scope: str) -> dict:
    check_params(set())
    limit = page_limit()
    after = read_cursor(scope)
    stmt = select(model).order_by(model.id).limit(limit + 1)
    if after:
        stmt = stmt.where(model.id > int(after[0]))
    rows = list(db.session.scalars(stmt))
    counts = _open_counts(column)
    items = [
        {
            "id": p.id,
            "slug": p.slug,
            "name": p.name,
            "description_html": p.description_html or "",
            "open_topics": counts.get(p.id, 0),
            "archived": p.archived_at is not None,
            "url": _abs(endpoint, slug=p.slug),
        }
        for p in rows[:limit]
    ]
    nxt = make_cursor(scope, [rows[limit - 1].id]) if len(rows) > limit else None
    return {"items": items, "next_cursor": nxt}


@read("/committees", "Committees (fagudvalg), in id order.", {}, schemas.CommitteePage)
def committees():
    # Committees change without events (administration): a minute's bucket bounds staleness.
    return _versioned(
        lambda: _places(Committee, Topic.committee_id, "forum.committee", "committees"),
        _minute(),
    )


@read("/areas", "Local areas (lokalområder), in id order.", {}, schemas.AreaPage)
def areas():
    return _versioned(lambda: _places(Area, Topic.area_id, "forum.area", "areas"), _minute())


def _minute() -> int:
    import time

    return int(time.time() // 60)


# --- topics -------------------------------------------------------------------------------

TOPIC_STATUSES = ("open", "closed", "archived")


def _place_by_slug(model, name: str):
    slug = request.args.get(name)
    if not slug:
        return None
    found = db.session.scalar(select(model).where(model.slug == slug))
    if found is None:
        raise ApiError(404, f"No {name} with that slug.", "unknown_" + name)
    return found


def _outcomes(topic_ids: list[int]) -> dict[int, dict]:
    """The outcome of each topic that has one (one query), when the outcomes package is
    installed; its public model is read, never its internals."""
    if not topic_ids or "outcomes" not in current_app.blueprints:
        return {}
    from outcomes.models import Outcome

    rows = db.session.execute(
        select(Outcome.topic_id, Outcome.status, Outcome.body, Outcome.updated_on).where(
            Outcome.topic_id.in_(topic_ids)
        )
    ).all()
    return {
        r.topic_id: {
            "status": r.status.value,
            "deciding_body": r.body.value,
            "updated_on": r.updated_on,
            "url": _abs("outcomes.topic_outcome", topic_id=r.topic_id),
        }
        for r in rows
    }


def topic_dict(t: Topic, outcome: dict | None) -> dict:
    return {
        "id": t.id,
        "title": t.title,
        "intro_html": t.intro_html,
        "status": t.status.value,
        "committee": place_ref(t.committee),
        "area": place_ref(t.area),
        "author": person(t.author),
        "deadline": t.deadline,
        "created_at": t.created_at,
        "last_activity_at": t.last_activity_at,
        "post_count": t.post_count,
        "outcome": outcome,
        "url": _abs("forum.topic", topic_id=t.id),
    }


def public_topics():
    """A SELECT of the topics an anonymous visitor may see (the pages' rule)."""
    return select(Topic).where(
        permissions.visible_topics_clause(None), Topic.status.in_(TOPIC_STATUSES)
    )


def _topic_list() -> dict:
    check_params({"committee", "area", "status"})
    limit = page_limit()
    status = choice_param("status", TOPIC_STATUSES)
    committee = _place_by_slug(Committee, "committee")
    area = _place_by_slug(Area, "area")
    after = read_cursor("topics")
    stmt = (
        public_topics()
        .options(joinedload(Topic.committee), joinedload(Topic.area), joinedload(Topic.author))
        .order_by(Topic.id.desc())
        .limit(limit + 1)
    )
    if status:
        stmt = stmt.where(Topic.status == TopicStatus(status))
    if committee is not None:
        stmt = stmt.where(Topic.committee_id == committee.id)
    if area is not None:
        stmt = stmt.where(Topic.area_id == area.id)
    if after:
        stmt = stmt.where(Topic.id < int(after[0]))
    rows = list(db.session.scalars(stmt).unique())
    shown = rows[:limit]
    outcomes = _outcomes([t.id for t in shown])
    items = schemas.TopicPage().dump(
        {"items": [topic_dict(t, outcomes.get(t.id)) for t in shown], "next_cursor": None}
    )
    items["next_cursor"] = make_cursor("topics", [shown[-1].id]) if len(rows) > limit else None
    return items


@read(
    "/topics",
    "Public topics, newest first.",
    {
        "committee": "A committee's slug.",
        "area": "A local area's slug.",
        "status": one_of("open, closed or archived.", TOPIC_STATUSES),
    },
    schemas.TopicPage,
)
def topics():
    return _versioned(_topic_list)


def public_topic_or_404(topic_id: int) -> Topic:
    if not 0 < topic_id <= ID_MAX:
        raise ApiError(404, "No public topic with that id.")
    topic = db.session.scalar(
        select(Topic)
        .options(joinedload(Topic.committee), joinedload(Topic.area), joinedload(Topic.author))
        .where(Topic.id == topic_id)
    )
    if topic is None or not permissions.can_see_topic(None, topic):
        raise ApiError(404, "No public topic with that id.")
    return topic


@read("/topics/<digits:topic_id>", "One public topic, with its outcome.", {}, schemas.Topic)
def topic(topic_id: int):
    def compute():
        check_params(set())
        t = public_topic_or_404(topic_id)
        return schemas.Topic().dump(topic_dict(t, _outcomes([t.id]).get(t.id)))

    return _versioned(compute)


def post_dict(p: Post, parent_public: bool) -> dict:
    return {
        "id": p.id,
        "topic_id": p.topic_id,
        "parent_id": p.parent_id if parent_public else None,
        "depth": p.depth,
        "stance": p.stance.value if p.stance else None,
        "body_html": p.body_html,
        "supports": p.support_count,
        "author": person(p.author),
        "created_at": p.created_at,
        "edited_at": p.edited_at,
        "url": _abs("forum.post", post_id=p.id),
    }


_POST_SCHEMA = schemas.PostPage()


def _topic_posts(topic_id: int) -> dict:
    check_params({"stance"})
    limit = page_limit()
    stance = choice_param("stance", tuple(s.value for s in Stance))
    after = read_cursor(f"posts:{topic_id}")
    public_topic_or_404(topic_id)
    parent = aliased(Post)
    stmt = (
        select(Post, parent.state)
        .outerjoin(parent, parent.id == Post.parent_id)
        .options(joinedload(Post.author))
        .where(Post.topic_id == topic_id, Post.state.in_(permissions.PUBLIC_POST_STATES))
        .order_by(Post.id)
        .limit(limit + 1)
    )
    if stance:
        stmt = stmt.where(Post.stance == Stance(stance))
    if after:
        stmt = stmt.where(Post.id > int(after[0]))
    rows = db.session.execute(stmt).all()
    shown = rows[:limit]
    items = [post_dict(p, state in permissions.PUBLIC_POST_STATES) for p, state in shown]
    page = _POST_SCHEMA.dump({"items": items, "next_cursor": None})
    if len(rows) > limit:
        page["next_cursor"] = make_cursor(f"posts:{topic_id}", [shown[-1][0].id])
    return page


@read(
    "/topics/<digits:topic_id>/posts",
    "A topic's published posts in the order they were written (the thread: parent ids).",
    {"stance": one_of("for, against or question.", (s.value for s in Stance))},
    schemas.PostPage,
)
def topic_posts(topic_id: int):
    return _versioned(lambda: _topic_posts(topic_id))


# --- live Q&A sessions --------------------------------------------------------------------

QA_STATES = ("scheduled", "live", "ended")


def _qa_session_dict(s) -> dict:
    return {
        "id": s.id,
        "title": s.title,
        "description_html": s.description_html or "",
        "state": s.state.value,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "committee": place_ref(s.committee),
        "area": place_ref(s.area),
        "politicians": [person(u) for u in s.politicians],
        "url": _abs("qa.session", session_id=s.id),
        "ics_url": _abs("qa.calendar", session_id=s.id),
    }


def _qa_public(session) -> bool:
    return permissions.can_see_topic(None, session.debate_topic)


def _qa_list() -> dict:
    from qa.models import QASession, SessionState

    check_params({"state"})
    limit = page_limit()
    state = choice_param("state", QA_STATES)
    after = read_cursor("qa")
    stmt = (
        select(QASession)
        .join(Topic, Topic.id == QASession.debate_topic_id)
        .where(permissions.visible_topics_clause(None))
        .options(joinedload(QASession.committee), joinedload(QASession.area))
        .order_by(QASession.id.desc())
        .limit(limit + 1)
    )
    if state:
        stmt = stmt.where(QASession.state == SessionState(state))
    if after:
        stmt = stmt.where(QASession.id < int(after[0]))
    rows = list(db.session.scalars(stmt).unique())
    shown = rows[:limit]
    page = schemas.QASessionPage().dump(
        {"items": [_qa_session_dict(s) for s in shown], "next_cursor": None}
    )
    if len(rows) > limit:
        page["next_cursor"] = make_cursor("qa", [shown[-1].id])
    return page


@read(
    "/qa-sessions",
    "Live Q&A sessions with politicians, newest first.",
    {"state": one_of("scheduled, live or ended.", QA_STATES)},
    schemas.QASessionPage,
)
def qa_sessions():
    _require("qa")
    return _versioned(_qa_list)


def _qa_item(item) -> dict:
    return {
        "id": item.post.id,
        "body_html": item.post.body_html,
        "author": person(item.post.author),
        "created_at": item.post.created_at,
    }


def _qa_detail(session_id: int) -> dict:
    from qa import queries as qa_queries
    from qa.models import QASession

    check_params(set())
    session = db.session.get(QASession, session_id) if 0 < session_id <= ID_MAX else None
    if session is None or not _qa_public(session):
        raise ApiError(404, "No public Q&A session with that id.")
    view = qa_queries.load(session, None)
    public = permissions.PUBLIC_POST_STATES
    out = _qa_session_dict(session)
    out["questions"] = [
        {
            **_qa_item(q),
            "votes": q.entry.vote_count,
            "status": q.entry.status.value,
            "answers": [_qa_item(a) for a in q.answers if a.post.state in public],
        }
        for q in view.questions
        if q.post.state in public
    ]
    out["statements"] = [_qa_item(st) for st in view.statements if st.post.state in public]
    return schemas.QASessionDetail().dump(out)


@read(
    "/qa-sessions/<digits:session_id>",
    "One Q&A session with its published questions, answers and statements.",
    {},
    schemas.QASessionDetail,
)
def qa_session(session_id: int):
    _require("qa")
    return _versioned(lambda: _qa_detail(session_id))


def _require(package: str) -> None:
    if package not in current_app.blueprints:
        raise ApiError(404, "This part of the site is not installed.")


# --- citizen budgets -----------------------------------------------------------------------


def _budget_dict(p) -> dict:
    from budgets import permissions as bperm

    return {
        "id": p.id,
        "title": p.title,
        "phase": p.phase.value,
        "total": int(p.total_amount),
        "url": _abs("budgets.process", process_id=p.id),
        "pabulib_url": _abs("budgets.result_pb", process_id=p.id)
        if bperm.results_public(p)
        else None,
    }


def _budget_list() -> dict:
    from budgets import queries as bq

    check_params(set())
    limit = page_limit()
    after = read_cursor("budgets")
    rows = sorted(bq.processes_for(None), key=lambda p: -p.id)
    if after:
        rows = [p for p in rows if p.id < int(after[0])]
    shown = rows[:limit]
    page = schemas.BudgetPage().dump(
        {"items": [_budget_dict(p) for p in shown], "next_cursor": None}
    )
    if len(rows) > limit:
        page["next_cursor"] = make_cursor("budgets", [shown[-1].id])
    return page


@read("/budgets", "Citizen budgets (not drafts), newest first.", {}, schemas.BudgetPage)
def budgets():
    _require("budgets")
    return _versioned(_budget_list)


def _budget_detail(process_id: int) -> dict:
    from budgets import permissions as bperm
    from budgets import queries as bq
    from budgets.models import Phase

    check_params(set())
    process = bq.process_or_none(process_id) if 0 < process_id <= ID_MAX else None
    if process is None or process.phase == Phase.DRAFT:
        raise ApiError(404, "No public citizen budget with that id.")
    lines = {}
    if bperm.results_public(process):
        for result in bq.results(process):
            for line in result.lines:
                lines[line.idea_id] = line
    projects = [
        {
            "id": idea.id,
            "title": idea.title,
            "cost": int(idea.final_cost or idea.estimated_cost),
            "votes": lines[idea.id].score if idea.id in lines else None,
            "selected": lines[idea.id].funded if idea.id in lines else None,
        }
        for idea in bq.ideas_for(None, process)
    ]
    return schemas.BudgetDetail().dump({**_budget_dict(process), "projects": projects})


@read(
    "/budgets/<digits:process_id>",
    "One citizen budget with its published projects and, once counted, the result.",
    {},
    schemas.BudgetDetail,
)
def budget(process_id: int):
    _require("budgets")
    return _versioned(lambda: _budget_detail(process_id))


# --- search and moderation figures -----------------------------------------------------------


_ISO_DATE = re.compile(r"^(19|2\d)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
# Notices of the search's reading that the API turns into a 400 (search/services.py).
_REFUSED_NOTICES = {"bad_date", "unknown_rolle", "unknown_holdning"}


def _search() -> dict:
    from markupsafe import Markup

    from search import services as search_services

    check_params(
        {
            "q",
            "udvalg",
            "omraade",
            "rolle",
            "parti",
            "holdning",
            "slags",
            "kilde",
            "fra",
            "til",
            "sort",
        }
    )
    page_limit()  # checked; a page of hits is the search page's size
    # The search page leaves a value it cannot read out with a notice; the API refuses it.
    choice_param("rolle", ("politician", "citizen"))
    choice_param("holdning", ("for", "against", "question"))
    choice_param("kilde", ("moeder",))
    choice_param("sort", ("relevance", "newest"))
    for name in ("fra", "til"):
        raw = request.args.get(name)
        if raw is not None and not _ISO_DATE.match(raw):
            raise ApiError(
                400, f"Query parameter {name} must be a date (YYYY-MM-DD).", "invalid_parameter"
            )
    after = read_cursor("search")
    params = {k: v for k, v in request.args.items() if k not in ("cursor", "limit")}
    page_no = int(after[0]) if after else 1
    params["side"] = str(page_no)
    req = search_services.read_request(params, None)
    refused = [n for n in req.notices if getattr(n, "refused", False) or n.code in _REFUSED_NOTICES]
    if refused:
        raise ApiError(400, f"The search was refused ({refused[0].code}).", "invalid_parameter")
    if search_services.index_unavailable():
        raise ApiError(503, "Search is being rebuilt; try again later.", "unavailable")
    result = search_services.run_search(None, req)
    items = [
        {
            "kind": h.kind,
            "id": h.pk,
            # another package's item (a meeting) may belong to no topic
            "topic_id": h.topic_id,
            "title": Markup(h.title).striptags(),
            "excerpt": Markup(h.snippet).striptags(),
            "created_at": h.created_at,
            "url": h.url if h.url.startswith("http") else request.host_url.rstrip("/") + h.url,
        }
        for h in result.hits
    ]
    page = schemas.SearchPage().dump({"items": items, "next_cursor": None})
    if result.has_next:
        page["next_cursor"] = make_cursor("search", [page_no + 1])
    return page


_DATE_SCHEMA = {"type": "string", "format": "date", "pattern": _ISO_DATE.pattern}


@read(
    "/search",
    "Search published posts, topics, outcomes and meetings (the same analysis and rules as the "
    "search page; pages of the search page's size).",
    # (the values search/query.py's ROLES, STANCES and SORTS accept; other filter values are
    # left out of the search, as on the search page)
    {
        "q": (
            "Words to find (at most 200 characters and 12 words; a * ends a prefix of at "
            "least 3 letters).",
            {"type": "string", "maxLength": 200},
        ),
        "udvalg": "A committee's slug.",
        "omraade": "A local area's slug.",
        "rolle": one_of("The author's role: politician or citizen.", ("politician", "citizen")),
        "parti": "A politician's party.",
        "holdning": one_of("for, against or question.", ("for", "against", "question")),
        "slags": "post, topic, outcome or meeting.",
        "kilde": one_of(
            "moeder: meetings and what was said at them (entered afterwards).", ("moeder",)
        ),
        "fra": ("From date (YYYY-MM-DD).", _DATE_SCHEMA),
        "til": ("To date (YYYY-MM-DD).", _DATE_SCHEMA),
        "sort": one_of("relevance or newest.", ("relevance", "newest")),
    },
    schemas.SearchPage,
)
def search():
    _require("search")
    return _versioned(_search)


def _transparency() -> dict:
    from moderation import queries as mq

    check_params({"months"})
    months = int_param("months", 12, 1, 36) or 12
    figures: dict[str, int] = {}
    for month in mq.transparency(months):
        for name, n in month.counts.items():
            figures[name] = figures.get(name, 0) + n
    return schemas.Transparency().dump({"period_days": months * 30, "figures": figures})


@read(
    "/moderation/transparency",
    "Moderation figures of the last months (the transparency page's totals; no names).",
    {"months": ("1-36, default 12.", {"type": "integer", "minimum": 1, "maximum": 36})},
    schemas.Transparency,
)
def transparency():
    _require("moderation")
    return _versioned(_transparency, _minute())


# --- writes through keys ------------------------------------------------------------------


def _json_body(schema) -> dict:
    """The request's JSON object, loaded through ``schema``: 400 ``invalid_json`` when it is
    not JSON, 422 ``invalid_input`` naming the first bad field."""
    from marshmallow import ValidationError

    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "The body is not a JSON object.", "invalid_json")
    try:
        return schema.load(data)
    except ValidationError as exc:
        field, problems = next(iter(exc.messages.items()))
        text = problems[0] if isinstance(problems, list) else str(problems)
        raise ApiError(422, f"{field}: {text}", "invalid_input") from None


@bp.route("/topics", methods=["POST"], endpoint="create_topic")
@write_limit
@api_limit
def create_topic():
    """Open a topic as the key's staff account, in the key's local area (scope write_area).

    The forum's own service decides: an account that may open topics there opens it; one
    that may not is refused (403); the write is audited with the key's name."""
    from forum import hooks, uow
    from forum import services as forum_services

    from .keys import current_key
    from .models import KeyScope

    key = current_key()
    if key.scope != KeyScope.WRITE_AREA or key.area_id is None:
        raise ApiError(403, "This key may only read.", "wrong_scope")
    data = _json_body(schemas.NewTopic())
    area = _place_by_value(Area, data.get("area")) if data.get("area") else key.area
    if area is None or area.id != key.area_id:
        raise ApiError(403, "This key writes only in its own local area.", "wrong_scope")
    committee = _place_by_value(Committee, data["committee"]) if data.get("committee") else None
    with force_locale("en"):  # the service's refusals in the API's language
        created = forum_services.create_topic(
            key.owner,
            _typed(data["title"]),
            _typed(data["intro"]),
            committee_id=committee.id if committee else None,
            area_id=area.id,
        )
    hooks.audit(
        "api_topic_created",
        "topic",
        created.id,
        actor=key.owner,
        topic=created,
        text=created.title,
        data={"api_key_id": key.id, "api_key": key.name, "status": created.status.value},
    )
    uow.commit()
    body = {"id": created.id, "status": created.status.value}
    body["url"] = _abs("forum.topic", topic_id=created.id)
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = body["url"]
    return resp


_SURROGATE = re.compile("[\ud800-\udfff]")


def _typed(text: str) -> str:
    """Text from a JSON body as the site's forms take it: control characters dropped
    (forum/text.py) and a lone surrogate (JSON can carry one; no database can store it) as
    U+FFFD."""
    return _SURROGATE.sub("\ufffd", drop_controls(text))


def _place_by_value(model, slug):
    if not isinstance(slug, str):
        raise ApiError(422, "A place is named by its slug.", "invalid_input")
    found = db.session.scalar(select(model).where(model.slug == slug))
    if found is None:
        raise ApiError(422, f"No place with the slug {slug!r}.", "invalid_input")
    return found


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@write_limit
@api_limit
def unknown(rest: str):
    """Anything else under /api/v1: a JSON 404 (or 405 for a known path), never a page."""
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(request.path, method="GET")
    except Exception:
        endpoint = None
    if endpoint and endpoint != "api.unknown":
        raise ApiError(405, "Method not allowed.", "method_not_allowed")
    raise ApiError(404, "No such endpoint.", "not_found")
