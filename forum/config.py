"""Configuration: one rule for every package (issue 13; docs/ARCHITECTURE.md, "Configuration").

Each package declares its settings in one place, a ``SETTINGS`` declaration (a
:class:`Settings`: the package's :class:`Setting` items, each with its default, whether the
environment may set it, and how its value is parsed and checked). The core's are ``CORE``
below; the feature packages' are handed to :func:`load_config` by the application factory
(``app.py``), so the core imports no feature package. ``load_config`` applies them all under
one rule, before any package's ``init_app`` runs:

1. every declared default;
2. the environment (a variable of the same name, when not empty) — only when no test
   config is given, so tests never see the shell's settings;
3. the test config;
4. every declared setting parsed and checked, then each package's ``finish`` (values derived
   from others, checks across settings). A bad value raises one :class:`ConfigError` whose
   message names the variable, the bad value and what to set.

Background jobs take their mode from their own ``*_WORKER`` setting (declared with
:func:`worker`) when it is set, else from ``WORKERS`` (``thread`` in the embedded default,
``external`` in production).

Nothing is read from the environment at import time.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from flask import Flask


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says what to set."""


# --- declarations ------------------------------------------------------------------------------


class Invalid(ValueError):
    """Raised by a parser: its message says what the value must be ("a whole number")."""


@dataclass(frozen=True)
class Setting:
    """One configuration key: its default, whether the environment may set it (``env``), how
    a value is parsed and checked (``parse``, which raises :class:`Invalid` saying what is
    expected), whether it is a secret (masked by ``flask config``) and what it means."""

    name: str
    default: object = None
    parse: Callable[[object], object] | None = None
    env: bool = False
    secret: bool = False
    doc: str = ""
    worker: bool = False  # a background job's mode: unset means WORKERS


@dataclass(frozen=True)
class Settings:
    """A package's declaration: its settings, and ``finish(app)`` for values derived from
    others and checks across settings (run after every setting is parsed)."""

    package: str
    items: tuple[Setting, ...]
    finish: Callable[[Flask], None] | None = field(default=None, compare=False)

    def names(self) -> list[str]:
        return [s.name for s in self.items]


def defaults(mapping: dict[str, object], **parsers) -> tuple[Setting, ...]:
    """Settings with these defaults, not read from the environment (tuning knobs); ``parsers``
    names the ones whose values are checked."""
    return tuple(Setting(k, v, parse=parsers.get(k)) for k, v in mapping.items())


# --- parsers: each returns the value in its type or raises Invalid(what it must be) ----------


def whole(lo: int | None = None, hi: int | None = None) -> Callable[[object], int]:
    if lo is not None and hi is not None:
        expect = f"a whole number from {lo} to {hi}"
    elif lo is not None:
        expect = f"a whole number of at least {lo}"
    else:
        expect = "a whole number"

    def parse(value: object) -> int:
        if isinstance(value, bool):
            raise Invalid(expect)
        try:
            n = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise Invalid(expect) from None
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise Invalid(expect)
        return n

    return parse


def number(lo: float | None = None) -> Callable[[object], float]:
    expect = "a number" if lo is None else f"a number of at least {lo:g}"

    def parse(value: object) -> float:
        if isinstance(value, bool):
            raise Invalid(expect)
        try:
            n = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise Invalid(expect) from None
        if n != n or (lo is not None and n < lo):  # NaN, too small
            raise Invalid(expect)
        return n

    return parse


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid("true or false (1 or 0)")


def choice(*options: str) -> Callable[[object], str]:
    expect = (
        " or ".join(options) if len(options) < 3 else ", ".join(options[:-1]) + f" or {options[-1]}"
    )

    def parse(value: object) -> str:
        text = str(value).strip().lower()
        if text not in options:
            raise Invalid(expect)
        return text

    return parse


WORKER_MODES = ("thread", "external")
worker_mode = choice(*WORKER_MODES)


def rate_limit(value: object) -> str:
    """A rate limit such as ``30 per minute;500 per hour`` (the limits library's syntax)."""
    from limits import parse_many

    try:
        if not parse_many(str(value)):
            raise ValueError
    except ValueError:
        raise Invalid("rate limits such as '30 per minute;500 per hour'") from None
    return str(value)


def networks(value: object) -> str:
    """Comma-separated networks such as ``127.0.0.1/32,10.0.0.0/8``."""
    items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[arg-type]
    try:
        for item in items:
            if str(item).strip():
                ipaddress.ip_network(str(item).strip(), strict=False)
    except ValueError:
        raise Invalid("networks such as 127.0.0.1/32,10.0.0.0/8 (comma-separated)") from None
    return value  # type: ignore[return-value]


