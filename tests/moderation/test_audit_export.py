"""The audit CSV as production streams it: the body is made after the request's app context
(and its database session) has ended, for every kind of moderator, and a scoped moderator's
export holds only their scope."""

from __future__ import annotations

import contextvars
import csv
import io

import pytest

from forum.extensions import db
from moderation import services


def streamed_get(app, client, url: str):
    """GET ``url`` as a WSGI server does: in a context of its own, so the request pushes and
    pops its own app context (ending its session) before the body is iterated, and keeps its
    ``g`` (the signed-in user) for the body. (A test's requests otherwise share the test's
    app context, whose session outlives them, and tests/conftest.py empties ``g`` after each
    request.)"""
    funcs = app.teardown_request_funcs.get(None, [])
    emptying = [f for f in funcs if f.__name__ == "_fresh_request_state"]
    for f in emptying:
        funcs.remove(f)
    try:
        ctx = contextvars.Context()
        response = ctx.run(client.get, url)
        return response, ctx.run(response.get_data, as_text=True)
    finally:
        funcs.extend(emptying)


@pytest.fixture
def scene(make_area, make_user, make_topic, held, admin, rules):
    mine, other = make_area("Tølløse"), make_area("Holbæk By")
    scoped = make_user("moderator", name="Kirsten Scoped", areas=[mine])
    everywhere = make_user("moderator", name="Jens Everywhere")
    here = held(make_topic(author=admin, area=mine), body="Her")
    there = held(make_topic(author=admin, area=other), body="Der")
    services.moderate_post(admin, here, "reject", rules["spam"].id, "Reklame i Tølløse")
    services.moderate_post(admin, there, "reject", rules["spam"].id, "Reklame i Holbæk")
    db.session.commit()
    return scoped, everywhere, here, there


@pytest.mark.parametrize("who", ["scoped", "everywhere", "admin"])
def test_audit_csv_streams_for_every_moderator(app, as_user, scene, admin, who):
    scoped, everywhere, here, there = scene
    viewer = {"scoped": scoped, "everywhere": everywhere, "admin": admin}[who]
    response, body = streamed_get(app, as_user(viewer), "/moderation/audit.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(body)))
    posts = {row["post_id"] for row in rows}
    texts = {row["text"] for row in rows}
    assert str(here.id) in posts and "Reklame i Tølløse" in texts
    if who == "scoped":
        assert str(there.id) not in posts and "Reklame i Holbæk" not in texts
    else:
        assert str(there.id) in posts and "Reklame i Holbæk" in texts
