"""Robustness sweep: every URL of every blueprint, as every kind of person, with valid and
hostile input, answers with a page or a status code, never a 500 and never a bare error.

The world (committee, area, topics, posts in every state, a queue item, a decision that can
be appealed, a suspension, a watched word, a citizen budget with ideas, a live Q&A session
with a question, a saved search, notifications and mail tokens) is seeded once per module;
the tests are parametrized by endpoint so a failure names the page. POST payloads are built
from the forms the pages themselves show (crawled once as every role), then broken: missing
fields, wrong types, oversized text, NUL bytes, unknown choices, bad dates, repeated fields
and invalid UTF-8. Hostile URL values are sampled per variable (deterministically), not
crossed with everything.

Every answer is checked: never a 500 (nor any 5xx but search's 503 "being rebuilt" page); an
HTML error page has <html lang> and a heading and a message; a 4xx answer committed no write
(a refused request may flush and roll back, not commit half of it).

Also here: no GET writes to the database, with CSRF on a POST without a token is refused
without writing anything, forged cookies, and NUL bytes.
"""

from __future__ import annotations

import logging
import random
import re
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import event, func, select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

import search
from app import create_app
from forum import services as forum_services
from forum.extensions import csrf, db
from forum.models import Notification, Post, PostState, Role, User, utcnow
from search.indexer import Indexer, stop_thread
from tests.conftest import PASSWORD, FreshContextClient, _config, _empty_tables

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINTS = (
    "forum",
    "moderation",
    "search",
    "mail",
    "budgets",
    "qa",
    "privacy",
    "admin",
    "outcomes",
    "opinions",
    "reports",
    "meetings",
    "api",
    "api_pages",
    "api_feeds",
    "api_dump",
)
ROLES = ("anonymous", "citizen", "politician", "moderator", "admin")
SIGNED_IN = ROLES[1:]

# --- hostile values -------------------------------------------------------------------------

HOSTILE_INTS = [0, -1, 2**31, 2**63, 10**30]
HOSTILE_STRINGS = [
    "æøå-ÆØÅ-😀",
    "../../etc/passwd",
    "..%2f..%2fetc",
    "x" * 3000,
    "%00",
    "nul\x00byte",
    "a b;c'\"<script>",
]
# Markup that must come back as text wherever a page echoes a value (a search box, a filter,
# a notice, a form with an error): a raw one in an HTML answer is a reflected XSS.
XSS = "<img src=x onerror=alert(1)>"
QUOTES = "\"'><svg onload=alert(2)>`"
REFLECTED = re.compile(r"<img src=x onerror|<svg onload", re.I)
# Values put into form fields and query parameters: (kind, value).
HOSTILE_FIELD_VALUES = [
    ("nul", "før\x00efter"),
    ("oversized", "Lang tekst æøå " * 7000),  # ~105 KB, under MAX_CONTENT_LENGTH
    ("negative", "-1"),
    ("huge-int", "9" * 40),
    ("int64", str(2**63)),
    ("int32", str(2**31)),  # past PostgreSQL's integer, still inside SQLite's
    ("float", "1e309"),
    ("nan", "NaN"),
    ("enum", "ukendt-værdi-😀"),
    ("bad-date", "2026-13-45T25:61"),
    ("empty", ""),
    ("spaces", "   \t  "),
    ("control", "\x1b[31m\x07\x0b"),
    ("surrogate-ish", "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")),
    ("json", '{"a": [1, 2]}'),
    ("xss", XSS),
    ("quotes", QUOTES),
]
INVALID_UTF8_QUERY = "q=%ff%fe%00&side=%ff&sort=%c3%28&omraade=%e2%82&next=%ff"


# --- the seeded world -------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]  # role -> the account the sweep signs in as
    target: User  # someone the staff can act on (profile, suspend)
    ids: dict[str, list]  # kind -> valid values (first one is the main one)
    tokens: dict[str, str]  # mail endpoint -> a valid token
    saved_password: dict[int, tuple] = field(default_factory=dict)