def origins(value: object) -> tuple[str, ...]:
    """Comma-separated origins (the environment) or a list (a test config)."""
    items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[arg-type]
    return tuple(o.strip().rstrip("/") for o in map(str, items) if o.strip())


def worker(name: str, doc: str = "") -> Setting:
    """A background job's mode: ``thread`` or ``external``; unset, it follows ``WORKERS``."""
    return Setting(name, None, parse=worker_mode, env=True, doc=doc, worker=True)


def _text(value: object) -> str:
    return str(value).strip()


# --- the core's settings -------------------------------------------------------------------

_RATE_LIMITS = {
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
}

CORE = Settings(
    "forum",
    (
        Setting(
            "BORGERDIALOG_ENV",
            "embedded",
            choice("embedded", "production"),
            env=True,
            doc="embedded (one process, threads) or production",
        ),
        Setting("SECRET_KEY", None, _text, env=True, secret=True, doc="signs sessions"),
        Setting("DATABASE_URL", None, _text, env=True, secret=True, doc="the database"),
        Setting(
            "DATABASE_CONNECT_TIMEOUT",
            5,
            whole(1, 300),
            env=True,
            # Seconds a PostgreSQL connection attempt may take (psycopg's connect_timeout),
            # so an unreachable database fails a start or a request in seconds, not minutes.
            doc="seconds a PostgreSQL connection attempt may take",
        ),
        Setting("REDIS_URL", None, _text, env=True, secret=True, doc="Redis"),
        Setting("SEARCH_INDEX_DIR", None, _text, env=True, doc="this node's search index"),
        Setting("LIVE_CHANNEL_PREFIX", None, _text, env=True),
        # How many proxies in front of the app add X-Forwarded-For/-Proto (nginx: 1). 0
        # trusts none: the headers are ignored and the socket's address counts.
        Setting("TRUSTED_PROXIES", 0, whole(0, 10), env=True),
        Setting("LIVE_ALLOWED_ORIGINS", (), origins, env=True),
        Setting("SOCKETIO_ASYNC_MODE", None, choice("threading", "gevent"), env=True),
        Setting(
            "WORKERS",
            None,
            worker_mode,
            env=True,
            doc="every background job: thread (embedded) or external (production)",
        ),
        worker("FANOUT_WORKER", "telling a new post's readers (flask fanout worker)"),
        Setting("FANOUT_BATCH_SIZE", 250, whole(1)),  # recipients per transaction
        # seconds between looks when nothing woke the worker
        Setting("FANOUT_POLL_INTERVAL", 0.5, number(0.01)),
        Setting("FANOUT_DRAIN_WHEN_TESTING", True, flag),
        *(Setting(k, v, rate_limit, env=True) for k, v in _RATE_LIMITS.items()),
        *defaults(
            {
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
                # Redis gone (restarting): count in this process's memory until it answers
                # again, rather than fail every limited request with a 500
                # (bench/topology.py restarts Redis).
                "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
                "RATELIMIT_HEADERS_ENABLED": True,
                "THREAD_DISPLAY_DEPTH": 4,
                # A page of a long debate: at most this many top-level posts (each with its
                # replies) and this many shown posts (see forum/queries.py, split_pages).
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
            }
        ),
    ),
)

# The core's defaults by name (bench/topic_page.py and tests read them).
DEFAULTS: dict[str, object] = {s.name: s.default for s in CORE.items}

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

# Where the loader keeps what it did, for ``flask config`` (forum/cli.py).
_STATE_KEY = "borgerdialog.config"


@dataclass
class Loaded:
    """What ``load_config`` applied: the declarations, and where each value came from."""

    declarations: tuple[Settings, ...]
    sources: dict[str, str]


def env_settings(declarations: Iterable[Settings]) -> list[str]:
    """The names the environment may set (deploy/borgerdialog.env.example names each)."""
    return [s.name for d in (CORE, *declarations) for s in d.items if s.env]


def loaded(app: Flask) -> Loaded:
    return app.extensions[_STATE_KEY]


# --- helpers --------------------------------------------------------------------------------


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


def masked(setting: Setting | None, value: object) -> str:
    """``value`` as ``flask config`` prints it: secrets as ``***``, passwords in URLs too."""
    if value is None:
        return "(unset)"
    if setting is not None and setting.secret and not isinstance(value, str):
        return "***"
    text = str(value)
    if "://" in text:
        parts = urlsplit(text)
        if parts.password:
            host = parts.netloc.rsplit("@", 1)[1]
            user = parts.username or ""
            return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
        if setting is not None and setting.secret and not parts.username:
            return text  # an address without credentials (redis://127.0.0.1:6379/0)
    if setting is not None and setting.secret and text:
        return "***"
    return text


