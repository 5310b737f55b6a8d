"""Moderation tests run with the policy on (tests/conftest.py turns it off for the rest)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forum import services as forum_services
from forum.extensions import db
from forum.models import Post, PostState, Topic, User
from moderation import services
from tests.conftest import builds_app


@pytest.fixture
def moderation_config() -> dict:
    """Override in a module to change moderation's settings."""
    return {}


@pytest.fixture
def app_config(moderation_config) -> dict:
    return {"MODERATION_ENABLED": True, **moderation_config}


@pytest.fixture
def rules(app) -> dict:
    """The default debate rules, by code."""
    from moderation.models import DebateRule

    services.ensure_default_rules()
    db.session.commit()
    return {r.code: r for r in db.session.query(DebateRule)}


@pytest.fixture
def moderator(make_user) -> User:
    return make_user("moderator", name="Mona Moderator")


@pytest.fixture
def admin(make_user) -> User:
    return make_user("admin", name="Ada Admin")


@pytest.fixture
def topic(make_topic, admin) -> Topic:
    return make_topic(author=admin)


@pytest.fixture
def held(make_post) -> Callable[..., Post]:
    """A post the policy holds (its author is new)."""

    def make(
        topic: Topic,
        author: User | None = None,
        body: str = "Et indlæg.",
        parent: Post | None = None,
    ) -> Post:
        post = make_post(topic, author, body=body, parent=parent)
        assert post.state == PostState.PENDING, post.held_reason
        return post

    return make


@pytest.fixture
def in_state(held, admin, rules, make_user) -> Callable[..., Post]:
    """A post by a citizen in any state, put there the way the application does it."""

    def make(
        state: str,
        topic: Topic,
        author: User | None = None,
        body: str | None = None,
        parent: Post | None = None,
    ) -> Post:
        author = author or make_user()
        post = held(topic, author, body=body or f"Tekst i tilstand {state}.", parent=parent)
        if state in ("published", "hidden", "removed"):
            services.moderate_post(admin, post, "approve")
        if state == "rejected":
            services.moderate_post(admin, post, "reject", rules["respect"].id, "Hold en god tone.")
        if state in ("hidden", "removed"):
            action = {"hidden": "hide", "removed": "remove"}[state]
            services.moderate_post(admin, post, action, rules["respect"].id, "Personangreb.")
        if state == "deleted":
            forum_services.delete_post(author, post)
        db.session.commit()
        assert post.state.value == state
        return post

    return make


@pytest.fixture
def as_user(app):
    """A new test client logged in as ``user`` (anonymous for None). Pages come in the
    account's language (Danish, the site's default, for a new account); with ``lang`` the
    client switches language the way a person does (``/sprog``: cookie and account). The
    ``client`` fixture below reads English."""

    def do(user: User | None, lang: str | None = None):
        client = app.test_client()
        if user is not None:
            r = client.post(
                "/login", data={"email": user.email, "password": "correct-horse-battery"}
            )
            assert r.status_code == 302, r.get_data(as_text=True)[:500]
        if lang is not None:
            assert client.post("/sprog", data={"lang": lang}).status_code == 302
        return client

    return do


@pytest.fixture(autouse=True)
def _english_pages(request):
    """These tests read English page text; the site defaults to Danish. A test that reads
    Danish asks for it (``client.post("/sprog", data={"lang": "da"})``); ``as_user``'s
    clients start in Danish."""
    if builds_app(request):
        request.getfixturevalue("client").set_cookie("lang", "en")
