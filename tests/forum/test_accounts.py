import pytest
from sqlalchemy import select

from forum import services
from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import User
from forum.views import safe_next
from tests.conftest import PASSWORD


def test_register_stores_lowercase_email_and_scrypt_hash(app):
    user = services.register_user("  Mette@Example.DK ", "Mette  Hansen", "en-lang-adgangskode")
    db.session.commit()
    assert user.email == "mette@example.dk"
    assert user.display_name == "Mette Hansen"
    assert user.password_hash.startswith("scrypt:")


def test_email_is_unique_case_insensitively(app):
    services.register_user("mette@example.dk", "Mette", PASSWORD)
    db.session.commit()
    with pytest.raises(InvalidInput) as exc:
        services.register_user("METTE@example.dk", "Anden Mette", PASSWORD)
    assert "email" in exc.value.fields


@pytest.mark.parametrize(
    ("email", "name", "password", "field"),
    [
        ("not-an-address", "Mette", PASSWORD, "email"),
        ("a@b.dk", "M", PASSWORD, "display_name"),
        ("a@b.dk", "x" * 81, PASSWORD, "display_name"),
        ("a@b.dk", "Mette", "short", "password"),
    ],
)
def test_register_rejects_bad_input(app, email, name, password, field):
    with pytest.raises(InvalidInput) as exc:
        services.register_user(email, name, password)
    assert field in exc.value.fields
    assert db.session.scalar(select(User)) is None


def test_register_view_keeps_typed_values_on_error(client):
    r = client.post(
        "/registrer",
        data={
            "email": "ole@example.dk",
            "display_name": "Ole",
            "password": "kort",
            "confirm": "kort",
        },
    )
    assert r.status_code == 400
    assert b'value="ole@example.dk"' in r.data
    assert b'value="Ole"' in r.data
    assert b'aria-invalid="true"' in r.data


def test_register_with_a_taken_address_answers_as_for_a_new_one(client, make_user):
    """No account discovery (tests/mail/test_accounts.py compares the pages and the mails)."""
    owner = make_user(email="ole@example.dk")
    r = client.post(
        "/registrer",
        data={
            "email": "OLE@example.dk",
            "display_name": "Ole",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "accept": "y",
        },
    )
    assert r.status_code == 200
    assert "findes allerede" not in r.get_data(as_text=True)
    assert b'action="/logout"' not in client.get("/").data
    assert [u.id for u in db.session.scalars(select(User))] == [owner.id]


def test_register_then_log_in(client):
    r = client.post(
        "/registrer",
        data={
            "email": "ny@example.dk",
            "display_name": "Ny Borger",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "accept": "y",
        },
    )
    assert r.status_code == 200  # "check your e-mail": the same page as for a taken address
    assert b'action="/logout"' not in client.get("/").data
    r = client.post("/login", data={"email": "ny@example.dk", "password": PASSWORD})
    assert r.status_code == 302
    assert b"Ny Borger" in client.get("/").data


def test_sign_up_with_a_taken_address_hashes_and_returns_the_owner(app, make_user):
    owner = make_user(email="ole@example.dk")
    user, created = services.sign_up("Ole@Example.dk", "Ole", PASSWORD)
    assert user.id == owner.id and not created
    with pytest.raises(InvalidInput) as exc:  # bad input: the same errors for every address
        services.sign_up("ole@example.dk", "Ole", "short")
    assert "password" in exc.value.fields


