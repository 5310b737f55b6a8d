"""What every API answer shares: JSON errors, query parameters, cursors, ETags, CORS.

Errors are always ``{"error": {"code": ..., "message": ...}}`` with English messages and
stable codes (``ERROR_CODES``), never an HTML page. Cursors are opaque: the position of the
last row a page showed, signed with the app's secret (``itsdangerous``), so a client can
neither forge one nor read another list's position into this one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from flask import Response, current_app, jsonify, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from forum.converters import ID_MAX
from forum.extensions import db
from forum.models import Event

# HTTP status -> the code clients may rely on.
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_BODY = 64 * 1024  # bytes of JSON a write may carry


class ApiError(Exception):
    """An answer other than success; the blueprint's handler turns it into JSON."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or ERROR_CODES.get(status, "error")


def error_response(status: int, message: str, code: str | None = None) -> Response:
    resp = jsonify(
        {"error": {"code": code or ERROR_CODES.get(status, "error"), "message": message}}
    )
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


# --- query parameters --------------------------------------------------------------------


def check_params(allowed: set[str]) -> Mapping[str, str]:
    """The query string, refused (400 ``unknown_parameter``) when it names anything else or
    repeats a parameter."""
    args = request.args
    unknown = sorted(set(args) - allowed - {"cursor", "limit"})
    if unknown:
        raise ApiError(400, f"Unknown query parameter: {unknown[0]}.", "unknown_parameter")
    for name in args:
        if len(args.getlist(name)) > 1:
            raise ApiError(
                400, f"Query parameter {name} given more than once.", "invalid_parameter"
            )
    return args


def int_param(name: str, default: int | None = None, lo: int = 1, hi: int = ID_MAX) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(400, f"Query parameter {name} must be a whole number.", "invalid_parameter")
    value = int(raw)
    if not lo <= value <= hi:
        raise ApiError(
            400, f"Query parameter {name} must be between {lo} and {hi}.", "out_of_range"
        )
    return value


def choice_param(name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in choices:  # (an empty value too: leave the parameter out for "any")
        raise ApiError(
            400,
            f"Query parameter {name} must be one of: {', '.join(choices)}.",
            "invalid_parameter",
        )
    return raw


def page_limit() -> int:
    return int_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT


# --- cursors -----------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="borgerdialog-api-cursor")


def make_cursor(scope: str, position: list) -> str:
    """An opaque cursor for ``scope`` (e.g. "topics") after ``position``."""
    return _serializer().dumps([scope, position])


def read_cursor(scope: str) -> list | None:
    """The position in the request's ``cursor``, or None for the first page; 400
    ``invalid_cursor`` when it was not made by this site for this list."""
    raw = request.args.get("cursor")
    if not raw:
        return None
    if len(raw) > 500:
        raise ApiError(400, "The cursor is not valid.", "invalid_cursor")
    try:
        got_scope, position = _serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        raise ApiError(400, "The cursor is not valid.", "invalid_cursor") from None
    if got_scope != scope or not isinstance(position, list):
        raise ApiError(400, "The cursor belongs to another list.", "invalid_cursor")
    return position


# --- caching -----------------------------------------------------------------------------


def last_event_id() -> int:
    """The newest event of the whole log: every public change records one."""
    return db.session.scalar(select(func.max(Event.id))) or 0


def etag_for(*parts) -> str:
    """A strong validator (unquoted) for the request's URL and ``parts`` (the data's
    version)."""
    text = "|".join([request.full_path, *map(str, parts)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def not_modified(etag: str) -> Response | None:
    """A 304 when the client already has ``etag`` (nothing else is computed), else None."""
    if request.if_none_match.contains(etag):
        resp = Response(status=304)
        resp.set_etag(etag)
        return resp
    return None


def cacheable(resp: Response, etag: str, max_age: int = 60) -> Response:
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    resp.headers["Vary"] = "Accept-Encoding, Authorization"
    return resp


def add_cors(resp: Response) -> Response:
    """Anyone may read the API from a browser; only reads (GET/HEAD/OPTIONS) are allowed
    cross-origin, and no credentials go with them."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        resp.headers["Access-Control-Allow-Origin"] = "*"
        resp.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        resp.headers["Access-Control-Allow-Headers"] = "If-None-Match"
        resp.headers["Access-Control-Expose-Headers"] = "ETag, Link, Retry-After"
        resp.headers["Access-Control-Max-Age"] = "3600"
    return resp
