"""Configuration: safe defaults for the embedded setup, overridden by the environment.

Nothing is read from the environment at import time; ``load_config`` does it when the
factory runs, so tests can pass their own values.
"""

from __future__ import annotations

import hashlib
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
    # Redis gone (restarting): count in this process's memory until it answers again, rather
    # than fail every limited request with a 500 (bench/topology.py restarts Redis).
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_LOGIN_IP": "20 per minute;100 per hour",
    "RATELIMIT_LOGIN_ACCOUNT": "5 per minute;30 per hour",
    "RATELIMIT_REGISTER": "10 per hour",
    "RATELIMIT_POST": "30 per minute",
    # The other forms (forum/ratelimits.py): per account when signed in, else per address.
    "RATELIMIT_TOPIC": "10 per hour;30 per day",  # topic proposals by citizens
    "RATELIMIT_PASSWORD_CHANGE": "5 per minute;20 per hour",
    "RATELIMIT_FLAG": "20 per hour",  # reports of posts
    "RATELIMIT_APPEAL": "5 per hour;20 per day",
    "RATELIMIT_WRITE": "60 per minute;600 per hour",
    "RATELIMIT_STAFF": "300 per minute",
    # How many proxies in front of the app add X-Forwarded-For/-Proto (nginx: 1). 0 trusts
    # none: the headers are ignored and the socket's address counts.
    "TRUSTED_PROXIES": 0,
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
    # Seconds a PostgreSQL connection attempt may take (psycopg's connect_timeout), so an
    # unreachable database fails a start or a request in seconds, not minutes.
    "DATABASE_CONNECT_TIMEOUT": 5,
}

# Forced under BORGERDIALOG_ENV=production, whatever else says otherwise: cookies only over
# HTTPS and never readable by scripts, external links in https, no debugger (FLASK_DEBUG).
PRODUCTION: dict[str, object] = {
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PREFERRED_URL_SCHEME": "https",
    "DEBUG": False,
    "TEMPLATES_AUTO_RELOAD": False,
}

# Environment variables read by ``load_config`` (documented in README.md).
ENV_VARS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "DATABASE_CONNECT_TIMEOUT",
    "REDIS_URL",
    "SEARCH_INDEX_DIR",
    "BORGERDIALOG_ENV",
    "LIVE_CHANNEL_PREFIX",
    "TRUSTED_PROXIES",
    "LIVE_ALLOWED_ORIGINS",
    "SOCKETIO_ASYNC_MODE",
    "MODERATION_REMINDER_WORKER",
    "BUDGETS_SCHEDULER",
    "QA_WORKER",
    "PRIVACY_WORKER",
    "FANOUT_WORKER",
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


def deployment_prefix(secret_key: str) -> str:
    """A name for the deployment derived from its SECRET_KEY (which all its instances share
    and no other deployment may), without revealing anything about the key."""
    digest = hashlib.sha256(b"borgerdialog-deployment:" + secret_key.encode()).hexdigest()
    return "borgerdialog-" + digest[:16]


def _trusted_proxies(value) -> int:
    try:
        count = int(value or 0)
    except (TypeError, ValueError):
        count = -1
    if not 0 <= count <= 10:
        raise ConfigError(
            "TRUSTED_PROXIES must be a whole number from 0 to 10: how many proxies in front of "
            "Borgerdialog set X-Forwarded-For (0 when clients connect directly, 1 behind one "
            f"nginx), not {value!r}."
        )
    return count


def _with_connect_timeout(app: Flask) -> None:
    raw = app.config.get("DATABASE_CONNECT_TIMEOUT")
    try:
        seconds = int(raw)
    except (TypeError, ValueError):
        seconds = 0
    if not 1 <= seconds <= 300:
        raise ConfigError(
            "DATABASE_CONNECT_TIMEOUT must be a whole number of seconds from 1 to 300, "
            f"not {raw!r}."
        )
    app.config["DATABASE_CONNECT_TIMEOUT"] = seconds
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])  # not the shared default
        options["connect_args"] = {"connect_timeout": seconds, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def serving_address(environ=None) -> tuple[str, int]:
    """Where ``python app.py`` (and ``./dev.sh start``) listens: ``HOST`` (default 127.0.0.1,
    this machine only) and ``PORT`` (default 5000; macOS's AirPlay receiver takes 5000)."""
    env = os.environ if environ is None else environ
    host = (env.get("HOST") or "127.0.0.1").strip()
    raw = (env.get("PORT") or "5000").strip()
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"PORT must be a port number from 1 to 65535, not {raw!r}.")
    return host, int(raw)


def served_url(host: str, port: int) -> str:
    """The address people reach the site at when it is served on ``host``:``port``."""
    if host in ("0.0.0.0", "::", "*"):  # every interface: this machine is reachable as
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def load_config(app: Flask, test_config: dict | None = None) -> None:
    """Fill ``app.config``: defaults, then the environment, then ``test_config``."""
    app.config.from_mapping(DEFAULTS)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if test_config is None:
        for name in ENV_VARS:
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        if not os.environ.get("MAIL_BASE_URL"):
            # Links in mails lead where ``python app.py`` serves the site (HOST, PORT);
            # the mail package reads MAIL_BASE_URL itself when it is set.
            app.config["MAIL_BASE_URL"] = served_url(*serving_address())
    else:
        app.config.from_mapping(test_config)
    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["DATABASE_URL"])
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'borgerdialog.sqlite3'}"
    )
    _with_connect_timeout(app)
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
    app.config["TRUSTED_PROXIES"] = _trusted_proxies(app.config.get("TRUSTED_PROXIES"))
    # What this deployment's names in a shared Redis begin with: Redis pub/sub channels
    # ignore the database number, so staging and production on one Redis would otherwise
    # hear each other's live messages and forced disconnects (and share rate limits).
    if not app.config.get("LIVE_CHANNEL_PREFIX"):
        app.config["LIVE_CHANNEL_PREFIX"] = deployment_prefix(app.config["SECRET_KEY"])
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["LIVE_CHANNEL_PREFIX"])
    if app.config["BORGERDIALOG_ENV"] == "production":
        # Assigned, not ``setdefault``: Flask already defines SESSION_COOKIE_SECURE (False),
        # DEBUG, TESTING and PREFERRED_URL_SCHEME, so a default would never take effect.
        app.config.update(PRODUCTION)
