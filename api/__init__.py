"""Open data and integrations (issue 18): the REST API v1, its OpenAPI description, API keys,
Atom feeds and the open-data dump.

- ``views.py``: ``/api/v1/…`` reads (public only) and writes (keys only); ``http.py`` the
  shared JSON errors, cursors, ETags and CORS; ``schemas.py`` the resources (marshmallow),
  which ``openapi.py`` turns into ``/api/v1/openapi.json`` with apispec.
- ``keys.py``: staff's keys (hashed, scoped, revocable, last use); pages under ``/api/noegler``.
- ``feeds.py``: Atom feeds (feedgen) under ``/feeds/…``.
- ``dump.py``: the nightly zip of all public content (CSV and JSON) at
  ``/aabne-data/borgerdialog.zip``, described for people at ``/aabne-data`` (``pages.py``),
  under the licence chosen in the site settings (``licence()``).

The forum imports nothing of this package; it reads other packages' public models and
services only.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import HTTPException

from forum.config import Setting, Settings, number, rate_limit, worker
from forum.errors import DomainError
from forum.extensions import csrf, db, limiter

from . import models  # noqa: F401  (tables at import time)

DEFAULTS = {
    # the open data's licence when none is chosen in the site settings (/admin/indstillinger)
    "OPEN_DATA_LICENCE": "CC BY 4.0",
    "OPEN_DATA_LICENCE_URL": "https://creativecommons.org/licenses/by/4.0/",
    # requests per client address without a key, and per key with one
    "API_RATELIMIT_ANON": "120 per minute;3000 per hour",
    "API_RATELIMIT_KEY": "600 per minute;20000 per hour",
    "API_RATELIMIT_WRITE": "30 per minute;500 per hour",
}
# The API's settings under the one rule of forum/config.py (handed to load_config by the
# factory).
SETTINGS = Settings(
    "api",
    (
        *(Setting(k, v, str, env=True) for k, v in DEFAULTS.items() if k.startswith("OPEN_")),
        *(Setting(k, v, rate_limit, env=True) for k, v in DEFAULTS.items() if "RATELIMIT" in k),
        worker("API_DUMP_WORKER", "the open-data dump (flask api dump)"),
        Setting("API_DUMP_DIR", None, str, env=True, doc="default: <instance>/open-data"),
        # seconds between dumps of the embedded thread, and how often it looks
        Setting("API_DUMP_INTERVAL", 24 * 3600, number(1)),
        Setting("API_DUMP_CHECK_INTERVAL", 3600, number(1)),
    ),
)


def licence(fresh: bool = False) -> tuple[str, str]:
    """The open data's licence as (name, address): the one the municipality chose in the site
    settings (``admin/site.py``), else OPEN_DATA_LICENCE(_URL). ``fresh`` reads the setting
    from the database rather than the per-process snapshot (the nightly dump)."""
    if "admin" in current_app.blueprints:
        from admin import site

        chosen = site.licence(site.snapshot(site.row()) if fresh else None)
        return chosen.name, chosen.url
    cfg = current_app.config
    return cfg["OPEN_DATA_LICENCE"], cfg["OPEN_DATA_LICENCE_URL"]


def rate_key() -> str:
    """Whose budget an API request spends: its key's, else its address's."""
    from forum.extensions import client_address

    from .keys import current_key

    key = current_key()
    return f"apikey:{key.id}" if key is not None else "ip:" + client_address()


def rate_value() -> str:
    from flask import has_request_context

    from .keys import current_key

    keyed = has_request_context() and current_key() is not None
    name = "API_RATELIMIT_KEY" if keyed else "API_RATELIMIT_ANON"
    return current_app.config[name]


# One decorator for every API view (made once: applying it per app would count twice).
api_limit = limiter.limit(rate_value, key_func=rate_key)
write_limit = limiter.limit(
    lambda: current_app.config["API_RATELIMIT_WRITE"], key_func=rate_key, methods=["POST"]
)


def setup_blueprint(bp) -> None:
    """Errors as JSON, key checks and CORS on the API blueprint (once, at import)."""
    _json_errors(bp)
    _before(bp)


def _json_errors(bp) -> None:
    from .http import ApiError, error_response

    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError):
        db.session.rollback()
        return error_response(exc.status, exc.message, exc.code)

    @bp.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        from forum.errors import InvalidInput

        db.session.rollback()
        message = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or str(exc.message or "")
        if isinstance(exc, InvalidInput):  # a value the service refused: as the schema's 422
            return error_response(422, message or "Invalid input.", "invalid_input")
        return error_response(exc.status, message or "Refused.")

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        message = {
            404: "Not found.",
            405: "Method not allowed.",
            413: "The body is too large.",
            429: "Too many requests. Wait before trying again.",
        }.get(code, exc.name + ".")
        resp = error_response(code, message)
        if code == 429 and exc.get_response().headers.get("Retry-After"):
            resp.headers["Retry-After"] = exc.get_response().headers["Retry-After"]
        return resp

    @bp.errorhandler(Exception)
    def unexpected(exc: Exception):
        current_app.logger.exception("Unhandled API error")
        db.session.rollback()
        return error_response(500, "Internal error.")


def _before(bp) -> None:
    from .http import MAX_BODY, ApiError
    from .keys import current_key, key_problem, note_use

    @bp.before_request
    def authenticate():
        problem = key_problem()
        if problem:
            raise ApiError(401, "The API key is not valid or was revoked.", problem)
        if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint == "api.unknown":
            return None  # (the unknown route answers 404/405 itself)
        # Writes: a key, never a session cookie (the blueprint is exempt from CSRF because
        # nothing but a key in a header authorises a write here).
        key = current_key()
        if key is None:
            raise ApiError(401, "Writes need an API key (Authorization: Bearer …).", "key_required")
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise ApiError(413, "The body is too large.", "payload_too_large")
        if not request.is_json:
            raise ApiError(415, "Send JSON (Content-Type: application/json).", "not_json")
        if note_use(key):
            pass  # written with the write's own transaction
        return None

    @bp.after_request
    def headers(resp):
        from .http import add_cors, error_response

        if resp.status_code >= 400 and resp.mimetype == "text/html":
            # An answer made before the API's views (the site's guards, e.g. forum/errorpages.py
            # refusing NUL bytes) is the site's HTML page: the API answers JSON only.
            message = {
                400: "The request contains a character that is not allowed (a NUL byte)."
                if any("\x00" in k + v for k, v in request.args.items(multi=True))
                else "Bad request.",
            }.get(resp.status_code, "Refused.")
            resp = error_response(resp.status_code, message)

        key = current_key() if request.headers.get("Authorization") else None
        if key is not None and request.method == "GET" and note_use(key):
            db.session.commit()  # the last-use time only; a GET writes nothing else
        resp.headers.setdefault("Cache-Control", "no-store")
        return add_cors(resp)


def init_app(app: Flask) -> None:
    """Register the API, its feeds and dump, the key pages, the demo step and the job."""
    from forum import hooks

    from . import demo, dump, feeds, pages, views

    app.url_map.converters["digits"] = views.DigitsConverter
    csrf.exempt(views.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(dump.bp)
    dump.init_app(app)
    feeds.init_app(app)
    hooks.register_demo_step(app, demo.seed)
