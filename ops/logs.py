"""Request ids and log lines: every request gets an id, every log record during it carries it.

The id comes from the ``X-Request-ID`` header when it is well-formed (the proxy in front sets
it: deploy/nginx-borgerdialog.conf), else it is generated; the response returns it. Log lines
are JSON in production (``BORGERDIALOG_ENV=production`` or ``LOG_FORMAT=json``), plain text
otherwise.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context
from flask.logging import default_handler

HEADER = "X-Request-ID"
# Letters, digits and - _ . : only, so an id can never break a log line or a header.
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def current_request_id() -> str | None:
    if has_request_context():
        return g.get("request_id")
    return None


_base_factory = logging.getLogRecordFactory()


def _record_factory(*args, **kwargs):
    record = _base_factory(*args, **kwargs)
    record.request_id = current_request_id() or "-"
    return record


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and exc_info)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class _OpsHandler(logging.StreamHandler):
    """Ours, so configuring a second app in the same process replaces it instead of adding.
    Writes to whatever ``sys.stderr`` is when a record comes (as logging's last resort does)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def wants_json(app: Flask) -> bool:
    fmt = (app.config.get("LOG_FORMAT") or "").lower()
    if fmt in ("json", "text"):
        return fmt == "json"
    return app.config.get("BORGERDIALOG_ENV") == "production"


def configure(app: Flask) -> None:
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, _OpsHandler)]:
        root.removeHandler(h)
    handler = _OpsHandler()
    handler.setFormatter(JsonFormatter() if wants_json(app) else logging.Formatter(PLAIN_FORMAT))
    root.addHandler(handler)
    if root.level == logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    app.logger.removeHandler(default_handler)  # the root handler prints it, once


def _assign() -> None:
    from flask import request

    sent = request.headers.get(HEADER, "")
    g.request_id = sent if WELL_FORMED.fullmatch(sent) else uuid.uuid4().hex


def _return(response):
    rid = g.get("request_id")
    if rid:
        response.headers[HEADER] = rid
    return response


def init_app(app: Flask) -> None:
    configure(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _assign)
    app.after_request(_return)