def serving_address(environ=None) -> tuple[str, int]:
    """Where ``python app.py`` (and ``./dev.sh start``) listens: ``HOST`` (default 127.0.0.1,
    this machine only) and ``PORT`` (default 5000; macOS's AirPlay receiver takes 5000).
    Read by the start path, not part of the app's configuration."""
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


# --- the loader --------------------------------------------------------------------------------


def load_config(
    app: Flask, test_config: dict | None = None, declarations: Iterable[Settings] = ()
) -> None:
    """Fill ``app.config`` under the one rule (see the module docstring): declared defaults,
    then the environment (only without ``test_config``), then ``test_config``; then parse and
    check every declared setting and run each package's ``finish``."""
    packages = (CORE, *declarations)
    declared = _declared(packages)
    sources: dict[str, str] = {}
    app.extensions[_STATE_KEY] = Loaded(packages, sources)
    for item in declared.values():
        app.config[item.name] = item.default
        sources[item.name] = "default"
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if test_config is None:
        for item in declared.values():
            if item.env and os.environ.get(item.name, "").strip():
                app.config[item.name] = os.environ[item.name]
                sources[item.name] = "environment"
    else:
        app.config.from_mapping(test_config)
        for name in test_config:
            sources[name] = "test"

    for item in declared.values():
        _parse(app, item, sources[item.name])
    _workers(app, declared, sources)
    _finish_core(app, instance, test_config is None, sources)
    for package in declarations:
        if package.finish is not None:
            package.finish(app)


def _declared(packages: Iterable[Settings]) -> dict[str, Setting]:
    declared: dict[str, Setting] = {}
    for package in packages:
        for item in package.items:
            if item.name in declared:
                raise RuntimeError(f"{item.name} is declared twice (by {package.package}).")
            declared[item.name] = item
    return declared


_WHERE = {"environment": " (from the environment)", "test": " (from the test config)"}


def _parse(app: Flask, item: Setting, source: str) -> None:
    """Parse and check one setting's value; a bad one raises the ConfigError that says what
    to set."""
    value = app.config.get(item.name)
    if item.parse is None or value is None:
        return
    try:
        app.config[item.name] = item.parse(value)
    except Invalid as exc:
        raise ConfigError(
            f"{item.name} must be {exc}, not {value!r}{_WHERE.get(source, '')}. "
            f"Set {item.name} to {exc}, or unset it for the default."
        ) from None


def _workers(app: Flask, declared: dict[str, Setting], sources: dict[str, str]) -> None:
    """``WORKERS`` (default: thread, external in production), and every job's own mode."""
    if app.config.get("WORKERS") is None:
        production = app.config["BORGERDIALOG_ENV"] == "production"
        app.config["WORKERS"] = "external" if production else "thread"
    for item in declared.values():
        if item.worker and app.config.get(item.name) is None:
            app.config[item.name] = app.config["WORKERS"]
            sources[item.name] = f"WORKERS ({sources['WORKERS']})"


def _finish_core(app: Flask, instance: Path, from_env: bool, sources: dict[str, str]) -> None:
    if from_env and sources.get("MAIL_BASE_URL") != "environment":
        # Links in mails lead where ``python app.py`` serves the site (HOST, PORT).
        app.config["MAIL_BASE_URL"] = served_url(*serving_address())
        sources["MAIL_BASE_URL"] = "HOST and PORT"
    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["DATABASE_URL"])
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'borgerdialog.sqlite3'}"
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        seconds = app.config["DATABASE_CONNECT_TIMEOUT"]
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])  # not the shared default
        options["connect_args"] = {"connect_timeout": seconds, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
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
        sources["SECRET_KEY"] = "instance/secret_key"
    # What this deployment's names in a shared Redis begin with: Redis pub/sub channels
    # ignore the database number, so staging and production on one Redis would otherwise
    # hear each other's live messages and forced disconnects (and share rate limits).
    if not app.config.get("LIVE_CHANNEL_PREFIX"):
        app.config["LIVE_CHANNEL_PREFIX"] = deployment_prefix(app.config["SECRET_KEY"])
        sources["LIVE_CHANNEL_PREFIX"] = "SECRET_KEY"
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["LIVE_CHANNEL_PREFIX"])
    if app.config["BORGERDIALOG_ENV"] == "production":
        # Assigned, not ``setdefault``: Flask already defines SESSION_COOKIE_SECURE (False),
        # DEBUG, TESTING and PREFERRED_URL_SCHEME, so a default would never take effect.
        app.config.update(PRODUCTION)
