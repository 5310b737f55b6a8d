"""People in the browser: find, change role (party, committees, chair, moderator areas),
deactivate and reactivate, and the rules that keep an admin."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.models import Committee, Role, User, UserSession
from tests.admin.conftest import audit_entries, text_of
from tests.conftest import PASSWORD


def test_find_people_by_name_email_role_and_area(as_admin, make_user, make_area, app):
    area = make_area("Tølløse", "toelloese")
    make_user(name="Mette Kristensen", email="mette@example.dk")
    make_user(name="Søren Mikkelsen", email="soeren@example.dk")
    make_user("moderator", name="Kirsten Lauridsen", email="k@kommune.example", areas=[area])
    r = as_admin.get("/admin/personer?q=METTE")
    assert r.status_code == 200
    text = text_of(r)
    assert "Mette Kristensen" in text and "Søren Mikkelsen" not in text
    text = text_of(as_admin.get("/admin/personer?q=soeren@"))
    assert "Søren Mikkelsen" in text and "Mette" not in text
    text = text_of(as_admin.get("/admin/personer?role=moderator"))
    assert "Kirsten Lauridsen" in text and "Mette" not in text
    text = text_of(as_admin.get(f"/admin/personer?area_id={area.id}"))
    assert "Kirsten Lauridsen" in text and "Mette" not in text
    # "%" is a character to find, not a wildcard.
    assert "0 people found." in text_of(as_admin.get("/admin/personer?q=%25"))
    assert as_admin.get("/admin/personer?role=king").status_code == 400


def test_people_are_paginated(as_admin, make_user, app):
    app.config["ADMIN_USERS_PER_PAGE"] = 2
    for i in range(4):
        make_user(name=f"Borger {i}")
    first = text_of(as_admin.get("/admin/personer"))  # 5 with the admin
    assert "5 people found." in first and "Page 1 of 3" in first
    third = text_of(as_admin.get("/admin/personer?side=3"))
    assert "Page 3 of 3" in third and "Borger 3" in third


def test_make_a_citizen_a_politician_with_party_committees_and_chair(
    as_admin, make_user, make_committee, admin_user
):
    c1, c2 = make_committee("Børn og Skole"), make_committee("Økonomi")
    user = make_user(name="Lone Bjerregaard")
    r = as_admin.post(
        f"/admin/personer/{user.id}",
        data={
            "role": "politician",
            "party": "SF",
            "committees": [str(c1.id), str(c2.id)],
            "chairs": [str(c1.id)],
        },
    )
    assert r.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.role == Role.POLITICIAN and user.party == "SF"
    assert {c.id for c in user.committees} == {c1.id, c2.id}
    assert db.session.get(Committee, c1.id).chair_id == user.id
    [entry] = audit_entries("role_change")
    assert (entry.actor_id, entry.subject_user_id) == (admin_user.id, user.id)
    assert (entry.from_state, entry.to_state) == ("citizen", "politician")
    assert entry.data["before"]["role"] == "citizen"
    assert entry.data["after"]["chair_of"] == [db.session.get(Committee, c1.id).slug]
    # Chair of a committee they are not in: a form error, nothing changes.
    r = as_admin.post(
        f"/admin/personer/{user.id}",
        data={
            "role": "politician",
            "party": "SF",
            "committees": [str(c1.id)],
            "chairs": [str(c2.id)],
        },
    )
    assert r.status_code == 400
    assert "A chair must be a member of the committee." in text_of(r)
    db.session.expire_all()
    assert len(db.session.get(User, user.id).committees) == 2
    # Becoming a citizen again drops party, committees and the chair (set-role's rules).
    as_admin.post(f"/admin/personer/{user.id}", data={"role": "citizen", "party": "SF"})
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.role, user.party, user.committees) == (Role.CITIZEN, None, [])
    assert db.session.get(Committee, c1.id).chair_id is None


def test_moderator_areas(as_admin, make_user, make_area):
    a = make_area("Jyderup")
    user = make_user()
    r = as_admin.post(
        f"/admin/personer/{user.id}", data={"role": "moderator", "areas": [str(a.id)]}
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert [x.id for x in db.session.get(User, user.id).moderated_areas] == [a.id]
    r = as_admin.post(f"/admin/personer/{user.id}", data={"role": "moderator", "areas": ["999999"]})
    assert r.status_code == 400


def test_the_last_admin_cannot_stop_being_one(as_admin, admin_user):
    r = as_admin.post(f"/admin/personer/{admin_user.id}", data={"role": "citizen"})
    assert r.status_code == 409
    assert "This is the last admin: make someone else admin first." in text_of(r)
    r = as_admin.post(f"/admin/personer/{admin_user.id}/aktiv", data={"active": "0"})
    assert r.status_code == 409
    assert "This is the last admin: make someone else admin first." in text_of(r)
    db.session.expire_all()
    user = db.session.get(User, admin_user.id)
    assert user.role == Role.ADMIN and user.deactivated_at is None
    assert audit_entries("role_change") == [] and audit_entries("user_deactivate") == []


def test_an_admin_cannot_remove_their_own_admin_role(as_admin, admin_user, make_user):
    make_user("admin")  # not the last admin: still refused for oneself
    r = as_admin.post(f"/admin/personer/{admin_user.id}", data={"role": "citizen"})
    assert r.status_code == 409
    assert "You cannot remove your own admin role" in text_of(r)
    r = as_admin.post(f"/admin/personer/{admin_user.id}/aktiv", data={"active": "0"})
    assert r.status_code == 409
    assert "You cannot deactivate your own account." in text_of(r)
    db.session.expire_all()
    assert db.session.get(User, admin_user.id).role == Role.ADMIN
    assert audit_entries("role_change") == []


def test_another_admin_can_be_demoted(as_admin, make_user):
    other = make_user("admin")
    r = as_admin.post(f"/admin/personer/{other.id}", data={"role": "moderator"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, other.id).role == Role.MODERATOR


def test_a_deactivated_admin_may_not_administer(app, client, login, make_user, admin_user):
    from admin import services

    other = make_user("admin")
    services.set_active(admin_user, other, False)
    db.session.commit()
    assert login(other).status_code == 200  # refused at the door
    assert client.get("/admin/").status_code == 302


def test_deactivate_ends_sessions_and_blocks_login(
    app, as_admin, make_user, admin_user, new_client
):
    user = make_user(name="Ole Kjærgaard", email="ole@example.dk")
    other = new_client()
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert other.get("/konto/adgangskode").status_code == 200  # signed in
    r = as_admin.post(f"/admin/personer/{user.id}/aktiv", data={"active": "0"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).deactivated_at is not None
    assert db.session.scalar(select(UserSession).where(UserSession.user_id == user.id)) is None
    # Their open session has ended: a login-only page sends them to log in.
    assert other.get("/konto/adgangskode").status_code == 302
    r = other.post("/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200 and "This account has been deactivated." in text_of(r)
    assert other.get("/konto/adgangskode").status_code == 302
    [entry] = audit_entries("user_deactivate")
    assert (entry.actor_id, entry.target_id, entry.to_state) == (
        admin_user.id,
        user.id,
        "deactivated",
    )
    # Reactivated, they can log in again.
    as_admin.post(f"/admin/personer/{user.id}/aktiv", data={"active": "1"})
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert len(audit_entries("user_reactivate")) == 1


def test_admin_actions_read_well_in_the_audit_log(as_admin, make_user):
    user = make_user(name="Pia Politiker")
    as_admin.post(f"/admin/personer/{user.id}", data={"role": "politician", "party": "SF"})
    page = as_admin.get("/moderation/audit")
    assert page.status_code == 200
    text = text_of(page)
    assert "Role changed" in text and "Pia Politiker" in text
    assert "citizen" in text and "politician" in text
