"""Operations: health endpoints, Prometheus metrics, request ids and log lines, backups, and
the start-up checks of a production instance."""

from __future__ import annotations

import logging

from flask import Flask, current_app, request

from forum.config import Setting, Settings, choice, flag, networks, whole
from forum.extensions import csrf, limiter

from . import startup

# Operations' settings under the one rule of forum/config.py (the factory hands them to
# load_config).
SETTINGS = Settings(
    "ops",
    (
        # events the index may be behind before /readyz says 503
        Setting("READY_MAX_SEARCH_LAG", 1000, whole(0), env=True),
        # networks served /metrics without a token
        Setting("METRICS_ALLOW", "127.0.0.1/32,::1/128", networks, env=True),
        # or ``Authorization: Bearer <token>``
        Setting("METRICS_TOKEN", None, str, env=True, secret=True),
        # "json" or "text"; default: json in production, text otherwise
        Setting("LOG_FORMAT", None, choice("json", "text"), env=True),
        Setting("OPS_STARTUP_CHECKS", True, flag),  # production only
    ),
)
# Answered without a session cookie and without the request's side effects.
QUIET_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "ops.metrics"})


class _QuietSessions:
    """The app's session interface, except that it never saves (sets a cookie) for the
    health and metrics endpoints."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def save_session(self, app, session, response) -> None:
        if request.endpoint in QUIET_ENDPOINTS:
            return None
        return self._inner.save_session(app, session, response)


def _answer_quiet():
    """Answer the health and metrics endpoints before any other package's before_request
    hook runs: those may query the database (qa/policy.py warms a list), which /readyz must
    report as a failed check, never as an error page."""
    if request.endpoint in QUIET_ENDPOINTS:
        return current_app.view_functions[request.endpoint](**(request.view_args or {}))
    return None


_UNPROXIED = "borgerdialog.ops.unproxied_warned"


def _warn_unproxied() -> None:
    """``TRUSTED_PROXIES`` says a proxy stands in front, yet a request came without
    ``X-Forwarded-For``: either it bypassed the proxy (then a client could also forge the
    header and choose its rate-limit address) or the proxy does not pass it on. Said once
    per process; the health endpoints (probed directly) are answered before this hook."""
    app = current_app._get_current_object()
    if app.extensions.get(_UNPROXIED) or request.headers.get("X-Forwarded-For"):
        return
    app.extensions[_UNPROXIED] = True
    logging.getLogger("borgerdialog.ops").warning(
        "TRUSTED_PROXIES is %d, but a request from %s came without X-Forwarded-For: either "
        "nothing stands in front of this instance (set TRUSTED_PROXIES=0) or the proxy does "
        "not pass the header on (nginx: proxy_set_header X-Forwarded-For "
        "$proxy_add_x_forwarded_for).",
        app.config["TRUSTED_PROXIES"],
        request.remote_addr,
    )


def init_app(app: Flask) -> None:
    from . import cli, health, logs, metrics

    app.before_request_funcs.setdefault(None, []).insert(0, _answer_quiet)
    metrics.init_app(app)  # before it: the timer
    logs.init_app(app)  # before both: the request id
    for view in (health.healthz, health.readyz, metrics.metrics):
        limiter.exempt(view)
        csrf.exempt(view)
    app.register_blueprint(health.bp)
    if app.config.get("TRUSTED_PROXIES"):
        app.before_request(_warn_unproxied)
    app.session_interface = _QuietSessions(app.session_interface)
    cli.register(app)
    if app.config["BORGERDIALOG_ENV"] == "production" and app.config["OPS_STARTUP_CHECKS"]:
        startup.check(app)
