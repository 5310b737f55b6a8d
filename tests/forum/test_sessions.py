"""Logging out ends that login on the server; logging out everywhere ends them all."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import UserSession

from ..conftest import PASSWORD

REMEMBER = "remember_token"


def _signed_in(client) -> bool:
    r = client.get("/notifikationer")
    assert r.status_code in (200, 302)
    return r.status_code == 200


def _copy(app, source, names=None):
    """A second browser holding a copy of ``source``'s cookies (all, or only ``names``)."""
    copy = app.test_client()
    for name in names or [app.config["SESSION_COOKIE_NAME"], REMEMBER]:
        cookie = source.get_cookie(name)
        if cookie is not None:
            copy.set_cookie(name, cookie.value)
    return copy


def _device(app, user, remember=False):
    c = app.test_client()
    data = {"email": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert c.post("/login", data=data).status_code == 302
    return c


def test_logout_ends_that_session_even_for_a_copied_cookie(app, client, make_user, login):
    me = make_user()
    login(me)
    stolen = _copy(app, client, [app.config["SESSION_COOKIE_NAME"]])
    laptop = _device(app, me)
    assert _signed_in(stolen) and _signed_in(laptop)

    r = client.post("/logout")
    assert r.status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(stolen)  # the copy of the logged-out session no longer opens pages
    assert _signed_in(laptop)  # the user's other device stays signed in


def test_logout_ends_the_remember_me_cookie_of_that_session(app, client, make_user, login):
    me = make_user()
    login(me, remember=True)
    remembered = _copy(app, client, [REMEMBER])  # only the long-lived cookie
    assert client.get_cookie(REMEMBER) is not None
    assert _signed_in(remembered)
    client.post("/logout")
    assert not _signed_in(_copy(app, remembered, [REMEMBER]))
    fresh = _copy(app, client, [REMEMBER])
    assert not _signed_in(fresh)


def test_logout_everywhere_ends_every_session_and_remember_me(app, client, make_user, login):
    me, other = make_user(), make_user()
    login(me)
    phone = _device(app, me, remember=True)
    phone_remembered = _copy(app, phone, [REMEMBER])
    someone_else = _device(app, other)
    assert _signed_in(phone_remembered)

    r = client.post("/konto/log-ud-overalt")
    assert r.status_code == 302
    for c in (client, phone, phone_remembered, _copy(app, phone)):
        assert not _signed_in(c)
    assert _signed_in(someone_else)
    assert db.session.scalar(select(func.count()).where(UserSession.user_id == me.id)) == 0
    # Signing in again works, and only the new login counts.
    login(me)
    assert _signed_in(client)
    assert not _signed_in(phone)


def test_logout_everywhere_needs_a_signed_in_post(client, make_user):
    assert client.get("/konto/log-ud-overalt").status_code == 405
    r = client.post("/konto/log-ud-overalt")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_logout_everywhere_is_a_csrf_protected_button_on_the_account_page(app, client, make_user):
    me = make_user()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    r = client.post("/login", data={"email": me.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    profile = client.get(f"/profil/{me.id}").get_data(as_text=True)
    assert 'action="/konto/log-ud-overalt"' in profile
    # Without the form's token: refused, nothing ended.
    assert client.post("/konto/log-ud-overalt").status_code == 400
    assert _signed_in(client)
    form_token = profile.split('action="/konto/log-ud-overalt"')[1]
    form_token = form_token.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/konto/log-ud-overalt", data={"csrf_token": form_token})
    assert r.status_code == 302
    assert not _signed_in(client)


def test_a_new_password_keeps_this_login_and_ends_the_others(app, client, make_user, login):
    me = make_user()
    login(me)
    other = _device(app, me, remember=True)
    r = client.post(
        "/konto/adgangskode",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-password-2026",
            "confirm": "a-brand-new-password-2026",
        },
    )
    assert r.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(other)
    assert not _signed_in(_copy(app, other, [REMEMBER]))
    assert db.session.scalar(select(func.count()).where(UserSession.user_id == me.id)) == 1


def test_cookies_of_the_old_format_and_forged_keys_do_not_sign_in(app, client, make_user):
    from forum.sessions import load_user

    me = make_user()
    assert load_user(f"{me.id}:{me.session_version}") is None
    assert load_user(f"{me.id}:" + "x" * 43) is None
    assert load_user("garbage") is None
