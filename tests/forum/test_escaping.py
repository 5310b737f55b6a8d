"""Stored and reflected XSS: every name, title and text a person types reaches every page
escaped.

A world is seeded in which each kind of text somebody types (a display name, a party, a
committee's and an area's name and description, a topic's title and intro, a post, a Q&A
session's title and question, a budget process, an idea and its status update, a debate
rule, a moderator's reason, a suspension, a watched word, a saved search's name) carries an
``<img src=x onerror=...>`` payload behind a closing quote. Then every page reachable by a
link from the main pages is fetched as each kind of person; no answer may contain the
payload as markup. Templates escape by default; what this guards is every place that opts
out (``|safe``, ``Markup(...)``, a translated string formatted in Python, a macro building
HTML, the lazy strings of forms).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

import search as search_pkg
from forum import services as forum_services
from forum.extensions import db
from forum.models import Area, Committee, PostState, utcnow
from search.indexer import Indexer, stop_thread
from tests.conftest import PASSWORD


def hostile(kind: str) -> str:
    """A value that becomes an element (and breaks out of an attribute) if not escaped."""
    return f"{kind} \"'><img src=x onerror=alert(1) data-xss={kind}>"


# Markup the payload would become unescaped; escaped, it is text: &lt;img ...
INJECTED = re.compile(r"<img\s+src=x\b[^>]*data-xss=(\w[\w-]*)", re.I)


def _injections(html: str) -> list[str]:
    return [m.group(1) for m in INJECTED.finditer(html)]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


SKIP = re.compile(r"^/(static|socket\.io|logout|log-ud)|\.(csv|ics|pb)$|/eksport")


@pytest.fixture
def world(app, make_user):
    from budgets import services as budgets
    from budgets.models import BallotStyle, Phase
    from moderation import services as mod
    from moderation.models import DebateRule
    from moderation.services import holding
    from qa import services as qa
    from search import services as search

    app.config["MODERATION_ENABLED"] = False
    committee = Committee(
        slug="udvalg-x", name=hostile("committee"), description=hostile("committee-desc")
    )
    area = Area(slug="omraade-x", name=hostile("area"), description=hostile("area-desc"))
    db.session.add_all([committee, area])
    db.session.commit()
    admin = make_user("admin", name=hostile("admin"))
    moderator = make_user("moderator", name=hostile("moderator"), areas=[area])
    politician = make_user(
        "politician", name=hostile("politician"), party=hostile("party"), committees=[committee]
    )
    citizen = make_user(name=hostile("citizen"))
    other = make_user(name=hostile("other"))

    topic = forum_services.create_topic(
        politician,
        hostile("topic"),
        hostile("intro"),
        committee_id=committee.id,
        area_id=area.id,
    )
    db.session.commit()
    first = forum_services.create_post(citizen, topic, hostile("post"), stance="for")
    db.session.commit()
    reply = forum_services.create_post(other, topic, hostile("reply"), parent_id=first.id)
    db.session.commit()
    forum_services.create_post(citizen, topic, "svar", parent_id=reply.id)
    forum_services.set_follow(citizen, topic, True)
    db.session.commit()
    forum_services.create_post(other, topic, hostile("followed"))
    proposal = forum_services.create_topic(
        citizen, hostile("proposal"), hostile("proposal-intro"), area_id=area.id
    )
    db.session.commit()

    mod.ensure_default_rules()
    db.session.commit()
    rule = mod.save_rule(
        admin,
        None,
        code="xss",
        title_da=hostile("rule-da"),
        title_en=hostile("rule-en"),
        body_da=hostile("rule-body"),
        body_en=hostile("rule-body-en"),
    )
    db.session.commit()
    assert isinstance(rule, DebateRule)
    app.config["MODERATION_ENABLED"] = True
    held = forum_services.create_post(citizen, topic, hostile("held"))
    db.session.commit()
    if held.state != PostState.PENDING:  # held as moderation does when the policy did not
        holding._hold(held, None)
        held.state = PostState.PENDING
    mod.moderate_post(moderator, held, "reject", rule.id, hostile("reason"))
    db.session.commit()
    mod.report_post(citizen, reply, str(rule.id), hostile("report"))
    db.session.commit()
    app.config["MODERATION_ENABLED"] = False
    mod.suspend_user(admin, other, hostile("suspension"), utcnow() + timedelta(days=3))
    mod.add_watched_word(admin, hostile("word"), "da", "hold", rule.id)
    db.session.commit()

    process = budgets.create_process(
        admin,
        title=hostile("process"),
        description=hostile("process-desc"),
        total_amount=1_000_000,
        rule="greedy",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    db.session.commit()
    while process.phase != Phase.IDEAS:
        budgets.advance_phase(admin, process)
    idea = budgets.propose_idea(
        citizen, process, hostile("idea"), hostile("idea-desc"), 200_000, area_id=area.id
    )
    db.session.commit()
    budgets.review_idea(admin, idea, True, hostile("review"))
    db.session.commit()
    while process.phase != Phase.VOTING:
        budgets.advance_phase(admin, process)
    budgets.cast_ballot(citizen, process, [idea.id])
    db.session.commit()
    while process.phase != Phase.RESULT:
        budgets.advance_phase(admin, process)
        db.session.commit()
    budgets.add_status_update(admin, idea, "in_progress", date.today(), hostile("status"))
    db.session.commit()

    now = utcnow()
    session = qa.schedule_session(
        admin,
        hostile("session"),
        hostile("session-desc"),
        now + timedelta(minutes=5),
        now + timedelta(hours=1),
        [politician.id],
        committee_id=committee.id,
    )
    qa.start_session(admin, session)
    db.session.commit()
    question = qa.ask(citizen, session, hostile("question"))
    db.session.commit()
    if question.state == PostState.PENDING:
        qa.moderate_question(admin, session, question.id, "approve")
        db.session.commit()

    search.save_search(citizen, hostile("saved"), {"q": "cykelsti"})
    db.session.commit()
    from moderation.models import QueueItem

    item_ids = list(db.session.scalars(select(QueueItem.id)))

    stop_thread(timeout=5)
    indexer = Indexer(app)
    indexer.run_once()
    indexer.close()
    yield {
        "topic_id": topic.id,
        "users": {
            "citizen": citizen,
            "other": other,
            "politician": politician,
            "moderator": moderator,
            "admin": admin,
        },
        "urls": [
            "/",
            f"/emner/{topic.id}",
            f"/emner/{topic.id}/hoved",
            f"/emner/{proposal.id}",
            f"/indlaeg/{reply.id}/fragment",
            f"/indlaeg/{first.id}/svar",
            f"/indlaeg/{reply.id}/anmeld",
            f"/indlaeg/{held.id}",
            "/udvalg",
            f"/udvalg/{committee.slug}",
            "/omraader",
            f"/omraader/{area.slug}",
            "/notifikationer",
            "/forslag",
            "/debatregler",
            "/gennemsigtighed",
            "/moderation",
            "/moderation/rules",
            "/moderation/words",
            "/moderation/suspensions",
            "/moderation/audit",
            "/moderation/modes",
            f"/moderation/users/{other.id}",
            f"/moderation/posts/{held.id}",
            *(f"/moderation/items/{i}" for i in item_ids),
            *(f"/moderation/items/{i}/row" for i in item_ids),
            "/borgerbudget/",
            f"/borgerbudget/{process.id}",
            f"/borgerbudget/{process.id}/resultat",
            f"/borgerbudget/{process.id}/stemmeseddel",
            f"/borgerbudget/{process.id}/behandling",
            f"/borgerbudget/{process.id}/kvittering",
            f"/borgerbudget/ideer/{idea.id}",
            "/spoergetid/",
            f"/spoergetid/{session.id}",
            f"/spoergetid/{session.id}/banner",
            f"/spoergetid/{session.id}/projektor",
            f"/spoergetid/{session.id}/projektor/indhold",
            f"/spoergetid/{session.id}/indslag/{question.id}",
            f"/profil/{citizen.id}",
            f"/profil/{politician.id}",
            f"/profil/{other.id}",
            "/soeg/gemte",
            "/mail/indstillinger",
            "/soeg?q=topic",
            "/soeg?q=idea+img",
            "/soeg?q=question",
            f"/soeg?q=post&udvalg={committee.slug}&omraade={area.slug}",
        ],
    }
    search_pkg.state(app).close()


def _crawl(client, start: list[str], limit: int = 250) -> tuple[dict[str, list[str]], int]:
    """Fetch ``start`` and every same-site page linked from them (breadth first)."""
    seen: set[str] = set()
    todo = list(start)
    found: dict[str, list[str]] = {}
    fetched = 0
    while todo and fetched < limit:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        fetched += 1
        if "html" not in (r.content_type or ""):
            continue
        html = r.get_data(as_text=True)
        assert r.status_code < 500, f"{url}: {r.status_code}"
        hits = _injections(html)
        if hits:
            found[url] = hits
        parser = _Links()
        parser.feed(html)
        for href in parser.links:
            parts = urlsplit(urljoin("http://localhost" + url, href))
            if parts.netloc != "localhost":
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if not SKIP.search(parts.path) and path not in seen:
                todo.append(path)
    return found, fetched


@pytest.mark.parametrize("role", ["anonymous", "citizen", "moderator", "admin"])
def test_every_typed_text_is_escaped_on_every_page(app, world, login, role):
    client = app.test_client()
    client.set_cookie("lang", "da")
    if role != "anonymous":
        client.post(
            "/login",
            data={"email": world["users"][role].email, "password": PASSWORD},
        )
    found, fetched = _crawl(client, world["urls"])
    assert fetched > 15
    assert not found, f"unescaped payloads ({role}): {found}"


def test_payloads_reach_the_pages_escaped(app, world, client):
    """The crawl above proves something only if the hostile values are on the pages."""
    r = client.get(world["urls"][1])
    html = r.get_data(as_text=True)
    for kind in ("topic", "intro", "post", "reply", "citizen", "politician", "committee", "area"):
        assert f"&lt;img src=x onerror=alert(1) data-xss={kind}&gt;" in html, kind
    # Search builds its titles and snippets as Markup by hand (search/text.py): a hit whose
    # title and text are hostile, with the searched word marked.
    r = client.get("/soeg", query_string={"q": "topic"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<mark>topic</mark>" in html
    assert "&lt;img src=x onerror=alert(1) data-xss=" in html
    assert not _injections(html)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_translated_strings_with_a_hostile_value_are_escaped(app, world, lang):
    """Python-side messages built with gettext ``%`` a hostile value (flash, form errors,
    notices) reach the page escaped."""
    client = app.test_client()
    client.set_cookie("lang", lang)
    for params in (
        {"q": hostile("q")},
        {"q": "x", "udvalg": hostile("udvalg")},
        {"q": "x", "omraade": hostile("omraade")},
        {"q": "x", "parti": hostile("parti")},
        {"q": "x", "rolle": hostile("rolle")},
        {"q": "x", "holdning": hostile("holdning")},
        {"q": "x", "emne": hostile("emne")},
        {"q": "x", "fra": hostile("fra"), "til": hostile("til")},
        {"q": "x", "side": hostile("side"), "sort": hostile("sort")},
    ):
        r = client.get("/soeg", query_string=params)
        assert r.status_code in (200, 400, 503)
        assert not _injections(r.get_data(as_text=True)), params


def test_a_flash_message_and_a_form_error_with_a_hostile_value_are_escaped(app, world):
    """A name formatted into a flashed message, and the text a person typed given back in a
    form with an error, are text."""
    client = app.test_client()
    users = world["users"]
    client.post("/login", data={"email": users["admin"].email, "password": PASSWORD})
    other = users["other"]
    from moderation import services as mod

    mod.lift_suspension(users["admin"], mod.active_suspension(other.id))
    db.session.commit()
    r = client.post(
        f"/moderation/users/{other.id}/suspend",
        data={"duration": "7", "rule_id": "", "reason": hostile("suspend-reason")},
        follow_redirects=True,
    )
    html = r.get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1) data-xss=other&gt;" in html  # the flash
    assert not _injections(html)
    # A form with an error gives the typed text back, escaped.
    r = client.post(
        f"/emner/{world['topic_id']}/indlaeg", data={"body": hostile("typed"), "stance": "nope"}
    )
    assert r.status_code in (200, 400, 409)
    assert not _injections(r.get_data(as_text=True))
