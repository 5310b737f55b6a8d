"""Exports and deletion requests are rate limited (per account); past the limit a 429 page
says how long to wait."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from privacy.models import DeletionRequest


@pytest.fixture
def extra_config() -> dict:
    return {
        "RATELIMIT_ENABLED": True,
        "PRIVACY_EXPORT_RATE": "2 per hour",
        "PRIVACY_DELETE_RATE": "2 per hour",
    }


def test_the_export_is_rate_limited(client, login, make_user):
    login(make_user())
    assert [client.post("/privatliv/mine-data/eksport").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    r = client.post("/privatliv/mine-data/eksport")
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert "Try again in" in r.get_data(as_text=True)


def test_guessing_the_password_on_the_delete_form_is_rate_limited(client, login, make_user):
    login(make_user())
    codes = [
        client.post(
            "/privatliv/slet-konto", data={"mode": "erase", "password": f"gæt-{i}"}
        ).status_code
        for i in range(3)
    ]
    assert codes == [400, 400, 429]
    assert db.session.scalar(select(DeletionRequest)) is None


def test_the_own_profile_links_to_the_data_page_and_others_do_not(client, login, make_user):
    me, other = make_user(), make_user()
    login(me)
    assert 'href="/privatliv/mine-data"' in client.get(f"/profil/{me.id}").get_data(as_text=True)
    assert 'href="/privatliv/mine-data"' not in client.get(f"/profil/{other.id}").get_data(
        as_text=True
    )
