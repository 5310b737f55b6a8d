"""The privacy page, its settings (admins only), and the consent taken at registration."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.models import User
from privacy.models import ConsentRecord, SiteSettings

SETTINGS = {
    "municipality_name": "Testrup Kommune",
    "contact_address": "Rådhuset\nTorvet 1, 9999 Testrup",
    "data_controller": "Testrup Kommune, Torvet 1",
    "dpo_contact": "DPO Testrup, dpo@testrup.example",
    "deletion_grace_days": "21",
    "unverified_retention_days": "45",
    "mail_retention_days": "60",
}


def test_the_policy_page_says_who_why_how_long_and_the_rights(client):
    r = client.get("/privatliv")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for fact in (
        "Holbæk Kommune",  # the demo's controller until an admin saves other values
        "dpo@holbaek.example",
        "6(1)(e)",
        "Datatilsynet",
        "remember_token",
        "lang",
        "after 14 days",
        "at most 24 hours",  # the longest rate-limit window (RATELIMIT_TOPIC: per day)
        "no cookies for tracking",
        "Version 1.",
    ):
        assert fact in html, fact
    # Linked from every page's footer and from the registration form.
    assert 'href="/privatliv"' in client.get("/").get_data(as_text=True)
    register = client.get("/registrer").get_data(as_text=True)
    assert 'href="/privatliv"' in register and 'href="/debatregler"' in register


def test_only_admins_edit_the_settings_and_the_page_follows(client, make_user, login):
    login(make_user("moderator"))
    assert client.get("/privatliv/indstillinger").status_code == 403
    assert client.post("/privatliv/indstillinger", data=SETTINGS).status_code == 403
    assert db.session.get(SiteSettings, 1) is None
    client.post("/logout")
    admin = make_user("admin")
    login(admin)
    r = client.post("/privatliv/indstillinger", data=SETTINGS)
    assert r.status_code == 302
    row = db.session.get(SiteSettings, 1)
    assert row.municipality_name == "Testrup Kommune"
    assert row.notice_version == 2 and row.updated_by_id == admin.id
    html = client.get("/privatliv").get_data(as_text=True)
    assert "Testrup Kommune" in html and "after 21 days" in html and "45 days" in html
    assert "Holbæk Kommune" not in html.split("<main")[1].split("</main>")[0]
    # Saving the same values again publishes no new version.
    client.post("/privatliv/indstillinger", data=SETTINGS)
    db.session.expire_all()
    assert db.session.get(SiteSettings, 1).notice_version == 2


def test_bad_settings_keep_what_was_typed_and_save_nothing(client, make_user, login):
    login(make_user("admin"))
    r = client.post(
        "/privatliv/indstillinger",
        data={**SETTINGS, "dpo_contact": "", "deletion_grace_days": "400"},
    )
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Testrup Kommune" in html and "Torvet 1, 9999 Testrup" in html
    assert 'id="dpo_contact"' in html and "aria-invalid" in html
    assert db.session.get(SiteSettings, 1) is None


def test_registration_requires_the_tick_and_records_the_notice_version(client):
    data = {
        "email": "ny@example.dk",
        "display_name": "Ny Borger",
        "password": "correct-horse-battery",
        "confirm": "correct-horse-battery",
    }
    r = client.post("/registrer", data=data)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "tick that you have read the debate rules" in html
    assert 'value="ny@example.dk"' in html  # what they typed is kept
    assert db.session.scalar(select(User)) is None
    r = client.post("/registrer", data={**data, "accept": "y"})
    assert r.status_code == 200
    user = db.session.scalar(select(User))
    consent = db.session.scalar(select(ConsentRecord))
    assert consent.user_id == user.id and consent.notice_version == 1
    assert consent.kind == "registration" and consent.created_at is not None
