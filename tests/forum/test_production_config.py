"""The effective configuration of each environment, and what a real response sets."""

from __future__ import annotations

import pytest

from app import create_app

SECRET = "a" * 64


def _production(tmp_path, monkeypatch, **extra):
    # The environment a deployment has: FLASK_DEBUG left on by mistake must not win.
    monkeypatch.setenv("FLASK_DEBUG", "1")
    return create_app(
        {
            "BORGERDIALOG_ENV": "production",
            "SECRET_KEY": SECRET,
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            # An empty database: the start-up checks (schema at the head, tests/ops) would
            # refuse it; this file is about the settings.
            "OPS_STARTUP_CHECKS": False,
            **extra,
        }
    )


def test_production_configuration_is_secure(tmp_path, monkeypatch):
    app = _production(tmp_path, monkeypatch)
    cfg = app.config
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["SESSION_COOKIE_HTTPONLY"] is True
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert cfg["REMEMBER_COOKIE_SECURE"] is True
    assert cfg["REMEMBER_COOKIE_HTTPONLY"] is True
    assert cfg["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert cfg["PREFERRED_URL_SCHEME"] == "https"
    assert cfg["DEBUG"] is False and app.debug is False
    assert cfg["TEMPLATES_AUTO_RELOAD"] is False
    assert cfg["SECRET_KEY"] == SECRET
    assert not (tmp_path / "secret_key").exists()  # never a generated secret in production
    assert cfg["WTF_CSRF_ENABLED"] is not False


def test_production_settings_cannot_be_weakened_by_other_configuration(tmp_path, monkeypatch):
    app = _production(
        tmp_path, monkeypatch, SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_embedded_configuration(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    cfg = app.config
    # Served over plain http on 127.0.0.1: a Secure cookie would never come back.
    assert cfg["SESSION_COOKIE_SECURE"] is False
    assert cfg["SESSION_COOKIE_HTTPONLY"] is True
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert cfg["REMEMBER_COOKIE_HTTPONLY"] is True
    assert cfg["DEBUG"] is False


def _set_cookie(response, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


@pytest.mark.parametrize(
    "app_config", [{"BORGERDIALOG_ENV": "production", "OPS_STARTUP_CHECKS": False}]
)
def test_login_under_production_sets_secure_cookies(app, client, make_user, login):
    user = make_user()
    r = login(user, remember=True)
    assert r.status_code == 302
    session_cookie = _set_cookie(r, app.config["SESSION_COOKIE_NAME"])
    assert "; Secure" in session_cookie
    assert "; HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    remember = _set_cookie(r, app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    assert "; Secure" in remember
    assert "; HttpOnly" in remember
