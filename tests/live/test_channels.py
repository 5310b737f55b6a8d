"""Deployments sharing one Redis (staging and production) never hear each other: Redis
pub/sub ignores the database number, so the live channel is named per deployment."""

from __future__ import annotations

import time

import pytest

from app import create_app
from forum import live
from forum.config import deployment_prefix


def _app(tmp_path, name: str, **extra):
    inst = tmp_path / name
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(inst),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{inst / 'db.sqlite3'}",
            "SEARCH_INDEX_DIR": str(inst / "ix"),
            **extra,
        }
    )


def _heard(pubsub, seconds: float = 1.0) -> set[str]:
    channels: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        msg = pubsub.get_message(timeout=0.1)
        if msg and msg["type"] == "message":
            channels.add(msg["channel"].decode())
    return channels


def test_two_deployments_on_one_redis_do_not_hear_each_other(tmp_path, redis_url):
    import redis

    staging = _app(tmp_path, "staging", SECRET_KEY="staging-secret", REDIS_URL=redis_url)
    production = _app(tmp_path, "production", SECRET_KEY="production-secret", REDIS_URL=redis_url)
    channels = {app: app.extensions[live._MANAGER_KEY].channel for app in (staging, production)}
    assert channels[staging] != channels[production]

    listener = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(*channels.values())
    time.sleep(0.2)
    try:
        for app in (staging, production):
            with app.app_context():
                server = live.live_server()
                server.emit("live", {"id": 1, "kind": "post_published"}, to="topic:1")
                # A forced disconnect (a new password) travels the same channel.
                server.close_room(live.SESSION_ROOM.format(user_id=1, version=1), namespace="/")
            assert _heard(listener) == {channels[app]}, app.config["SECRET_KEY"]
    finally:
        listener.close()


def test_instances_of_one_deployment_share_the_channel(tmp_path, redis_url):
    one = _app(tmp_path, "one", SECRET_KEY="same-secret", REDIS_URL=redis_url)
    two = _app(tmp_path, "two", SECRET_KEY="same-secret", REDIS_URL=redis_url)
    assert live.live_channel(one) == live.live_channel(two)
    assert live.live_channel(one).startswith(deployment_prefix("same-secret"))
    assert "same-secret" not in live.live_channel(one)
    # Rate limits in a shared Redis are kept apart the same way.
    assert one.config["RATELIMIT_KEY_PREFIX"] == deployment_prefix("same-secret")


def test_the_prefix_can_be_configured(tmp_path, monkeypatch):
    import app as app_module

    monkeypatch.setattr(app_module, "HERE", tmp_path)
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("LIVE_CHANNEL_PREFIX", "holbaek-staging")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "ix"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    for worker in (
        "MAIL_WORKER",
        "SEARCH_WORKER",
        "QA_WORKER",
        "BUDGETS_SCHEDULER",
        "MODERATION_REMINDER_WORKER",
        "PRIVACY_WORKER",
        "FANOUT_WORKER",
    ):
        monkeypatch.setenv(worker, "external")  # no background threads on an empty database
    app = create_app()
    assert live.live_channel(app) == "holbaek-staging-live"
    assert app.config["RATELIMIT_KEY_PREFIX"] == "holbaek-staging"


@pytest.mark.parametrize("secret", ["a", "b" * 64])
def test_prefix_is_stable_and_short(secret):
    assert deployment_prefix(secret) == deployment_prefix(secret)
    assert len(deployment_prefix(secret)) == len("borgerdialog-") + 16