def _seed() -> World:
    from budgets import services as budget_services
    from budgets.models import BallotStyle, Phase
    from mail import tokens
    from mail.models import Kind
    from moderation import services as mod
    from moderation.models import AuditEntry, DebateRule, QueueItem, Suspension, WatchedWord
    from moderation.services import holding
    from qa import services as qa_services
    from search import services as search_services

    def user(role: str, name: str, email: str, **kw) -> User:
        u = forum_services.register_user(email, name, PASSWORD)
        forum_services.set_role(
            u, Role(role), kw.get("party"), kw.get("committees"), kw.get("areas")
        )
        u.email_verified_at = utcnow()
        db.session.commit()
        return u

    from forum.models import Area, Committee

    committee = Committee(slug="boern-og-skole", name="Udvalget for Børn og Skole")
    area = Area(slug="toelloese", name="Tølløse")
    db.session.add_all([committee, area])
    db.session.commit()

    admin = user("admin", "Ada Admin", "admin@sweep.example")
    moderator = user("moderator", "Mona Moderator", "mod@sweep.example")
    politician = user(
        "politician", "Pia Politiker", "pol@sweep.example", party="SF", committees=[committee]
    )
    citizen = user("citizen", "Carl Borger", "carl@sweep.example")
    target = user("citizen", "Tine Target", "tine@sweep.example")
    writer = user("citizen", "Ulla Skribent", "ulla@sweep.example")
    mod.ensure_default_rules()
    db.session.commit()
    rules = {r.code: r for r in db.session.query(DebateRule)}
    rule = rules.get("respect") or next(iter(rules.values()))

    topic = forum_services.create_topic(
        admin,
        "Skolevej i Tølløse",
        "Skal der være **cykelsti**?",
        committee_id=committee.id,
        area_id=area.id,
    )
    db.session.commit()
    area_topic = forum_services.create_topic(
        admin, "Torvet i Tølløse", "Hvad skal der ske?", area_id=area.id
    )
    proposal = forum_services.create_topic(
        citizen, "Et forslag fra en borger", "Lad os tale om bænke.", area_id=area.id
    )
    db.session.commit()

    with _moderation(False):
        published = forum_services.create_post(
            citizen, topic, "Jeg er for cykelstien.", stance="for"
        )
        db.session.commit()
        reply = forum_services.create_post(target, topic, "Enig!", parent_id=published.id)
        other = forum_services.create_post(writer, topic, "Et andet synspunkt.", stance="against")
        db.session.commit()

    states: dict[str, Post] = {"published": published}
    with _moderation(True):
        for state in ("pending", "rejected", "hidden", "removed", "deleted"):
            post = forum_services.create_post(writer, topic, f"Et indlæg der ender som {state}.")
            db.session.commit()
            if post.state != PostState.PENDING:
                holding._hold(post, None)  # the policy did not hold it: hold it as moderation does
                post.state = PostState.PENDING
            if state in ("hidden", "removed"):
                mod.moderate_post(admin, post, "approve")
            if state == "rejected":
                mod.moderate_post(admin, post, "reject", rule.id, "Hold en god tone.")
            if state in ("hidden", "removed"):
                mod.moderate_post(
                    admin,
                    post,
                    {"hidden": "hide", "removed": "remove"}[state],
                    rule.id,
                    "Personangreb.",
                )
            if state == "deleted":
                mod.moderate_post(admin, post, "approve")
                forum_services.delete_post(writer, post)
            db.session.commit()
            states[state] = post
    mod.report_post(target, other, rule.id and str(rule.id), "Grov tone.")
    db.session.commit()
    suspension = mod.suspend_user(
        admin, writer, "Gentagne personangreb.", utcnow() + timedelta(days=3)
    )
    word = mod.add_watched_word(admin, "idiot", "da", "hold", rule.id)
    db.session.commit()

    # Citizen budget: one process collecting ideas, one voting.
    process = budget_services.create_process(
        admin,
        title="Borgerbudget 2027",
        description="Hvad skal pengene bruges til?",
        total_amount=1_000_000,
        rule="greedy",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    db.session.commit()
    budget_services.advance_phase(admin, process)
    idea = budget_services.propose_idea(
        citizen, process, "Legeplads ved skolen", "En ny legeplads.", 400_000, area_id=area.id
    )
    idea2 = budget_services.propose_idea(
        target, process, "Bænke ved havnen", "Flere bænke.", 100_000, area_id=area.id
    )
    db.session.commit()
    voting = budget_services.create_process(
        admin,
        title="Borgerbudget 2026",
        description="Stem om projekterne.",
        total_amount=500_000,
        rule="greedy",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    db.session.commit()
    while voting.phase != Phase.IDEAS:
        budget_services.advance_phase(admin, voting)
    videa = budget_services.propose_idea(
        admin, voting, "Shelter i skoven", "Et shelter.", 200_000, area_id=area.id
    )
    budget_services.review_idea(admin, videa, True, "Kan lade sig gøre.")
    while voting.phase != Phase.VOTING:
        budget_services.advance_phase(admin, voting)
    db.session.commit()

    # Live Q&A with an approved question.
    now = utcnow()
    session = qa_services.schedule_session(
        admin,
        "Spørgetid efter byrådsmødet",
        "Stil dine spørgsmål.",
        now + timedelta(minutes=5),
        now + timedelta(hours=1),
        [politician.id],
        committee_id=committee.id,
    )
    qa_services.start_session(admin, session)
    db.session.commit()
    question = qa_services.ask(citizen, session, "Hvornår kommer cykelstien?")
    db.session.commit()
    with _moderation(True):
        qa_services.moderate_question(admin, session, question.id, "approve")
    db.session.commit()

    # An outcome of the committee's topic, citing the published post.
    from outcomes import services as outcome_services

    outcome_services.add_update(
        admin,
        topic,
        status="decided",
        body="committee",
        text="Udvalget har besluttet cykelstien.",
        decided_on=utcnow().date(),
        citations=f"{published.id}: Cykelstien kommer",
    )
    db.session.commit()

    saved = search_services.save_search(citizen, "Cykelsti", {"q": "cykelsti"})
    db.session.commit()

    from opinions import services as opinion_services

    opinion_round = opinion_services.open_round(
        admin, topic, "Cykelsti?", utcnow() + timedelta(days=7), True, ["Ja tak", "Nej tak"]
    )
    # Meetings: one to come with registration (a seat taken), one past on the topic, an
    # invitation from the area, a personal calendar address.
    from meetings import invitations as meeting_invitations
    from meetings import services as meeting_services

    meeting = meeting_services.create_meeting(
        admin,
        {
            "kind": "citizens",
            "title": "Borgermøde i Tølløse",
            "starts_at": now + timedelta(days=5),
            "ends_at": now + timedelta(days=5, hours=2),
            "committee_id": committee.id,
            "area_id": area.id,
            "topic_id": topic.id,
            "registration": True,
            "capacity": 1,
        },
    )
    registration = meeting_services.register(citizen, meeting.id, "Vegetar")
    past_meeting = meeting_services.create_meeting(
        admin,
        {
            "kind": "summit",
            "title": "Topmøde",
            "starts_at": now - timedelta(days=3),
            "ends_at": now - timedelta(days=3) + timedelta(hours=2),
            "topic_id": topic.id,
        },
        now=now - timedelta(days=10),
    )
    meeting_invitation = meeting_invitations.invite(
        admin, area.id, subject="Dialog om torvet", committee_id=committee.id
    )
    calendar_token = meeting_services.calendar_token(citizen)
    db.session.commit()

    from admin import services as admin_services

    _inv, invitation_token = admin_services.create_invitation(
        admin, "inviteret@sweep.example", "politician", "SF", [committee.id]
    )
    db.session.commit()
    from reports import services as report_services

    report = report_services.create_definition(
        admin, title="Rapport", scope="committee", committee_id=committee.id
    )
    db.session.commit()

    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.subject_user_id == writer.id, AuditEntry.action == "reject"
        )
    )
    item = db.session.scalar(select(QueueItem).order_by(QueueItem.id.desc()))
    assert db.session.scalar(select(func.count()).select_from(Notification)) is not None

    from api.feeds import saved_search_token
    from api.keys import create_key

    api_key, _secret = create_key(admin, "Sweep", "read")
    db.session.commit()
    ids = {
        "topic_id": [topic.id, area_topic.id, proposal.id],
        "post_id": [published.id, *(states[s].id for s in states if s != "published"), reply.id],
        "user_id": [target.id, writer.id],
        "entry_id": [entry.id] if entry else [],
        "process_id": [process.id, voting.id],
        "idea_id": [idea.id, idea2.id, videa.id],
        "item_id": [item.id] if item else [],
        "rule_id": [rule.id],
        "suspension_id": [suspension.id],
        "word_id": [word.id],
        "saved_id": [saved.id],
        "session_id": [session.id],
        "qa.post_id": [question.id],
        "forum.committee.slug": [committee.slug],
        "forum.area.slug": [area.slug],
        "admin.committee_id": [committee.id],
        "admin.area_id": [area.id],
        "admin.invitation.token": [invitation_token],
        "outcomes.committee.slug": [committee.slug],
        "outcomes.area.slug": [area.slug],
        "round_id": [opinion_round.id],
        "reports.definition_id": [report.id],
        "meeting_id": [meeting.id, past_meeting.id],
        "registration_id": [registration.id],
        "invitation_id": [meeting_invitation.id],
        "meetings.committee_ics.slug": [committee.slug],
        "meetings.area_ics.slug": [area.slug],
        "meetings.personal_ics.token": [calendar_token],
        "api_feeds.committee.slug": [committee.slug],
        "api_feeds.area.slug": [area.slug],
        "api_feeds.saved_search.token": [saved_search_token(saved.id)],
        "api_pages.revoke.key_id": [api_key.id],
        "api.unknown.rest": ["nothing-here", "topics/1/nothing"],
        "version": [1],  # the site settings' stylesheet and logo
        "fact": ["children", "area"],  # privacy's optional facts and population shares
    }
    assert db.session.get(Suspension, suspension.id) and db.session.get(WatchedWord, word.id)
    tok = {
        "mail.verify": tokens.verify_token(citizen),
        "mail.reset_password": tokens.reset_token(citizen),
        "mail.confirm_email_change": tokens.change_token(citizen, "carl.ny@sweep.example"),
        "mail.unsubscribe": tokens.unsubscribe_token(citizen.id, [next(iter(Kind))]),
        "mail.preferences_link": tokens.preferences_token(citizen.id),
    }
    world = World(
        users={
            "citizen": citizen,
            "politician": politician,
            "moderator": moderator,
            "admin": admin,
        },
        target=target,
        ids=ids,
        tokens=tok,
    )
    for u in (*world.users.values(), target, writer):
        world.saved_password[u.id] = (u.password_hash, u.email, u.session_version, u.role)
    return world