def test_login_failure_message_is_the_same_for_unknown_and_wrong(client, make_user):
    user = make_user()
    wrong = client.post("/login", data={"email": user.email, "password": "wrong-password!"})
    unknown = client.post("/login", data={"email": "nobody@example.dk", "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 200

    def message(r):
        text = r.get_data(as_text=True)
        start = text.index('class="flash flash-error"')
        return text[start : text.index("</p>", start)]

    assert message(wrong) == message(unknown)


def test_login_logout_and_remember_me(client, make_user, login):
    user = make_user()
    r = login(user, remember=True)
    assert r.status_code == 302
    assert any(c.key == "remember_token" for c in client._cookies.values())
    assert b'action="/logout"' in client.get("/").data
    client.post("/logout")
    assert b'action="/logout"' not in client.get("/").data


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/emner/1", "/emner/1"),
        ("/udvalg?x=1", "/udvalg?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/evil.example", "/"),
        ("", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_login_redirects_only_to_own_paths(client, make_user):
    user = make_user()
    r = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert r.status_code == 302 and r.location == "/"
    client.post("/logout")
    r = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": "/udvalg"})
    assert r.location == "/udvalg"


def test_change_password_ends_other_sessions(app, make_user):
    user = make_user()
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"email": user.email, "password": PASSWORD})
    r = first.post(
        "/konto/adgangskode",
        data={
            "current_password": PASSWORD,
            "new_password": "et-helt-nyt-kodeord",
            "confirm": "et-helt-nyt-kodeord",
        },
    )
    assert r.status_code == 302
    assert b'action="/logout"' in first.get("/").data  # this device stays logged in
    assert b'action="/logout"' not in second.get("/").data  # the other is logged out
    db.session.expire_all()  # the request changed the password in a session of its own
    assert services.authenticate(user.email, "et-helt-nyt-kodeord") is not None


def test_change_password_wrong_current(client, make_user, login):
    user = make_user()
    login(user)
    r = client.post(
        "/konto/adgangskode",
        data={
            "current_password": "not-it-at-all",
            "new_password": "et-helt-nyt-kodeord",
            "confirm": "et-helt-nyt-kodeord",
        },
    )
    assert r.status_code == 400
    assert services.authenticate(user.email, PASSWORD) is not None


class TestRateLimits:
    @pytest.fixture
    def app_config(self):
        return {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_LOGIN_ACCOUNT": "3 per minute",
            "RATELIMIT_LOGIN_IP": "6 per minute",
        }

    def test_login_is_limited_per_account(self, client, make_user):
        user = make_user()
        for _ in range(3):
            assert (
                client.post(
                    "/login", data={"email": user.email, "password": "nope-nope"}
                ).status_code
                == 200
            )
        r = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert r.status_code == 429
        assert "For mange" in r.get_data(as_text=True) or b"Too many" in r.data
        # another account from the same IP is still allowed (until the IP limit)
        other = make_user()
        assert (
            client.post("/login", data={"email": other.email, "password": PASSWORD}).status_code
            == 302
        )

    def test_login_is_limited_per_ip(self, client):
        codes = [
            client.post(
                "/login", data={"email": f"u{i}@example.dk", "password": "x" * 12}
            ).status_code
            for i in range(7)
        ]
        assert codes[:6] == [200] * 6 and codes[6] == 429


def test_users_cli(runner, make_committee, make_area):
    committee = make_committee(slug="oekonomi")
    area = make_area(slug="toelloese")
    r = runner.invoke(
        args=[
            "users",
            "create",
            "Kim@Example.dk",
            "Kim Politiker",
            "--password",
            PASSWORD,
            "--role",
            "politician",
            "--party",
            "SF",
            "--committee",
            "oekonomi",
        ]
    )
    assert r.exit_code == 0, r.output
    kim = services.get_user_by_email("kim@example.dk")
    assert kim.role.value == "politician" and kim.party == "SF" and kim.committees == [committee]
    r = runner.invoke(
        args=["users", "set-role", "kim@example.dk", "moderator", "--area", "toelloese"]
    )
    assert r.exit_code == 0, r.output
    db.session.expire_all()
    kim = services.get_user_by_email("kim@example.dk")
    assert kim.role.value == "moderator" and kim.moderated_areas == [area] and kim.party is None
    r = runner.invoke(args=["users", "list"])
    assert "kim@example.dk" in r.output and "toelloese" in r.output
    r = runner.invoke(args=["users", "set-role", "nobody@example.dk", "admin"])
    assert r.exit_code != 0 and "No account" in r.output
    r = runner.invoke(
        args=["users", "set-role", "kim@example.dk", "politician", "--committee", "nope"]
    )
    assert r.exit_code != 0 and "Unknown committee" in r.output


def test_register_race_on_the_same_email_is_a_field_error(app, monkeypatch):
    """Two registrations pass the lookup at once; the unique index decides, the loser gets the
    form error and the session stays usable."""
    services.register_user("race@example.dk", "Første", PASSWORD)
    db.session.commit()
    monkeypatch.setattr(services, "get_user_by_email", lambda email: None)
    with pytest.raises(InvalidInput) as err:
        services.register_user("race@example.dk", "Anden", PASSWORD)
    assert "email" in err.value.fields
    services.register_user("other@example.dk", "Tredje", PASSWORD)
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 2
