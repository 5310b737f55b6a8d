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


@pytest.fixture
def as_admin(client, login, admin_user):
    assert login(admin_user).status_code == 302
    return client


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
