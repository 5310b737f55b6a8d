"""Verified accounts, forgotten passwords and changing the address, through a real SMTP server."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from forum import services as forum_services
from forum.extensions import db
from forum.models import Post, User
from mail import tokens
from mail.models import MailMessage, MessageKind
from tests.conftest import PASSWORD

from .conftest import html_part, link, text_part

NEW_PASSWORD = "et-helt-nyt-kodeord"


def register(client, email="ny@example.dk", name="Nina Nielsen"):
    return client.post(
        "/registrer",
        data={
            "email": email,
            "display_name": name,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "accept": "y",
        },
    )


def log_in(client, email="ny@example.dk", password=PASSWORD) -> None:
    assert client.post("/login", data={"email": email, "password": password}).status_code == 302


def logged_in(client) -> bool:
    return b'action="/logout"' in client.get("/").data


def outbox_count(kind: MessageKind | None = None) -> int:
    stmt = select(func.count(MailMessage.id))
    if kind is not None:
        stmt = stmt.where(MailMessage.kind == kind)
    return db.session.scalar(stmt) or 0


# --- verification ------------------------------------------------------------------------------


def test_registration_mails_a_link_and_the_unverified_account_may_only_read(
    client, send, make_topic
):
    topic = make_topic()
    assert register(client).status_code == 200 and not logged_in(client)
    log_in(client)
    user = db.session.scalar(select(User).where(User.email == "ny@example.dk"))
    assert user.email_verified_at is None
    home = client.get("/").get_data(as_text=True)
    assert "ny@example.dk" in home and 'action="/konto/bekraeft"' in home  # banner + resend

    r = client.post(f"/emner/{topic.id}/indlaeg", data={"body": "Mit første indlæg"})
    assert r.status_code == 403
    assert "ny@example.dk" in r.get_data(as_text=True)  # says why, and where the link went
    assert db.session.scalar(select(func.count(Post.id))) == 0
    assert client.post(f"/emner/{topic.id}/foelg", data={"follow": "1"}).status_code == 302

    [mail] = send()
    assert mail["To"] == "ny@example.dk"
    assert "List-Unsubscribe" not in mail  # an account mail, not a notification
    path = link(mail, "/konto/bekraeft/")
    assert path in html_part(mail).replace("&amp;", "&")
    page = client.get(path)
    assert page.status_code == 200 and db.session.get(User, user.id).email_verified_at is None
    assert client.post(path).status_code == 302  # GET shows a button; POST confirms
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified_at is not None
    assert 'action="/konto/bekraeft"' not in client.get("/").get_data(as_text=True)

    r = client.post(f"/emner/{topic.id}/indlaeg", data={"body": "Mit første indlæg"})
    assert r.status_code == 302
    again = client.get(path)  # reused: a clear answer, nothing changes
    assert again.status_code == 200 and "already confirmed" in again.get_data(as_text=True)


# --- registering with an address that has an account ----------------------------------------


def _without_csrf(r) -> str:
    # The CSRF token carries a timestamp: on a busy machine two pages are a second apart.
    return re.sub(r'(csrf_token"[^>]*value=")[^"]+', r"\1CSRF", r.get_data(as_text=True))


def _session_keys(client) -> set[str]:
    with client.session_transaction() as sess:
        return set(sess.keys())


def test_registration_answers_the_same_for_a_new_and_a_taken_address(app, make_user, send):
    owner = make_user(email="ole@example.dk", name="Ole Olsen")
    owner_hash = owner.password_hash
    new_client, taken_client = app.test_client(), app.test_client()
    for c in (new_client, taken_client):
        c.set_cookie("lang", "en")
    new = register(new_client, email="ny@example.dk", name="Nina Nielsen")
    taken = register(taken_client, email="OLE@example.dk ", name="Impostor")
    assert new.status_code == taken.status_code == 200
    assert new.headers["Content-Type"] == taken.headers["Content-Type"]
    assert _without_csrf(new) == _without_csrf(taken)
    assert "Check your e-mail" in new.get_data(as_text=True)
    assert "already exists" not in taken.get_data(as_text=True)
    assert _session_keys(new_client) == _session_keys(taken_client)  # neither is logged in
    assert not logged_in(new_client) and not logged_in(taken_client)

    # No second account; the owner's account is untouched.
    db.session.expire_all()
    owners = db.session.scalars(select(User).where(func.lower(User.email) == "ole@example.dk"))
    [same] = owners.all()
    assert same.id == owner.id and same.password_hash == owner_hash
    assert same.display_name == "Ole Olsen"

    mails = {m["To"]: m for m in send()}
    assert set(mails) == {"ny@example.dk", "ole@example.dk"}
    assert "/konto/bekraeft/" in text_part(mails["ny@example.dk"])
    notice = mails["ole@example.dk"]
    assert notice["Subject"] == "Someone tried to create an account with your address"
    text = text_part(notice)
    assert "ole@example.dk" in text and "no new one was made" in text
    assert link(notice, "/login") and link(notice, "/glemt-adgangskode")
    assert "/konto/" not in text  # no token: the links are the public pages
    assert 'href="http://borgerdialog.test/login"' in html_part(notice)

    # The owner logs in as before; the new account logs in with the password it chose.
    log_in(taken_client, "ole@example.dk")
    log_in(new_client, "ny@example.dk")


def test_registration_takes_the_same_time_for_a_new_and_a_taken_address(app, make_user):
    make_user(email="ole@example.dk")
    client = app.test_client()

    def took(email: str) -> float:
        started = time.perf_counter()
        assert register(client, email=email).status_code == 200
        return time.perf_counter() - started

    register(client, email="warm@example.dk")
    new = sorted(took(f"ny{i}@example.dk") for i in range(5))[2]
    taken = sorted(took("ole@example.dk") for _ in range(5))[2]
    assert new / 5 < taken < new * 5, (new, taken)  # the same order of magnitude


def test_the_owner_is_told_a_few_times_an_hour_at_most(app, make_user, send):
    make_user(email="ole@example.dk")
    for _ in range(6):
        assert register(app.test_client(), email="ole@example.dk").status_code == 200
    assert outbox_count(MessageKind.ACCOUNT_EXISTS) == app.config["MAIL_ACCOUNT_EXISTS_PER_HOUR"]
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_the_notice_is_in_the_owners_language(client, make_user, send):
    make_user(email="ole@example.dk", locale="da")
    register(client, email="ole@example.dk")
    [mail] = send()
    assert "Nogen" in mail["Subject"] and "/glemt-adgangskode" in text_part(mail)


def test_confirming_right_after_registering_leads_to_the_login(client, send):
    register(client)
    [mail] = send()
    r = client.post(link(mail, "/konto/bekraeft/"))
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert "Log in to take part" in client.get("/login").get_data(as_text=True)


class TestRegistrationFlood:
    @pytest.fixture
    def app_config(self, mail_config):
        return {**mail_config, "RATELIMIT_ENABLED": True, "RATELIMIT_REGISTER": "3 per hour"}

    def test_registering_again_and_again_is_refused(self, client, make_user):
        make_user(email="ole@example.dk")
        codes = [register(client, email="ole@example.dk").status_code for _ in range(3)]
        codes += [register(client, email=f"ny{i}@example.dk").status_code for i in range(2)]
        assert codes == [200, 200, 200, 429, 429]
        assert db.session.scalar(select(func.count(User.id))) == 1


def test_the_confirmation_page_puts_confirm_first(client, send):
    """The page a link opens offers "Confirm my address" as its one action: the banner's
    "Send the link again" (shown everywhere else until the address is confirmed) came first."""
    register(client)
    log_in(client)  # registering no longer signs in (it would tell a taken address)
    [mail] = send()
    page = client.get(link(mail, "/konto/bekraeft/")).get_data(as_text=True)
    assert 'action="/konto/bekraeft"' not in page  # no resend form on this page
    assert page.index("Confirm my address") < page.index("</main>")
    assert 'action="/konto/bekraeft"' in client.get("/").get_data(as_text=True)  # elsewhere


def test_resend_is_limited(client, send, app):
    register(client)
    log_in(client)
    for _ in range(5):
        client.post("/konto/bekraeft")
    assert outbox_count(MessageKind.VERIFY_EMAIL) == app.config["MAIL_VERIFY_PER_HOUR"]
    assert len(send()) == app.config["MAIL_VERIFY_PER_HOUR"]


def test_accounts_made_by_the_admin_cli_count_as_verified(runner):
    r = runner.invoke(
        args=["users", "create", "kl@holbaek.example", "Karen Lund", "--password", PASSWORD]
    )
    assert r.exit_code == 0, r.output
    assert forum_services.get_user_by_email("kl@holbaek.example").email_verified_at is not None


def _token_in_the_past(make, user, seconds: int) -> str:
    real = TimestampSigner.get_timestamp
    TimestampSigner.get_timestamp = lambda self: int(time.time()) - seconds
    try:
        return make(user)
    finally:
        TimestampSigner.get_timestamp = real


@pytest.mark.parametrize(
    "bad",
    ["tampered", "foreign_purpose", "foreign_key", "garbage", "expired", "gone_user"],
)
def test_bad_verification_links_get_a_clear_page(client, make_user, app, bad):
    user = make_user(verified=False)
    good = tokens.verify_token(user)
    token = {
        "tampered": good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb"),
        "foreign_purpose": tokens.reset_token(user),
        "foreign_key": URLSafeTimedSerializer("other-secret", salt=tokens.VERIFY).dumps(
            {"u": user.id, "e": user.email}
        ),
        "garbage": "%%%not-a-token",
        "expired": _token_in_the_past(
            tokens.verify_token, user, app.config["MAIL_VERIFY_MAX_AGE"] + 10
        ),
        "gone_user": URLSafeTimedSerializer("test-secret", salt=tokens.VERIFY).dumps(
            {"u": 999_999, "e": "x@example.dk"}
        ),
    }[bad]
    for method in (client.get, client.post):
        r = method(f"/konto/bekraeft/{token}")
        assert r.status_code == (410 if bad == "expired" else 400)
        text = r.get_data(as_text=True)
        assert ("expired" if bad == "expired" else "not valid") in text
        assert 'href="/login"' in text  # a way forward
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified_at is None


# --- forgotten password -------------------------------------------------------------------------


def test_forgot_password_answers_the_same_for_unknown_addresses(client, make_user, send):
    user = make_user()
    known = client.post("/glemt-adgangskode", data={"email": user.email.upper()})
    unknown = client.post("/glemt-adgangskode", data={"email": "nobody@example.dk"})
    assert known.status_code == unknown.status_code == 200

    def body(r, address):
        # The CSRF token carries a timestamp: on a busy machine the two pages are a second
        # apart. Everything else must be the same.
        text = r.get_data(as_text=True).replace(address, "ADDRESS")
        return re.sub(r'(csrf_token"[^>]*value=")[^"]+', r"\1CSRF", text)

    assert body(known, user.email.upper()) == body(unknown, "nobody@example.dk")
    [mail] = send()
    assert mail["To"] == user.email


def test_reset_link_works_once_and_ends_other_sessions(app, make_user, send):
    user = make_user()
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    assert logged_in(other)
    client = app.test_client()
    client.set_cookie("lang", "en")
    client.post("/glemt-adgangskode", data={"email": user.email})
    [mail] = send()
    path = link(mail, "/konto/nulstil/")
    assert "60 minutes" in text_part(mail)

    assert client.get(path).status_code == 200
    short = client.post(path, data={"password": "kort", "confirm": "kort"})
    assert short.status_code == 400  # a form error; the link still works
    r = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 302 and r.location == "/login"
    db.session.expire_all()  # the request changed the password in a session of its own
    assert forum_services.authenticate(user.email, NEW_PASSWORD) is not None
    assert not logged_in(other)  # the other session ended

    for method in (client.get, client.post):
        again = method(path, data={"password": "endnu-et-kodeord", "confirm": "endnu-et-kodeord"})
        assert again.status_code == 410
        assert "already been used" in again.get_data(as_text=True)
        assert 'href="/glemt-adgangskode"' in again.get_data(as_text=True)
    assert forum_services.authenticate(user.email, NEW_PASSWORD) is not None


def test_expired_reset_link(client, make_user, app):
    user = make_user()
    token = _token_in_the_past(tokens.reset_token, user, app.config["MAIL_RESET_MAX_AGE"] + 5)
    r = client.get(f"/konto/nulstil/{token}")
    assert r.status_code == 410 and "expired" in r.get_data(as_text=True)
    r = client.post(
        f"/konto/nulstil/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert r.status_code == 410
    assert forum_services.authenticate(user.email, PASSWORD) is not None


def test_a_newer_reset_link_does_not_revive_an_older_one(client, make_user):
    user = make_user()
    first = tokens.reset_token(user)
    client.post(
        f"/konto/nulstil/{tokens.reset_token(user)}",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert client.get(f"/konto/nulstil/{first}").status_code == 410


def test_the_address_field_takes_anything_but_mails_only_accounts(client, send):
    for junk in ("not an address", "a@b", "<script>@x.dk", "x" * 300):
        r = client.post("/glemt-adgangskode", data={"email": junk})
        assert r.status_code in (200, 400)
        assert "<script>@" not in r.get_data(as_text=True)
    assert outbox_count() == 0


class TestFloods:
    @pytest.fixture
    def app_config(self, mail_config):
        return {**mail_config, "RATELIMIT_ENABLED": True}

    def test_reset_flood_from_one_ip_is_refused(self, client, make_user, app):
        user = make_user()
        codes = [
            client.post("/glemt-adgangskode", data={"email": f"x{i}@example.dk"}).status_code
            for i in range(7)
        ]
        assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
        r = client.post("/glemt-adgangskode", data={"email": user.email})
        assert r.status_code == 429
        assert outbox_count() == 0

    def test_reset_flood_at_one_address_sends_few_mails(self, app, make_user, send):
        user = make_user()
        for i in range(5):
            c = app.test_client()
            r = c.post(
                "/glemt-adgangskode",
                data={"email": user.email},
                environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"},
            )
            assert r.status_code == 200  # the same answer, mail or not
        assert len(send()) == app.config["MAIL_RESET_PER_ACCOUNT_PER_HOUR"]


# --- changing the address -----------------------------------------------------------------------


def test_change_of_address_takes_effect_when_confirmed_and_tells_the_old_one(
    client, verified_user, login, send
):
    user = verified_user(email="gammel@example.dk")
    login(user)
    r = client.post("/konto/email", data={"new_email": "Ny@Example.dk", "password": PASSWORD})
    assert r.status_code == 302
    db.session.expire_all()
    assert user.email == "gammel@example.dk" and user.pending_email == "ny@example.dk"
    [confirm] = send()
    assert confirm["To"] == "ny@example.dk"
    path = link(confirm, "/konto/email/")
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    db.session.expire_all()
    assert user.email == "ny@example.dk" and user.pending_email is None
    assert user.email_verified_at is not None
    assert logged_in(client)
    [notice] = send()
    assert notice["To"] == "gammel@example.dk"
    assert "n***@example.dk" in text_part(notice) and "ny@example.dk" not in text_part(notice)
    again = client.post(path)
    assert again.status_code == 410
    assert forum_services.authenticate("ny@example.dk", PASSWORD) is not None


def test_change_of_address_refuses_bad_input_and_changes_nothing(
    client, verified_user, make_user, login
):
    user = verified_user()
    taken = make_user()
    login(user)
    for data, message in [
        ({"new_email": "not an address", "password": PASSWORD}, "valid e-mail"),
        ({"new_email": "ok@example.dk", "password": "wrong-password"}, "not right"),
        ({"new_email": taken.email, "password": PASSWORD}, "already exists"),
        ({"new_email": user.email, "password": PASSWORD}, "already your"),
    ]:
        r = client.post("/konto/email", data=data)
        assert r.status_code == 400 and message in r.get_data(as_text=True)
    db.session.expire_all()
    assert user.pending_email is None
    assert outbox_count() == 0


def test_only_the_newest_change_link_works(client, verified_user, login, send):
    user = verified_user()
    login(user)
    client.post("/konto/email", data={"new_email": "first@example.dk", "password": PASSWORD})
    client.post("/konto/email", data={"new_email": "second@example.dk", "password": PASSWORD})
    mails = send()
    assert [m["To"] for m in mails] == ["second@example.dk"]  # the first was superseded
    old = tokens.change_token(user, "first@example.dk")
    assert client.post(f"/konto/email/{old}").status_code == 410
    assert client.post(link(mails[0], "/konto/email/")).status_code == 302
    db.session.expire_all()
    assert user.email == "second@example.dk"


def test_address_taken_before_confirmation(client, verified_user, make_user, login):
    user = verified_user()
    login(user)
    client.post("/konto/email", data={"new_email": "wanted@example.dk", "password": PASSWORD})
    token = tokens.change_token(user, "wanted@example.dk")
    make_user(email="wanted@example.dk")
    r = client.post(f"/konto/email/{token}")
    assert r.status_code == 409 and "already exists" in r.get_data(as_text=True)
    db.session.expire_all()
    assert user.email != "wanted@example.dk" and user.pending_email is None


def test_an_unverified_account_may_not_support_flag_or_open_topics(
    make_user, make_topic, make_post, make_area
):
    from forum.errors import PermissionDenied
    from moderation import services as moderation_services

    topic = make_topic()
    post = make_post(topic)
    newcomer = make_user(verified=False)
    attempts = {
        "support": lambda: forum_services.toggle_support(newcomer, post),
        "flag": lambda: moderation_services.report_post(newcomer, post, "spam"),
        "open_topic": lambda: forum_services.create_topic(
            newcomer, "Et nyt forslag", "Tekst", area_id=make_area().id
        ),
        "reply": lambda: forum_services.create_post(newcomer, topic, "Svar", parent_id=post.id),
    }
    for action, attempt in attempts.items():
        with pytest.raises(
            PermissionDenied, match="Confirm your e-mail address|Bekræft først din e-mailadresse"
        ):
            attempt()
            pytest.fail(f"{action} was allowed")
        db.session.rollback()
    forum_services.set_follow(newcomer, topic, True)  # reading and following stay open
    db.session.commit()
