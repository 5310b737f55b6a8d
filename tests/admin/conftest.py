"""Helpers for the administration tests."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from moderation.models import AuditEntry


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", name="Anne Admin", email="anne@kommune.example")


def english(client):
    """Pages in English (the messages asserted on are the English ones)."""
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def as_admin(client, login, admin_user):
    english(client)
    assert login(admin_user).status_code == 302
    return client


@pytest.fixture
def new_client(app):
    """Another browser, in English."""
    return lambda: english(app.test_client())


def audit_entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def text_of(response) -> str:
    """The page's text without tags, whitespace squeezed (for asserting on messages)."""
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
