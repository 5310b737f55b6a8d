"""Authorisation matrix: every /admin route for every kind of person.

Anonymous visitors are sent to log in; citizens, politicians, scoped moderators,
municipality-wide moderators (staff) and municipal employees (Role.STAFF) get 403 and change
nothing; admins get the page (GET)
or an answer of the form itself (POST without fields: a 400 page, never a refusal).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from forum.extensions import db
from moderation.models import AuditEntry
from tests.admin.conftest import english
from tests.conftest import PASSWORD, _config


def _admin_rules():
    app = create_app(_config("sqlite://", Path("/tmp")))
    return sorted(
        (r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")),
        key=lambda r: r.rule,
    )


RULES = _admin_rules()
ROLES = (
    "anonymous",
    "citizen",
    "politician",
    "scoped_moderator",
    "staff",
    "municipal_staff",
    "admin",
)


def test_every_admin_rule_is_covered():
    endpoints = {r.endpoint for r in RULES}
    assert len(endpoints) >= 19
    assert all(e.startswith("admin.") for e in endpoints)


@pytest.fixture
def world(app, make_user, make_committee, make_area, make_topic):
    committee, area = make_committee(), make_area()
    users = {
        "citizen": make_user(),
        "politician": make_user("politician", committees=[committee]),
        "scoped_moderator": make_user("moderator", areas=[area]),
        "staff": make_user("moderator"),
        "municipal_staff": make_user("staff"),  # Role.STAFF: outcomes and reach, not /admin
        "admin": make_user("admin"),
    }
    topic = make_topic(committee=committee, author=users["admin"])
    values = {
        "committee_id": committee.id,
        "area_id": area.id,
        "user_id": users["citizen"].id,
        "topic_id": topic.id,
    }
    return users, values


def _path(rule, values) -> str:
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEntry.id))) or 0


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, world, role):
    users, values = world
    client = english(app.test_client())
    if role != "anonymous":
        r = client.post("/login", data={"email": users[role].email, "password": PASSWORD})
        assert r.status_code == 302
    for rule in RULES:
        path = _path(rule, values)
        method = "GET" if "GET" in rule.methods else "POST"
        before = _audit_count()
        r = client.open(path, method=method, data={} if method == "POST" else None)
        where = f"{method} {path} as {role}"
        if role == "anonymous":
            assert r.status_code == 302, where
            assert "/login" in r.headers["Location"], where
        elif role != "admin":
            assert r.status_code == 403, where
        elif method == "GET":
            assert r.status_code == 200, where
        else:
            assert r.status_code in (400, 409), where  # the form answered, nothing refused
        if role != "admin" or method == "GET":
            assert _audit_count() == before, where  # nothing happened


def test_the_admin_link_is_shown_to_admins_only(app, world):
    users, _values = world
    for role, shown in (("staff", False), ("municipal_staff", False), ("admin", True)):
        client = english(app.test_client())
        client.post("/login", data={"email": users[role].email, "password": PASSWORD})
        assert ('href="/admin/"' in client.get("/").get_data(as_text=True)) is shown