class _moderation:
    """Turn the moderation policy on (held posts) or off (plain publishing) while seeding."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __enter__(self):
        from flask import current_app

        self.app = current_app._get_current_object()
        self.before = self.app.config["MODERATION_ENABLED"]
        self.app.config["MODERATION_ENABLED"] = self.on

    def __exit__(self, *exc):
        self.app.config["MODERATION_ENABLED"] = self.before


def _restore_accounts(world: World) -> None:
    """Undo what an earlier endpoint's valid POST did to the accounts the sweep signs in as
    (a reset password, a changed e-mail, a bumped session version)."""
    db.session.rollback()
    for uid, (pw, email, version, role) in world.saved_password.items():
        u = db.session.get(User, uid)
        u.password_hash, u.email, u.session_version, u.role = pw, email, version, role
        u.deactivated_at = None  # an admin page may have deactivated the account
    db.session.commit()


# --- the app, once per module ------------------------------------------------------------


def _make_app(database_url: str, tmp: Path, **extra):
    app = create_app(_config(database_url, tmp, MODERATION_ENABLED=True, **extra))
    app.test_client_class = FreshContextClient  # each request in a context of its own

    errors: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info:
                tb = traceback.extract_tb(record.exc_info[2])
                ours = [f for f in tb if "/.venv/" not in f.filename] or tb
                where = f"{ours[-1].filename.removeprefix(str(ROOT) + '/')}:{ours[-1].lineno}"
                errors.append(
                    f"{record.exc_info[0].__name__}: {str(record.exc_info[1])[:200]} at {where}"
                )

    app.logger.addHandler(Capture())
    app.extensions["sweep_errors"] = errors
    return app


@pytest.fixture(scope="module")
def sweep(_schema, database_url, tmp_path_factory):
    app = _make_app(database_url, tmp_path_factory.mktemp("sweep"))

    with app.app_context():
        _empty_tables()
        world = _seed()
        stop_thread(timeout=5)  # another module's app may have left the indexer running
        indexer = Indexer(app)
        indexer.run_once()  # search answers from a real index, not "being rebuilt"
        indexer.close()
        forms = _crawl(app, world)
        yield app, world, forms
        if TOTAL["requests"]:  # shown with -s: how much the sweep covered
            print(
                f"\nsweep: {TOTAL['requests']} requests, {len(TOTAL['endpoints'])} endpoints, "
                f"{len(TOTAL['roles'])} roles, {len(TOTAL['inputs'])} kinds of input"
            )
        search.state(app).close()
        db.session.rollback()
        _empty_tables()
        db.session.remove()
        db.engine.dispose()


def _client(app, world: World, role: str):
    c = app.test_client()
    if role != "anonymous":
        r = c.post("/login", data={"email": world.users[role].email, "password": PASSWORD})
        assert r.status_code == 302, (role, r.status_code)
    return c


# --- discovering the endpoints and their forms ---------------------------------------------


def _rules():
    app = create_app(_config("sqlite://", Path("/tmp"), SEARCH_INDEX_DIR="/tmp/sweep-rules-index"))
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in BLUEPRINTS]
    return sorted(rules, key=lambda r: (r.endpoint, r.rule))


RULES = _rules()
ENDPOINTS = sorted({r.endpoint for r in RULES})


def _query_names() -> list[str]:
    """Every query parameter the views read by name (the code is the list)."""
    names: set[str] = set()
    # Search reads its parameters from the query it is given (``params.get``, ``f.get``).
    pattern = re.compile(
        r"(?:request\.args\.(?:get|getlist)|\bparams\.get|\bf\.get|int_arg|_arg)\(\s*[\"'](\w+)"
    )
    for pkg in BLUEPRINTS:
        for path in (ROOT / pkg).rglob("*.py"):
            names.update(pattern.findall(path.read_text()))
    return sorted(names)


QUERY_NAMES = _query_names()


class _Forms(HTMLParser):
    """Forms on a page: (method, action, [(name, type, value)])."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, list[tuple[str, str, str]]]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(((a.get("method") or "get").lower(), a.get("action") or "", []))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") or kind == "submit":
                self.forms[-1][2].append((a["name"], kind, a.get("value") or "y"))
            else:
                self.forms[-1][2].append((a["name"], kind, a.get("value") or ""))
        elif tag == "button" and a.get("name"):
            self.forms[-1][2].append((a["name"], "button", a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select:
            self.forms[-1][2].append((self._select, "select", a.get("value") or ""))
        elif tag == "textarea" and a.get("name"):
            self.forms[-1][2].append((a["name"], "textarea", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


@dataclass
class FormFields:
    """What the pages' forms send to one endpoint: field -> (input type, sample values)."""

    fields: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def add(self, name: str, kind: str, value: str) -> None:
        if name == "csrf_token":
            return
        old_kind, values = self.fields.setdefault(name, (kind, []))
        if value and value not in values and len(values) < 8:
            values.append(value)

    def baseline(self) -> MultiDict:
        """A plausible submission: each field's first offered value, or text/number/date."""
        data = MultiDict()
        for name, (kind, values) in self.fields.items():
            if values and kind not in ("text", "textarea", "search"):
                data.add(name, values[0])
            elif kind == "number":
                data.add(name, "100")
            elif kind == "date":
                data.add(name, "2027-03-01")
            elif kind == "datetime-local":
                data.add(name, "2027-03-01T10:00")
            elif kind == "email":
                data.add(name, "ny.adresse@sweep.example")
            elif kind == "password":
                data.add(name, PASSWORD)
            else:
                data.add(name, values[0] if values else "Et forslag om cykelstier i Tølløse.")
        return data


def _endpoint_of(app, method: str, path: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(urlsplit(path).path, method=method.upper())
    except (HTTPException, RequestRedirect):
        return None
    return endpoint


def _crawl(app, world: World) -> dict[tuple[str, str], FormFields]:
    """Read every GET page (valid ids) as every role and note the forms that post to us."""
    found: dict[tuple[str, str], FormFields] = {}
    for role in ROLES:
        c = _client(app, world, role)
        for rule in RULES:
            if "GET" not in rule.methods:
                continue
            for url in _valid_urls(app, rule, world)[:2]:
                r = c.get(url)
                if r.status_code != 200 or "html" not in (r.content_type or ""):
                    continue
                parser = _Forms()
                parser.feed(r.get_data(as_text=True))
                for method, action, inputs in parser.forms:
                    target = action or url
                    endpoint = _endpoint_of(app, method, target)
                    if endpoint is None:
                        continue
                    ff = found.setdefault((endpoint, method.upper()), FormFields())
                    for name, kind, value in inputs:
                        ff.add(name, kind, value)
    _restore_accounts(world)
    _add_view_fields(app, found)
    return found


def _add_view_fields(app, found: dict[tuple[str, str], FormFields]) -> None:
    """Forms no page showed in this world (a review form appears only in the review phase,
    say): read the fields from the form classes and request.form names in the view."""
    for rule in RULES:
        if "POST" in rule.methods:
            ff = found.setdefault((rule.endpoint, "POST"), FormFields())
            for name, kind in _fields_in_view(app.view_functions[rule.endpoint]):
                if name not in ff.fields:
                    ff.add(name, kind, "")


FIELD_KINDS = {
    "IntegerField": "number",
    "DecimalField": "number",
    "FloatField": "number",
    "DateField": "date",
    "DateTimeLocalField": "datetime-local",
    "DateTimeField": "datetime-local",
    "SelectField": "select",
    "RadioField": "select",
    "SelectMultipleField": "select",
    "BooleanField": "checkbox",
    "TextAreaField": "textarea",
    "HiddenField": "hidden",
    "EmailField": "email",
    "PasswordField": "password",
}


def _fields_in_view(view) -> list[tuple[str, str]]:
    """(name, input type) of the WTForms classes a view instantiates and the names it reads
    from ``request.form`` directly."""
    import inspect

    from wtforms.fields.core import UnboundField

    view = inspect.unwrap(view)
    source = inspect.getsource(view)
    out: list[tuple[str, str]] = []
    for cls_name in set(re.findall(r"\b(\w+Form)\(", source)):
        cls = view.__globals__.get(cls_name)
        if not isinstance(cls, type):
            continue
        for name in dir(cls):
            attr = getattr(cls, name, None)
            if isinstance(attr, UnboundField):
                out.append((name, FIELD_KINDS.get(attr.field_class.__name__, "text")))
    for name in re.findall(r"request\.form(?:\.get(?:list)?\(|\[)\s*[\"'](\w[\w-]*)", source):
        out.append((name, "text"))
    return out


def _valid_values(rule, arg: str, world: World) -> list:
    endpoint = rule.endpoint
    if endpoint.startswith("mail.") and arg == "token":
        return [world.tokens[endpoint]] if endpoint in world.tokens else []
    for key in (f"{endpoint}.{arg}", f"{endpoint.split('.')[0]}.{arg}", arg):
        if key in world.ids:
            return world.ids[key]
    return []


def _valid_urls(app, rule, world: World) -> list[str]:
    """The rule with valid values: the main value of each variable, then each other value
    of one variable at a time (posts in every state, both processes, ...)."""
    args = sorted(rule.arguments)
    if not args:
        return [_build(app, rule, {})]
    values = {a: _valid_values(rule, a, world) for a in args}
    if any(not v for v in values.values()):
        return []
    main = {a: v[0] for a, v in values.items()}
    urls = [_build(app, rule, main)]
    for a in args:
        for v in values[a][1:]:
            urls.append(_build(app, rule, {**main, a: v}))
    return urls


def _build(app, rule, values: dict) -> str:
    """The path for ``values``; built by hand for values the converters would refuse, as a
    person can type any path."""
    path = rule.rule
    for name in rule.arguments:
        raw = str(values[name])
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", quote(raw, safe=""), path)
    return path


def _hostile_urls(rule, world: World) -> list[tuple[str, str]]:
    """(label, path): each variable in turn hostile (sampled), the others valid."""
    args = sorted(rule.arguments)
    if not args:
        return []
    rnd = random.Random(rule.endpoint + rule.rule)
    values = {a: (_valid_values(rule, a, world) or [1])[0] for a in args}
    out = []
    for a in args:
        conv = type(rule._converters[a]).__name__
        if conv == "IntegerConverter":
            # All of these are cheap and each has broken something somewhere.
            picks = HOSTILE_INTS + [rnd.choice(HOSTILE_STRINGS)]
        else:
            picks = [*rnd.sample(HOSTILE_STRINGS, 3), "0", str(2**63)]
        for p in picks:
            out.append((f"{a}={str(p)[:20]!r}", _build(None, rule, {**values, a: p})))
    return out


# --- payloads --------------------------------------------------------------------------------


def _payloads(endpoint: str, ff: FormFields | None) -> list[tuple[str, MultiDict | str]]:
    """(label, form data) to POST: none, plausible, all fields hostile in a few ways, and
    the plausible form with one field at a time broken."""
    ff = ff or FormFields()
    base = ff.baseline()
    rnd = random.Random(endpoint)
    out: list[tuple[str, MultiDict | str]] = [("no fields", MultiDict()), ("form", base)]
    for kind, value in (HOSTILE_FIELD_VALUES[0], HOSTILE_FIELD_VALUES[3], HOSTILE_FIELD_VALUES[7]):
        out.append((f"all {kind}", MultiDict([(k, value) for k in ff.fields] or [("x", value)])))
    # Lists where scalars are expected: every field twice, with different values.
    repeated = MultiDict()
    for k, v in base.items(multi=True):
        repeated.add(k, v)
        repeated.add(k, rnd.choice(HOSTILE_FIELD_VALUES)[1])
    out.append(("repeated", repeated))
    names = list(ff.fields)
    rnd.shuffle(names)
    for name in names[:10]:
        kind, value = rnd.choice(HOSTILE_FIELD_VALUES)
        data = MultiDict([(k, v) for k, v in base.items(multi=True) if k != name])
        data.add(name, value)
        out.append((f"{name}={kind}", data))
    for name in names[10:]:  # the rest: missing
        data = MultiDict([(k, v) for k, v in base.items(multi=True) if k != name])
        out.append((f"{name} missing", data))
    out.append(("too large", MultiDict([(names[0] if names else "body", "x" * 300_000)])))
    return out


def _hostile_query(endpoint: str, ff: FormFields | None) -> list[tuple[str, object]]:
    """Query strings for a GET: each name the code reads (and each field of a GET form to
    this endpoint) hostile, repeated, and invalid UTF-8."""
    names = sorted(set(QUERY_NAMES) | set(ff.fields if ff else {}))
    rnd = random.Random("q" + endpoint)
    out: list[tuple[str, object]] = [("invalid utf-8", INVALID_UTF8_QUERY)]
    # A URL is short: a long value, not a 100 KB one (that is the forms' test).
    values = [(k, "æøå" * 700 if k == "oversized" else v) for k, v in HOSTILE_FIELD_VALUES]
    for kind, value in rnd.sample(values, 4):
        out.append((f"query {kind}", MultiDict([(n, value) for n in names])))
    # Markup, quotes and a long value in every parameter of every page, always.
    for kind, value in (("xss", XSS), ("quotes", QUOTES), ("long", "<b>" + "æøå" * 700)):
        out.append((f"query all {kind}", MultiDict([(n, value) for n in names])))
    out.append(("query repeated", MultiDict([(n, v) for n in names for v in ("1", "2", "abc")])))
    if ff:
        base = ff.baseline()
        out.append(("get form", base))
        for name in list(ff.fields)[:8]:
            kind, value = rnd.choice(values)
            data = MultiDict([(k, v) for k, v in base.items(multi=True) if k != name])
            data.add(name, value)
            out.append((f"{name}={kind}", data))
    return out


# --- checking an answer -------------------------------------------------------------------


def _problem(app, response) -> str | None:
    if response.status_code == 500 or response.status_code > 503:
        errors = app.extensions["sweep_errors"]
        return f"{response.status_code} {errors[-1] if errors else ''}"
    if "html" in (response.content_type or "") and response.request.method != "HEAD":
        m = REFLECTED.search(response.get_data(as_text=True))
        if m:
            return f"{response.status_code} echoes markup unescaped: {m.group(0)}"
    if (
        response.status_code >= 400
        and "html" in (response.content_type or "")
        and response.request.method != "HEAD"
    ):  # a HEAD answer has no body
        body = response.get_data(as_text=True)
        if not re.search(r"<html[^>]*\blang=\"[a-z]{2}", body):
            return f"{response.status_code} error page without <html lang>"
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S)
        if not h1 or not re.sub(r"<[^>]+>|\s", "", h1.group(1)):
            return f"{response.status_code} error page without a heading"
        if not re.search(r"<(p|div)[^>]*>\s*[^<\s]", body):
            return f"{response.status_code} error page without a message"
    return None


class _Commits:
    """Write statements that reached a COMMIT during one request (statements of a
    transaction that was rolled back do not count: a refused request may flush and roll
    back)."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self.committed: list[str] = []

    def statement(self, conn, cursor, statement, *args) -> None:
        if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", statement, re.I):
            self.pending.append(statement.split("\n")[0][:100])

    def commit(self, conn) -> None:
        self.committed += self.pending
        self.pending = []

    def rollback(self, conn) -> None:
        self.pending = []

    def __enter__(self):
        self.pending, self.committed = [], []
        for name in ("before_cursor_execute", "commit", "rollback"):
            event.listen(
                db.engine,
                name,
                getattr(
                    self, name.split("_")[-1] if name != "before_cursor_execute" else "statement"
                ),
            )
        return self

    def __exit__(self, *exc) -> None:
        for name in ("before_cursor_execute", "commit", "rollback"):
            event.remove(
                db.engine,
                name,
                getattr(
                    self, name.split("_")[-1] if name != "before_cursor_execute" else "statement"
                ),
            )


class Sweep:
    def __init__(self, app) -> None:
        self.app = app
        self.failures: list[str] = []
        self.requests = 0

    def do(
        self,
        client,
        role: str,
        method: str,
        url: str,
        label: str,
        data=None,
        kw: dict | None = None,
    ) -> int:
        """Send one request, check the answer and return its status (0: it raised). An
        anonymous request gets a fresh client: a valid login or registration signs the
        previous one in."""
        if role == "anonymous":
            client = self.app.test_client()
        errors = self.app.extensions["sweep_errors"]
        errors.clear()
        TOTAL["roles"].add(role)
        TOTAL["inputs"].add(re.sub(r"^\w[\w-]*=", "<field>=", label))
        kw = dict(kw or {})
        if isinstance(data, str):
            kw["query_string"] = data
        elif method == "GET" and data is not None:
            kw["query_string"] = data
        elif data is not None:
            kw["data"] = data
        try:
            with _Commits() as commits:
                r = client.open(url, method=method, **kw)
        except Exception as exc:  # the test client raises what the app did not handle
            self.failures.append(
                f"{role:10} {method:4} {url[:90]} [{label}]: raised "
                f"{type(exc).__name__}: {str(exc)[:200]}"
            )
            return 0
        finally:
            self.requests += 1
            db.session.rollback()
        problem = _problem(self.app, r)
        written = [
            w
            for w in commits.committed
            # Deliberate: moderation logs a refused visit to its pages.
            if not (r.status_code == 403 and w.startswith("INSERT INTO moderation_audit"))
        ]
        if not problem and r.status_code >= 400 and written:
            problem = f"{r.status_code} but committed: {written[0]}"
        if problem:
            self.failures.append(f"{role:10} {method:4} {url[:90]} [{label}]: {problem}")
        return r.status_code


TOTAL: dict = {"requests": 0, "endpoints": set(), "roles": set(), "inputs": set()}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_server_error(sweep, endpoint):
    """Every rule of ``endpoint``: valid URLs (every seeded value) as every role; hostile
    query strings and payloads, each sent as one of the roles that get past the door (so
    they reach the validation, not the login page); hostile URL values as three roles."""
    app, world, forms = sweep
    _restore_accounts(world)
    clients = {role: _client(app, world, role) for role in ROLES}
    s = Sweep(app)
    for rule in (r for r in RULES if r.endpoint == endpoint):
        valid = _valid_urls(app, rule, world)
        assert valid or not rule.arguments, f"no valid value seeded for {rule.rule}"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            _sweep_method(s, clients, world, forms.get((endpoint, method)), rule, method, valid)
        if valid:
            _odd_requests(s, clients, rule, valid[0])
    TOTAL["requests"] += s.requests
    TOTAL["endpoints"].add(endpoint)
    assert not s.failures, f"{len(s.failures)} bad answers of {s.requests}:\n" + "\n".join(
        s.failures[:40]
    )


def _odd_requests(s: Sweep, clients: dict, rule, url: str) -> None:
    """A method the rule does not allow, HEAD, and a POST whose body is not a form (JSON,
    plain text, a broken multipart body)."""
    s.do(clients["admin"], "admin", "PUT", url, "PUT")
    if "GET" in rule.methods:
        s.do(clients["citizen"], "citizen", "HEAD", url, "HEAD")
    if "POST" in rule.methods:
        for role, (label, kw) in zip(
            SIGNED_IN,
            [
                ("json body", {"json": {"body": ["x"], "title": {"a": 1}, "id": 2**63}}),
                ("text body", {"data": "body=\x00\xff", "content_type": "text/plain"}),
                (
                    "broken multipart",
                    {
                        "data": "--x\r\nContent-Disposition: form-data\r\n\r\n",
                        "content_type": "multipart/form-data; boundary=x",
                    },
                ),
                ("no boundary", {"data": "a=b", "content_type": "multipart/form-data"}),
            ],
            strict=True,
        ):
            s.do(clients[role], role, "POST", url, label, kw=kw)


def _admitted(status: int) -> bool:
    return status not in (0, 401, 403, 404)


def _sweep_method(
    s: Sweep,
    clients: dict,
    world: World,
    ff: FormFields | None,
    rule,
    method: str,
    valid: list[str],
) -> None:
    endpoint = rule.endpoint
    base = (ff or FormFields()).baseline()
    first = None if method == "GET" else base
    for n, url in enumerate(valid):
        label = "valid" if method == "GET" else "form"
        admitted = [
            role
            for role in ROLES
            if _admitted(s.do(clients[role], role, method, url, label, first))
        ]
        if n:
            continue
        if method != "GET":
            # Roles for which an empty form is a form error (not a redirect away, not a
            # refusal) are the ones whose hostile forms reach the validation.
            validating = [
                role
                for role in ROLES
                if s.do(clients[role], role, method, url, "no fields", MultiDict())
                in (200, 400, 409, 422)
            ]
            admitted = validating or admitted
        inputs = (
            _hostile_query(endpoint, ff)
            if method == "GET"
            else [*_payloads(endpoint, ff)[2:], ("invalid utf-8 query", INVALID_UTF8_QUERY)]
        )
        turn = admitted or ["anonymous", "admin"]
        for k, (label, data) in enumerate(inputs):
            role = turn[k % len(turn)]
            s.do(clients[role], role, method, url, label, data)
    rnd = random.Random(endpoint + method)
    for label, url in _hostile_urls(rule, world):
        for role in ("anonymous", rnd.choice(SIGNED_IN[:-1]), "admin"):
            s.do(clients[role], role, method, url, label, first)


# --- GET never writes ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_get_never_writes(sweep, role):
    app, world, _forms = sweep
    _restore_accounts(world)
    client = _client(app, world, role)
    writes: list[str] = []

    def before(conn, cursor, statement, *args):
        if re.match(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", statement, re.I):
            writes.append(statement.split("\n")[0][:120])

    offenders = []
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        for rule in RULES:
            if "GET" not in rule.methods:
                continue
            for url in _valid_urls(app, rule, world):
                writes.clear()
                r = client.get(url)
                db.session.rollback()
                found = [
                    w
                    for w in writes
                    # Deliberate: moderation records each refused visit to its pages in the
                    # audit log (who tried what), and nothing else.
                    if not (r.status_code == 403 and w.startswith("INSERT INTO moderation_audit"))
                ]
                if found:
                    offenders.append(f"{rule.endpoint} {url} ({r.status_code}): {found[0]}")
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert not offenders, "GET requests that write:\n" + "\n".join(offenders)


# --- CSRF on: a POST without a token writes nothing ------------------------------------------


def _row_counts() -> dict[str, int]:
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in db.metadata.sorted_tables
    }


def test_post_without_csrf_token_is_refused(sweep, database_url, tmp_path):
    _app, world, forms = sweep
    _restore_accounts(world)
    app = _make_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    failures = []
    with app.app_context():
        # Logging in needs a token too: take it from the login page.
        clients = {}
        for role in ROLES:
            c = app.test_client()
            if role != "anonymous":
                page = c.get("/login").get_data(as_text=True)
                token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
                r = c.post(
                    "/login",
                    data={
                        "email": world.users[role].email,
                        "password": PASSWORD,
                        "csrf_token": token,
                    },
                )
                assert r.status_code == 302, role
            clients[role] = c
        exempt = {f"{v.__module__}.{v.__name__}" for v in app.view_functions.values()} & set(
            getattr(csrf, "_exempt_views", set())
        )
        # The API's blueprint: only a key in a header authorises a write there (a cookie
        # never does), so it is exempt from CSRF; tests/api checks it refuses cookies (401).
        exempt_blueprints = {bp.name for bp in getattr(csrf, "_exempt_blueprints", set())}
        before = _row_counts()
        for rule in RULES:
            view = app.view_functions[rule.endpoint]
            if rule.endpoint.rpartition(".")[0] in exempt_blueprints:
                continue
            if "POST" not in rule.methods or f"{view.__module__}.{view.__name__}" in exempt:
                # Exempt on purpose: mail's RFC 8058 one-click unsubscribe, which mail
                # clients POST without a form (its signed token is the key).
                continue
            urls = _valid_urls(app, rule, world)[:1]
            for url in urls:
                data = (forms.get((rule.endpoint, "POST")) or FormFields()).baseline()
                for role in ROLES:
                    r = clients[role].post(url, data=data)
                    db.session.rollback()
                    ok = r.status_code == 400 or (
                        r.status_code in (301, 302, 303) and role == "anonymous"
                    )
                    if not ok:
                        failures.append(f"{role} POST {url}: {r.status_code}")
        after = _row_counts()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not failures, "\n".join(failures)
    assert not changed, f"rows written without a CSRF token: {changed}"


# --- hostile cookies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cookie",
    [
        ("lang", "../../etc"),
        ("lang", "x" * 3000),
        ("lang", "æø"),
        ("session", "garbage.not.signed"),
        ("session", "e30." + "A" * 500),
        ("remember_token", "1|forged"),
        ("remember_token", "9" * 40),
    ],
)
def test_hostile_cookies(sweep, cookie):
    """A forged or broken cookie is ignored (the visitor is anonymous, in the default
    language), never a 500."""
    app, world, _forms = sweep
    s = Sweep(app)
    client = app.test_client()
    client.set_cookie(*cookie)
    for url in ("/", f"/emner/{world.ids['topic_id'][0]}", "/notifikationer", "/soeg"):
        s.do(client, "cookie", "GET", url, f"{cookie[0]}={cookie[1][:20]}")
    s.do(client, "cookie", "POST", "/sprog", "lang", MultiDict([("lang", "da")]))
    assert not s.failures, "\n".join(s.failures)


def test_nul_byte_is_a_400_that_gives_the_text_back(sweep):
    """PostgreSQL cannot store NUL: it is refused before any query, the typed text comes back
    without it, and nothing is written."""
    app, world, _forms = sweep
    _restore_accounts(world)
    client = _client(app, world, "citizen")
    before = _row_counts()
    r = client.post(
        f"/emner/{world.ids['topic_id'][0]}/indlaeg",
        data={"body": "Cykelstien\x00 er vigtig for børnene."},
    )
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Cykelstien er vigtig for børnene." in page and "\x00" not in page
    assert client.get("/soeg", query_string={"q": "a\x00b"}).status_code == 400
    assert client.post("/login", data={"email": "a\x00@b.dk", "password": "x"}).status_code == 400
    db.session.rollback()
    assert _row_counts() == before
