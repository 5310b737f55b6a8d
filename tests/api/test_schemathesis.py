"""A property-based test of the whole API with schemathesis: every operation of
``/api/v1/openapi.json`` is called with requests generated from the document (valid and
invalid ones), in-process through the WSGI app, on a world that holds non-public content.

It must find no 5xx, no answer that breaks the document (status, content type, schema) and
no leak: the pending, rejected, hidden, removed and deleted posts, the citizen's unaccepted
proposal, the question still waiting for moderation and the draft budget carry marker words
that no answer may contain, nor any account's e-mail address.

The run is bounded (a few examples per operation, derandomised, no example database), so it
costs well under a minute in CI.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import schemathesis
from flask import current_app
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

import search
from app import create_app
from forum import services as forum_services
from forum.extensions import db
from forum.models import PostState, Role, TopicStatus, utcnow
from search.indexer import Indexer, stop_thread
from tests.conftest import PASSWORD, FreshContextClient, _config, _empty_tables, in_fresh_context

# Marker words of content no answer may show (one per kind of non-public thing).
MARKERS = {
    "pending": "ventendeqz",
    "rejected": "afvistqz",
    "hidden": "skjultqz",
    "removed": "fjernetqz",
    "deleted": "slettetqz",
    "proposal": "forslagqz",
    "declined": "afslaaetqz",
    "qa_pending": "spoergsmaalqz",
    "draft_budget": "kladdeqz",
}
EMAIL_DOMAIN = "@schemathesis.example"
EXAMPLES = 8  # per operation and mode: enough to vary every parameter, cheap in CI


def _seed() -> dict:
    from budgets.services import create_process
    from forum.models import Area, Committee
    from moderation import services as mod
    from moderation.models import DebateRule
    from moderation.services import holding
    from qa import services as qa

    def user(role: str, name: str, email: str, **kw):
        u = forum_services.register_user(email + EMAIL_DOMAIN, name, PASSWORD)
        forum_services.set_role(u, Role(role), kw.get("party"), kw.get("committees"), None)
        u.email_verified_at = utcnow()
        db.session.commit()
        return u

    committee = Committee(slug="klima", name="Klimaudvalget")
    area = Area(slug="oroe", name="Orø")
    db.session.add_all([committee, area])
    db.session.commit()
    admin = user("admin", "Ada Admin", "admin")
    politician = user("politician", "Pia Politiker", "pia", party="SF", committees=[committee])
    citizen = user("citizen", "Carl Borger", "carl")
    writer = user("citizen", "Ulla Skribent", "ulla")
    mod.ensure_default_rules()
    db.session.commit()
    rule = db.session.query(DebateRule).first()

    app = current_app._get_current_object()
    topic = forum_services.create_topic(
        admin, "Cykelsti til Orø", "Skal der være en **cykelsti**?", committee_id=committee.id
    )
    db.session.commit()
    app.config["MODERATION_ENABLED"] = False
    root = forum_services.create_post(citizen, topic, "Jeg er for cykelstien.", stance="for")
    db.session.commit()
    forum_services.create_post(politician, topic, "Vi ser på det.", parent_id=root.id)
    db.session.commit()
    app.config["MODERATION_ENABLED"] = True
    hidden_ids = []
    for state in ("pending", "rejected", "hidden", "removed", "deleted"):
        post = forum_services.create_post(
            writer, topic, f"Et indlæg om cykelsti der ender som {MARKERS[state]}."
        )
        db.session.commit()
        if post.state != PostState.PENDING:
            holding._hold(post, None)
            post.state = PostState.PENDING
        if state in ("hidden", "removed", "deleted"):
            mod.moderate_post(admin, post, "approve")
        if state == "hidden":  # a published reply to it: its parent id must not be named
            app.config["MODERATION_ENABLED"] = False
            forum_services.create_post(citizen, topic, "Et svar til et indlæg.", parent_id=post.id)
            app.config["MODERATION_ENABLED"] = True
        if state == "rejected":
            mod.moderate_post(admin, post, "reject", rule.id, "Hold en god tone.")
        if state in ("hidden", "removed"):
            action = {"hidden": "hide", "removed": "remove"}[state]
            mod.moderate_post(admin, post, action, rule.id, "Personangreb.")
        if state == "deleted":
            forum_services.delete_post(writer, post)
        db.session.commit()
        hidden_ids.append(post.id)
    app.config["MODERATION_ENABLED"] = False
    hidden = hidden_ids[2]
    forum_services.create_topic(
        citizen, f"Et borgerforslag {MARKERS['proposal']}", "Bænke.", area_id=area.id
    )
    declined = forum_services.create_topic(
        writer, f"Et afslået forslag {MARKERS['declined']}", "Nej.", area_id=area.id
    )
    db.session.commit()
    declined.status = TopicStatus.DECLINED
    db.session.commit()

    now = utcnow()
    session = qa.schedule_session(
        admin,
        "Spørgetid om cykelstien",
        "Spørg løs.",
        now + timedelta(minutes=5),
        now + timedelta(hours=1),
        [politician.id],
        committee_id=committee.id,
        premoderated=True,
        advance_questions=True,
    )
    db.session.commit()
    qa.start_session(admin, session)
    app.config["MODERATION_ENABLED"] = True  # the session's pre-moderation holds the question
    held = qa.ask(citizen, session, f"Hvornår kommer stien? {MARKERS['qa_pending']}")
    app.config["MODERATION_ENABLED"] = False
    db.session.commit()
    assert held.state == PostState.PENDING
    from budgets.models import BallotStyle

    create_process(
        admin,
        title=f"Borgerbudget {MARKERS['draft_budget']}",
        description="Et udkast.",
        total_amount=1_000_000,
        rule="greedy",
        ballot_style=BallotStyle.APPROVAL_BUDGET,
    )
    db.session.commit()
    from api import keys

    area_key, secret = keys.create_key(admin, "Sagssystem", "write_area", area.id)
    db.session.commit()
    indexer = Indexer(app)
    indexer.run_once()  # search answers from a real index, not "being rebuilt"
    indexer.close()
    return {
        "topic": topic.id,
        "hidden": hidden,
        "session": session.id,
        "secret": secret,
        "area": area.slug,
        "committee": committee.slug,
    }


@pytest.fixture(scope="module")
def world(_schema, database_url, tmp_path_factory):
    app = create_app(_config(database_url, tmp_path_factory.mktemp("schemathesis")))
    errors: list[str] = []
    app.logger.addHandler(_Capture(errors))
    app.test_client_class = FreshContextClient  # each request in a context of its own

    with app.app_context():
        _empty_tables()
        stop_thread(timeout=5)  # another module's app may have left the indexer running
        ids = _seed()
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", in_fresh_context(app))
        yield app, schema, ids, errors
        search.state(app).close()
        db.session.rollback()
        _empty_tables()
        db.session.remove()
        db.engine.dispose()


class _Capture(logging.Handler):
    """Collects the app's logged exceptions (a 5xx the error handler turned into JSON)."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.sink.append(f"{record.exc_info[0].__name__}: {record.exc_info[1]}")


