"""Inviting politicians and staff: a single-use, expiring link shown to the admin once."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from admin.models import Invitation
from forum import services as forum_services
from forum.extensions import db
from forum.models import Role, User, utcnow
from tests.admin.conftest import audit_entries, text_of
from tests.conftest import PASSWORD


def _invite(as_admin, **data) -> str:
    r = as_admin.post("/admin/invitationer", data=data)
    assert r.status_code == 200, text_of(r)
    match = re.search(r'value="(http://localhost/invitation/[^"]+)"', r.get_data(as_text=True))
    assert match, "the page shows the link"
    return match.group(1).replace("http://localhost", "")


def test_invited_politician_sets_a_password_and_gets_the_role(
    app, as_admin, make_committee, admin_user, new_client
):
    c = make_committee("Børn og Skole")
    path = _invite(
        as_admin,
        email="Ny.Politiker@Example.dk",
        role="politician",
        party="SF",
        committees=[str(c.id)],
    )
    [entry] = audit_entries("invite_create")
    assert entry.actor_id == admin_user.id and entry.data["email"] == "ny.politiker@example.dk"
    # The invitation list does not show the link again.
    assert "/invitation/" not in as_admin.get("/admin/invitationer").get_data(as_text=True)

    guest = new_client()
    page = guest.get(path)
    assert page.status_code == 200 and "ny.politiker@example.dk" in text_of(page)
    r = guest.post(
        path, data={"display_name": "Nina Politiker", "password": "kort", "confirm": "kort"}
    )
    assert r.status_code == 400 and "Nina Politiker" in r.get_data(as_text=True)
    r = guest.post(
        path, data={"display_name": "Nina Politiker", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert r.status_code == 302
    user = forum_services.get_user_by_email("ny.politiker@example.dk")
    assert (user.role, user.party, [x.id for x in user.committees]) == (
        Role.POLITICIAN,
        "SF",
        [c.id],
    )
    assert user.email_verified_at is not None
    assert guest.get("/konto/adgangskode").status_code == 200  # signed in
    [accepted] = audit_entries("invite_accept")
    assert accepted.actor_id == user.id and accepted.to_state == "politician"
    # The link works once.
    again = new_client().get(path)
    assert again.status_code == 410 and "has been used already" in text_of(again)
    assert db.session.scalar(select(func.count(User.id)).where(User.email == user.email)) == 1


def test_an_existing_account_gets_the_role_offer_instead(
    app, as_admin, make_user, make_area, new_client
):
    area = make_area("Tølløse")
    user = make_user(email="kirsten@kommune.example")
    path = _invite(
        as_admin, email="kirsten@kommune.example", role="moderator", areas=[str(area.id)]
    )
    owner = new_client()
    page = owner.get(path)
    assert page.status_code == 200 and "already has an account" in text_of(page)
    assert 'name="password"' not in page.get_data(as_text=True)  # no second account
    owner.post("/login", data={"email": user.email, "password": PASSWORD})
    r = owner.post(path)
    assert r.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.role == Role.MODERATOR and [a.id for a in user.moderated_areas] == [area.id]
    assert db.session.scalar(select(func.count(User.id))) == 2  # the admin and Kirsten
    assert owner.get(path).status_code == 410


def test_someone_else_cannot_accept_an_offer(app, as_admin, make_user, new_client):
    make_user(email="owner@example.dk")
    intruder = make_user(email="intruder@example.dk")
    path = _invite(as_admin, email="owner@example.dk", role="politician")
    c = new_client()
    c.post("/login", data={"email": intruder.email, "password": PASSWORD})
    assert "logged in with another account" in text_of(c.get(path))
    assert c.post(path).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, intruder.id).role == Role.CITIZEN
    assert db.session.scalar(select(Invitation.used_at)) is None


def test_expired_and_tampered_links_get_a_clear_page(app, as_admin, new_client):
    path = _invite(as_admin, email="sen@example.dk", role="moderator")
    inv = db.session.scalar(select(Invitation))
    inv.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    r = new_client().get(path)
    assert r.status_code == 410 and "The link has expired." in text_of(r)
    r = new_client().post(
        path, data={"display_name": "Sen Person", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert r.status_code == 410
    assert forum_services.get_user_by_email("sen@example.dk") is None
    r = new_client().get(path[:-3] + "xyz")
    assert r.status_code == 404 and "The link is not valid." in text_of(r)


def test_invitation_form_errors(as_admin):
    r = as_admin.post(
        "/admin/invitationer", data={"email": "ikke-en-adresse", "role": "politician"}
    )
    assert r.status_code == 400 and "Enter a valid e-mail address." in text_of(r)
    assert "ikke-en-adresse" in r.get_data(as_text=True)
    r = as_admin.post("/admin/invitationer", data={"email": "a@example.dk", "role": "admin"})
    assert r.status_code == 400
    assert db.session.scalar(select(func.count(Invitation.id))) == 0
