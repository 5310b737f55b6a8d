"""The REST API v1: public reads, pagination, caching, CORS, JSON errors, keys and writes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api import keys
from api.models import ApiKey
from forum.extensions import db
from forum.models import Topic, TopicStatus


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Ada Admin")


@pytest.fixture
def thread(make_topic, make_post, make_user, make_area, admin):
    area = make_area(name="Tølløse")
    topic = make_topic(author=admin, area=area, title="Cykelsti")
    politician = make_user("politician", name="Pia Politiker", party="SF")
    root = make_post(topic, body="Første indlæg", stance="for")
    reply = make_post(topic, author=politician, body="Et svar", parent=root)
    return topic, root, reply


def _error(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/json"
    body = r.get_json()["error"]
    assert set(body) == {"code", "message"}
    if code:
        assert body["code"] == code
    return body


def test_topics_and_posts_are_json_with_zones_and_threads(client, thread):
    topic, root, reply = thread
    r = client.get("/api/v1/topics")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in r.headers["Cache-Control"]
    items = r.get_json()["items"]
    assert [t["id"] for t in items] == [topic.id]
    assert items[0]["area"]["name"] == "Tølløse"
    assert items[0]["created_at"].endswith("+00:00")
    assert items[0]["outcome"] is None
    r = client.get(f"/api/v1/topics/{topic.id}/posts")
    posts = r.get_json()["items"]
    assert [p["id"] for p in posts] == [root.id, reply.id]
    assert posts[0]["stance"] == "for" and posts[0]["parent_id"] is None
    assert posts[1]["parent_id"] == root.id
    assert posts[1]["author"] == {"name": "Pia Politiker", "role": "politician", "party": "SF"}
    assert posts[0]["author"]["role"] == "citizen" and posts[0]["author"]["party"] is None
    assert "Første indlæg" in posts[0]["body_html"]


def test_cursor_pages_and_tampered_cursors(client, make_topic, admin):
    made = [make_topic(author=admin, title=f"Emne nummer {n}") for n in range(5)]
    seen, cursor = [], None
    while True:
        url = "/api/v1/topics?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).get_json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted((t.id for t in made), reverse=True)
    first = client.get("/api/v1/topics?limit=2").get_json()["next_cursor"]
    _error(client.get(f"/api/v1/topics?cursor={first[:-2]}xx"), 400, "invalid_cursor")
    _error(client.get(f"/api/v1/topics/{made[0].id}/posts?cursor={first}"), 400, "invalid_cursor")


@pytest.mark.parametrize(
    "url, status, code",
    [
        ("/api/v1/topics?colour=red", 400, "unknown_parameter"),
        ("/api/v1/topics?limit=abc", 400, "invalid_parameter"),
        ("/api/v1/topics?limit=100000", 400, "out_of_range"),
        ("/api/v1/topics?limit=0", 400, "out_of_range"),
        ("/api/v1/topics?status=proposed", 400, "invalid_parameter"),
        ("/api/v1/topics?status=open&status=closed", 400, "invalid_parameter"),
        ("/api/v1/topics?committee=nope", 404, "unknown_committee"),
        ("/api/v1/topics/99999999999", 404, "not_found"),
        ("/api/v1/topics/2147483647", 404, "not_found"),
        ("/api/v1/topics/abc/posts", 404, "not_found"),
        ("/api/v1/nothing-here", 404, "not_found"),
    ],
)
def test_bad_input_is_a_json_error(client, thread, url, status, code):
    _error(client.get(url), status, code)


def test_etag_gives_304_and_changes_with_content(client, thread, make_post, count_queries):
    topic, root, _reply = thread
    url = f"/api/v1/topics/{topic.id}/posts"
    r = client.get(url)
    tag = r.headers["ETag"]
    with count_queries() as n:
        again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    assert n() <= 2  # the log's newest event (and nothing of the thread)
    make_post(topic, body="Nyt indlæg")
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 200


def test_posts_query_count_is_constant(client, thread, make_post, make_user, count_queries):
    topic, root, _ = thread
    url = f"/api/v1/topics/{topic.id}/posts"
    with count_queries() as few:
        client.get(url)
    for n in range(15):
        make_post(topic, author=make_user(), body=f"Indlæg {n}", parent=root if n % 2 else None)
    with count_queries() as many:
        assert len(client.get(url).get_json()["items"]) == 17
    assert many() == few()


def test_cors_only_for_reads_and_writes_need_a_key(client, thread, login, admin):
    r = client.options("/api/v1/topics")
    assert "POST" not in r.headers.get("Access-Control-Allow-Methods", "")
    _error(client.post("/api/v1/topics", json={"title": "x"}), 401, "key_required")
    # a signed-in admin's session cookie does not authorise an API write
    login(admin)
    _error(client.post("/api/v1/topics", json={"title": "Hej", "intro": "x"}), 401, "key_required")
    _error(client.put("/api/v1/topics"), 405, "method_not_allowed")


def test_keys_write_in_their_area_audited_and_revocable(app, client, admin, make_area):
    area, other = make_area(name="Jyderup"), make_area(name="Orø")
    reader, read_secret = keys.create_key(admin, "Hjemmesiden", "read")
    writer, secret = keys.create_key(admin, "ESDH", "write_area", area.id)
    db.session.commit()
    stored = db.session.scalar(select(ApiKey).where(ApiKey.id == writer.id))
    assert secret not in (stored.key_hash, stored.prefix) and stored.key_hash == keys.hash_secret(
        secret
    )
    auth = {"Authorization": f"Bearer {secret}"}
    body = {"title": "Ny skole i Jyderup", "intro": "Kommunen foreslår en ny skole."}
    _error(
        client.post(
            "/api/v1/topics", json=body, headers={"Authorization": f"Bearer {read_secret}"}
        ),
        403,
        "wrong_scope",
    )
    _error(client.post("/api/v1/topics", json=body, headers={"Authorization": "Bearer nope"}), 401)
    _error(
        client.post(
            "/api/v1/topics", data="{not json", headers=auth, content_type="application/json"
        ),
        400,
        "invalid_json",
    )
    _error(client.post("/api/v1/topics", data="x=1", headers=auth), 415, "not_json")
    _error(client.post("/api/v1/topics", json={"title": "ab"}, headers=auth), 422, "invalid_input")
    _error(client.post("/api/v1/topics", json={**body, "intro": "x" * 70_000}, headers=auth), 413)
    _error(client.post("/api/v1/topics", json={**body, "area": other.slug}, headers=auth), 403)
    assert db.session.scalar(select(Topic).where(Topic.title == body["title"])) is None
    r = client.post("/api/v1/topics", json=body, headers=auth)
    assert r.status_code == 201, r.get_data(as_text=True)
    created = db.session.get(Topic, r.get_json()["id"])
    assert created.status == TopicStatus.OPEN and created.area_id == area.id
    from moderation.models import AuditEntry

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_topic_created"))
    assert entry is not None and entry.target_id == created.id
    db.session.refresh(writer)
    assert writer.last_used_at is not None
    keys.revoke_key(admin, writer.id)
    db.session.commit()
    _error(client.post("/api/v1/topics", json=body, headers=auth), 401, "invalid_key")
    _error(client.get("/api/v1/topics", headers=auth), 401, "invalid_key")


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "RATELIMIT_ENABLED": True,
            "API_RATELIMIT_ANON": "3 per minute",
            "API_RATELIMIT_KEY": "5 per minute",
        }
    ],
)
def test_rate_limits_per_address_and_per_key(client, admin):
    for _ in range(3):
        assert client.get("/api/v1/committees").status_code == 200
    r = client.get("/api/v1/committees")
    _error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0
    _key, secret = keys.create_key(admin, "Hjemmesiden", "read")
    db.session.commit()
    auth = {"Authorization": f"Bearer {secret}"}
    codes = [client.get("/api/v1/committees", headers=auth).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]  # the key's own budget, not the address's


def test_a_topic_carries_its_outcome_and_the_outcomes_feed_lists_it(client, thread, admin):
    from datetime import date

    from outcomes import services as outcome_services

    topic, _root, _reply = thread
    outcome_services.add_update(
        admin,
        topic,
        status="decided",
        body="committee",
        text="Vedtaget af udvalget på mødet i december.",
        decided_on=date(2026, 12, 1),
        notify=False,
    )
    db.session.commit()
    got = client.get(f"/api/v1/topics/{topic.id}").get_json()["outcome"]
    assert got["status"] == "decided" and got["updated_on"] == "2026-12-01"
    listed = client.get("/api/v1/topics").get_json()["items"][0]["outcome"]
    assert listed == got
    feed = client.get("/feeds/resultater.atom").get_data(as_text=True)
    assert topic.title in feed and "Vedtaget af udvalget" in feed


def test_a_nul_byte_in_the_query_is_a_json_error_not_the_sites_page(client):
    """The site's guard refuses a NUL byte with its HTML page before any view runs; under
    /api/v1 the answer is the API's JSON error (found by tests/api/test_schemathesis.py)."""
    r = client.get("/api/v1/topics?status=open%00")
    assert r.status_code == 400 and r.mimetype == "application/json"
    assert r.get_json()["error"]["code"] == "bad_request"
    assert "NUL" in r.get_json()["error"]["message"]
    r = client.get("/api/v1/topics?status=")  # an empty value is not "any": it is refused
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter"
