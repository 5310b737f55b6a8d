"""The OpenAPI document (valid, and real answers match it), the docs and key pages, the Atom
feeds and the open-data dump."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from api import dump


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Ada Admin")


@pytest.fixture
def thread(make_topic, make_post, make_user, make_area, make_committee, admin):
    area = make_area(name="Tølløse", slug="toelloese")
    committee = make_committee(name="Klimaudvalget", slug="klima")
    topic = make_topic(author=admin, area=area, committee=committee, title="Cykelsti")
    politician = make_user("politician", name="Pia Politiker", party="SF")
    citizen = make_user(name="Carl Citizen")
    root = make_post(topic, author=citizen, body="=HYPERLINK(1) første", stance="for")
    reply = make_post(topic, author=politician, body="Et svar", parent=root)
    return topic, root, reply


def _schema_validator(spec: dict, path: str, method: str = "get", status: str = "200"):
    ref = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {},
        **ref,
    }
    # resolve "#/components/schemas/X" against the whole document
    text = json.dumps(document).replace("#/components/schemas/", "#/$defs/")
    document = json.loads(text)
    defs = json.loads(
        json.dumps(spec["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/")
    )
    document["$defs"] = defs
    return Draft202012Validator(document)


def test_openapi_document_is_valid_and_answers_match_it(client, thread):
    topic, _root, _reply = thread
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    cases = {
        "/topics": "/api/v1/topics",
        "/topics/{topic_id}": f"/api/v1/topics/{topic.id}",
        "/topics/{topic_id}/posts": f"/api/v1/topics/{topic.id}/posts",
        "/committees": "/api/v1/committees",
        "/areas": "/api/v1/areas",
    }
    for path, url in cases.items():
        body = client.get(url).get_json()
        errors = list(_schema_validator(spec, path).iter_errors(body))
        assert not errors, (path, errors[:3])
    error = client.get("/api/v1/topics?bad=1").get_json()
    assert not list(_schema_validator(spec, "/topics", status="400").iter_errors(error))


def test_docs_page_lists_the_endpoints(client):
    text = client.get("/api").get_data(as_text=True)
    assert "/topics/{topic_id}/posts" in text and "openapi.json" in text
    assert "<script" not in text.split("</header>")[-1]


def test_staff_make_and_revoke_keys_shown_once(client, login, make_user, make_area):
    area = make_area()
    citizen = make_user()
    login(citizen)
    assert client.get("/api/noegler").status_code == 403
    client.post("/logout")
    staff = make_user("staff", name="Sofie Staff")
    login(staff)
    page = client.get("/api/noegler").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = client.post(
        "/api/noegler",
        data={"csrf_token": token, "name": "ESDH", "scope": "write_area", "area": str(area.id)},
    )
    assert r.status_code == 200
    secret = re.search(r'id="api-secret" value="(bdk_[^"]+)"', r.get_data(as_text=True)).group(1)
    assert secret not in client.get("/api/noegler").get_data(as_text=True)  # shown once
    assert (
        client.get("/api/v1/topics", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    bad = client.post("/api/noegler", data={"csrf_token": token, "name": "", "scope": "read"})
    assert bad.status_code == 400
    from api.models import ApiKey
    from forum.extensions import db

    key = db.session.query(ApiKey).one()
    assert key.last_used_at is not None
    r = client.post(f"/api/noegler/{key.id}/tilbagekald", data={"csrf_token": token})
    assert r.status_code == 302
    assert (
        client.get("/api/v1/topics", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


def test_feeds_are_atom_and_linked_from_pages(client, thread):
    topic, root, reply = thread
    for url in (
        "/feeds/emner.atom",
        "/feeds/udvalg/klima.atom",
        "/feeds/omraader/toelloese.atom",
        f"/feeds/emner/{topic.id}/indlaeg.atom",
        "/feeds/resultater.atom",
        "/feeds/kommende.atom",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.mimetype == "application/atom+xml"
        assert b"<feed" in r.data
    posts = client.get(f"/feeds/emner/{topic.id}/indlaeg.atom").get_data(as_text=True)
    assert "Et svar" in posts and "Pia Politiker" in posts
    assert client.get("/feeds/udvalg/nope.atom").status_code == 404
    page = client.get(f"/emner/{topic.id}").get_data(as_text=True)
    assert (
        f'rel="alternate" type="application/atom+xml" href="/feeds/emner/{topic.id}/indlaeg.atom"'
        in page
    )


def test_saved_search_feed_needs_its_secret(app, client, make_user, login):
    from api.feeds import saved_search_feed_url
    from forum.extensions import db
    from search.models import SavedSearch

    owner = make_user()
    saved = SavedSearch(user_id=owner.id, name="Skoler", query="skole", filters={})
    db.session.add(saved)
    db.session.commit()
    with app.test_request_context():
        url = saved_search_feed_url(saved.id)
    path = url.split("localhost", 1)[1]
    r = client.get(path)
    assert r.status_code == 200 and b"<feed" in r.data
    assert client.get(f"/feeds/soegning/{saved.id}.atom").status_code == 404
    login(owner)
    assert path in client.get("/soeg/gemte").get_data(as_text=True)  # the owner's link


def test_dump_is_a_zip_of_public_csv_and_json(app, client, thread, tmp_path):
    topic, root, reply = thread
    app.config["API_DUMP_DIR"] = str(tmp_path / "open-data")
    assert client.get("/aabne-data/borgerdialog.zip").status_code == 404
    assert dump.due()
    counts = dump.write_dump()
    assert not dump.due()
    assert counts["posts"] == 2 and counts["topics"] == 1
    r = client.get("/aabne-data/borgerdialog.zip")
    assert r.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(r.data))
    r.close()
    assert {"posts.csv", "posts.json", "topics.csv", "datapackage.json", "README.txt"} <= set(
        zf.namelist()
    )
    raw = zf.read("posts.csv").decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(raw[1:])))
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[reply.id]["author"] == "Pia Politiker" and by_id[reply.id]["party"] == "SF"
    citizen = by_id[root.id]["author"]
    assert citizen.startswith("citizen-") and "Carl" not in raw
    assert by_id[root.id]["body_html"].startswith("<p>=") is True  # HTML cell, not a formula
    data = json.loads(zf.read("posts.json"))
    assert [p["id"] for p in data] == [root.id, reply.id]
    meta = json.loads(zf.read("datapackage.json"))
    assert meta["licenses"][0]["name"] == app.config["OPEN_DATA_LICENCE"]


def test_feed_leaves_out_characters_xml_cannot_hold(client, make_topic, admin):
    """A title with a control character (the API accepts any text) once made the feed a 500:
    lxml refuses to write it. Found by the schemathesis run (tests/api/test_schemathesis.py)."""
    make_topic(author=admin, title="Cykel\x0esti\x07 til Orø")
    r = client.get("/feeds/emner.atom")
    assert r.status_code == 200
    assert "Cykelsti til Orø" in r.get_data(as_text=True)


def test_dump_command_if_due_writes_only_when_the_last_zip_is_old(runner, app, thread, tmp_path):
    app.config["API_DUMP_DIR"] = str(tmp_path / "open-data")  # no zip of an earlier test
    first = runner.invoke(args=["api", "dump", "--if-due"])
    assert first.exit_code == 0 and "posts: 2" in first.output
    path = dump.dump_dir() / dump.FILENAME
    made = path.stat().st_mtime_ns
    again = runner.invoke(args=["api", "dump", "--if-due"])
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert path.stat().st_mtime_ns == made
    app.config["API_DUMP_INTERVAL"] = 0  # now every zip is old enough
    third = runner.invoke(args=["api", "dump", "--if-due"])
    assert "posts: 2" in third.output
