"""Configuration: safe defaults for the embedded setup, overridden by the environment.

Nothing is read from the environment at import time; ``load_config`` does it when the
factory runs, so tests can pass their own values.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says what to set."""


DEFAULTS: dict[str, object] = {
    "BORGERDIALOG_ENV": "embedded",  # "embedded" (default, one process) or "production"
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "BABEL_DEFAULT_LOCALE": "da",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Copenhagen",
    "LANGUAGES": ("da", "en"),
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
    "MAX_CONTENT_LENGTH": 256 * 1024,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_LOGIN_IP": "20 per minute;100 per hour",
    "RATELIMIT_LOGIN_ACCOUNT": "5 per minute;30 per hour",
    "RATELIMIT_REGISTER": "10 per hour",
    "RATELIMIT_POST": "30 per minute",
    "THREAD_DISPLAY_DEPTH": 4,
    # A page of a long debate: at most this many top-level posts (each with its replies)
    # and this many shown posts (see forum/queries.py, split_pages).
    "THREAD_PAGE_ROOTS": 20,
    "THREAD_PAGE_POSTS": 30,
    "TOPICS_PER_PAGE": 30,
    "PROFILE_POSTS_PER_PAGE": 30,
    "NOTIFICATIONS_PER_PAGE": 50,
    "PASSWORD_HASH_METHOD": "scrypt",
    "TITLE_MIN": 5,
    "TITLE_MAX": 200,
    "BODY_MIN": 1,
    "BODY_MAX": 10_000,
    "REDIS_URL": None,
    "SEARCH_INDEX_DIR": None,
}

# Environment variables read by ``load_config`` (documented in README.md).
ENV_VARS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "SEARCH_INDEX_DIR",
    "BORGERDIALOG_ENV",
    "LIVE_ALLOWED_ORIGINS",
    "SOCKETIO_ASYNC_MODE",
    "MODERATION_REMINDER_WORKER",
    "BUDGETS_SCHEDULER",
    "QA_WORKER",
)


def _embedded_secret(instance: Path) -> str:
    """Return the secret kept in ``instance/secret_key``, creating it on first run."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_hex(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def _normalise_db_url(url: str) -> str:
    # Hosted PostgreSQL often hands out postgres:// URLs; SQLAlchemy wants a driver name.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(app: Flask, test_config: dict | None = None) -> None:
    """Fill ``app.config``: defaults, then the environment, then ``test_config``."""
    app.config.from_mapping(DEFAULTS)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if test_config is None:
        for name in ENV_VARS:
            if os.environ.get(name):
                app.config[name] = os.environ[name]
    else:
        app.config.from_mapping(test_config)

    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["DATABASE_URL"])
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'borgerdialog.sqlite3'}"
    )
    if not app.config.get("SEARCH_INDEX_DIR"):
        app.config["SEARCH_INDEX_DIR"] = str(instance / "search-index")
    if app.config.get("REDIS_URL") and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]

    if not app.config.get("SECRET_KEY"):
        if app.config["BORGERDIALOG_ENV"] == "production":
            raise ConfigError(
                "SECRET_KEY is not set. In production Borgerdialog refuses to start without it: "
                "set SECRET_KEY to a long random value (for example the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`)."
            )
        app.config["SECRET_KEY"] = _embedded_secret(instance)
    if app.config["BORGERDIALOG_ENV"] == "production":
        app.config.setdefault("SESSION_COOKIE_SECURE", True)
        app.config.setdefault("REMEMBER_COOKIE_SECURE", True)
