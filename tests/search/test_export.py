"""CSV export of a result set: Excel-friendly, complete, and visible only as pages are."""

from __future__ import annotations

import csv
import io

import pytest

from forum.extensions import db
from forum.models import PostState

from .conftest import set_state


@pytest.fixture
def csv_rows(client):
    def get(**params) -> list[list[str]]:
        r = client.get("/soeg/eksport.csv", query_string=params)
        assert r.status_code == 200, r.status_code
        assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert r.headers["Content-Disposition"].startswith("attachment;")
        assert r.data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
        return list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))

    return get


def test_export_columns_and_danish_letters(corpus, reindex, login, make_user, csv_rows):
    reindex()
    login(make_user("politician"))
    rows = csv_rows(q="cykelsti", sort="newest")
    assert rows[0] == [
        "id",
        "link",
        "date",
        "author",
        "role",
        "party",
        "committee",
        "area",
        "topic",
        "stance",
        "text",
    ]
    by_id = {r[0]: r for r in rows[1:]}
    budget = corpus["posts"]["budget"]
    row = by_id[f"p{budget.id}"]
    assert row[1] == f"http://localhost/indlaeg/{budget.id}#p{budget.id}"
    assert row[3:] == [
        "Pia Politiker",
        "Politician",
        "Socialdemokratiet",
        "Udvalget for Børn og Skole",
        "Tølløse",
        "Skolevej i Tølløse",
        "For",
        budget.body_source,
    ]
    assert f"t{corpus['topics']['road'].id}" in by_id
    assert len(rows) == 1 + 3  # the topic and two posts


def test_danish_export_is_separated_as_danish_excel_expects(
    corpus, reindex, login, make_user, client
):
    reindex()
    user = make_user("politician")
    user.locale = "da"
    db.session.commit()
    login(user)
    r = client.get("/soeg/eksport.csv", query_string={"q": "cykelsti", "sort": "newest"})
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "id",
        "link",
        "dato",
        "forfatter",
        "rolle",
        "parti",
        "udvalg",
        "område",
        "emne",
        "holdning",
        "tekst",
    ]
    budget = corpus["posts"]["budget"]
    row = next(r for r in rows if r[0] == f"p{budget.id}")
    assert row[3:10] == [
        "Pia Politiker",
        "Politiker",
        "Socialdemokratiet",
        "Udvalget for Børn og Skole",
        "Tølløse",
        "Skolevej i Tølløse",
        "For",
    ]
    assert row[10] == budget.body_source  # its comma stays inside the field


def test_export_leaves_out_what_the_viewer_may_not_see(corpus, reindex, login, make_user, csv_rows):
    reindex()
    set_state(corpus["posts"]["skolerne"], PostState.HIDDEN)  # after indexing
    login(make_user())
    ids = [r[0] for r in csv_rows(q="cykelstier")[1:]]
    assert f"p{corpus['posts']['skolerne'].id}" not in ids


def test_export_neutralises_formulas(make_topic, make_post, make_user, reindex, login, csv_rows):
    topic = make_topic()
    make_post(topic, make_user(name="=HYPERLINK(1)"), body="=1+1 skolevej")
    reindex()
    login(make_user())
    row = next(r for r in csv_rows(q="skolevej") if r[0].startswith("p"))
    assert row[3] == "'=HYPERLINK(1)" and row[-1] == "'=1+1 skolevej"


def test_export_needs_login(client):
    assert client.get("/soeg/eksport.csv?q=x").status_code == 302


@pytest.mark.parametrize("app_config", [{"SEARCH_EXPORT_MAX": 2}])
def test_a_capped_export_says_so(corpus, reindex, login, make_user, client, csv_rows):
    reindex()
    login(make_user())
    rows = csv_rows(q="")  # seven contributions, newest first
    assert len(rows) == 1 + 2
    r = client.get("/soeg/eksport.csv")
    assert r.headers["X-Export-Truncated"] == "2"
    html = client.get("/soeg").get_data(as_text=True)
    assert 'data-code="export_truncated"' in html and "the first 2 results" in html
    assert 'data-code="export_truncated"' not in client.get("/soeg?q=havnebad").get_data(
        as_text=True
    )


def _streamed_get(app, client, url: str, params: dict):
    """GET as a WSGI server does: in a context of its own, so the request pushes and pops its
    own app context (ending its database session) before the streamed body is made, and
    keeps its ``g`` (the signed-in user) for the body. (A test's requests otherwise share the
    test's app context, whose session outlives them, and tests/conftest.py empties ``g``
    after each request.)"""
    import contextvars

    funcs = app.teardown_request_funcs.get(None, [])
    emptying = [f for f in funcs if f.__name__ == "_fresh_request_state"]
    for f in emptying:
        funcs.remove(f)
    try:
        ctx = contextvars.Context()
        response = ctx.run(client.get, url, query_string=params)
        return response, ctx.run(response.get_data).decode("utf-8-sig")
    finally:
        funcs.extend(emptying)


@pytest.mark.parametrize("who", ["scoped", "everywhere", "admin"])
def test_export_streams_for_moderators_within_their_scope(corpus, reindex, app, make_user, who):
    """Moderators' exports were a 500 (DetachedInstanceError: the user's areas were loaded
    after the request's session had ended). A scoped moderator's export holds restricted
    content of their own areas only."""
    posts = corpus["posts"]
    set_state(posts["skolerne"], PostState.HIDDEN)  # Tølløse
    set_state(posts["havn"], PostState.HIDDEN)  # Holbæk By
    reindex()
    viewer = {
        "scoped": lambda: make_user("moderator", areas=[corpus["areas"]["tolloese"]]),
        "everywhere": lambda: make_user("moderator"),
        "admin": lambda: make_user("admin"),
    }[who]()
    client = app.test_client()
    client.set_cookie("lang", "en")
    r = client.post("/login", data={"email": viewer.email, "password": "correct-horse-battery"})
    assert r.status_code == 302
    response, body = _streamed_get(
        app, client, "/soeg/eksport.csv", {"q": "", "skjulte": "1", "sort": "newest"}
    )
    assert response.status_code == 200
    ids = {row[0] for row in csv.reader(io.StringIO(body))}
    assert f"p{posts['skolerne'].id}" in ids and f"p{posts['aarhus'].id}" in ids
    assert (f"p{posts['havn'].id}" in ids) is (who != "scoped")