def _no_leak(response) -> None:
    text = response.text
    for kind, marker in MARKERS.items():
        assert marker not in text, f"{kind} content leaked: {response.request.url}"
    assert EMAIL_DOMAIN not in text, f"an e-mail address leaked: {response.request.url}"


def _run(operation, mode: GenerationMode, headers: dict, known: dict, **fixed) -> int:
    calls = []

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        forged = bool((case.query or {}).get("cursor"))
        body = case.body if isinstance(case.body, dict) else {}
        unknown_place = any(
            body.get(name) not in (None, "", slug)
            for name, slug in (("area", known["area"]), ("committee", known["committee"]))
        )
        if forged or unknown_place:
            # A cursor is valid only as the API signed it, a place only when it exists: the
            # generated ones are forged or unknown, and must be refused (400 invalid_cursor,
            # 404 unknown filter, 403 another area, 422 unknown place in a body), so the
            # "valid data is accepted" check does not apply to them.
            response = case.call_and_validate(
                headers=headers, excluded_checks=[positive_data_acceptance]
            )
            assert response.status_code in (400, 401, 403, 404, 415, 422), (case.path, case.query)
        else:
            response = case.call_and_validate(headers=headers)
        assert response.status_code < 500, (case.path, case.query, response.text[:300])
        _no_leak(response)
        calls.append(response.status_code)

    check()
    return len(calls)


def test_schemathesis_finds_no_error_no_schema_break_and_no_leak(world):
    app, schema, ids, errors = world
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    calls = 0
    for operation in operations:
        write = operation.method.upper() == "POST"
        headers = {"Authorization": f"Bearer {ids['secret']}"} if write else {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            calls += _run(operation, mode, headers, ids)
        # Once more on the real objects (random ids mostly meet a 404).
        real = {
            "topic_id": ids["topic"],
            "session_id": ids["session"],
            "process_id": 1,
        }
        wanted = {k: v for k, v in real.items() if "{" + k + "}" in operation.path}
        if wanted:
            calls += _run(operation, GenerationMode.POSITIVE, headers, ids, path_parameters=wanted)
    assert calls > 100
    assert errors == []


def test_no_answer_names_the_hidden_content_even_when_asked_for_it(world):
    """The generated requests cannot guess the marker words: ask for each one outright,
    on every list and detail that could show it."""
    app, _schema, ids, _errors = world
    client = app.test_client()
    paths = [
        "/api/v1/topics",
        "/api/v1/topics?limit=200",
        f"/api/v1/topics?area={ids['area']}",
        f"/api/v1/topics/{ids['topic']}",
        f"/api/v1/topics/{ids['topic']}/posts?limit=200",
        "/api/v1/qa-sessions",
        f"/api/v1/qa-sessions/{ids['session']}",
        "/api/v1/budgets",
        "/api/v1/budgets/1",
        "/feeds/emner.atom",
    ] + [f"/api/v1/search?q={m}" for m in MARKERS.values()]
    for path in paths:
        r = client.get(path)
        assert r.status_code in (200, 404), (path, r.status_code)
        _no_leak(r)
    posts = client.get(f"/api/v1/topics/{ids['topic']}/posts?limit=200").get_json()["items"]
    assert len(posts) == 3  # the root, the politician's reply and the reply to the hidden post
    assert all(p["parent_id"] != ids["hidden"] for p in posts)
    assert json.dumps(posts).count("cykel") >= 1
