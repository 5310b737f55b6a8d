"""``/healthz`` (liveness) and ``/readyz`` (readiness) for the proxy and the supervisor."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from . import checks

bp = Blueprint("ops", __name__)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _entry(check: checks.Check) -> dict:
    return {"ok": True} if check.ok else {"ok": False, "error": check.detail}


@bp.get("/healthz")
def healthz():
    """The process answers; nothing else is touched (no database)."""
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database answers, Redis answers (when configured), and the search
    index is at most ``READY_MAX_SEARCH_LAG`` events behind the event log, on a disk with at
    least ``SEARCH_MIN_FREE_MB`` free."""
    cfg = current_app.config
    result: dict[str, dict] = {}
    db_check = checks.database()
    result["database"] = _entry(db_check)
    if cfg.get("REDIS_URL"):
        result["redis"] = _entry(checks.redis_ping(cfg["REDIS_URL"]))
    if db_check.ok:
        limit = int(cfg["READY_MAX_SEARCH_LAG"])
        try:
            lag, note = checks.search_lag(current_app)
            entry = {"ok": lag <= limit, "lag": lag, "max": limit}
            if note:
                entry["note"] = note
            roomy, free_mb = checks.search_disk(current_app)
            entry["disk_free_mb"] = round(free_mb, 1)
            if not roomy:
                entry["ok"] = False
                entry["error"] = (
                    f"the index disk is full: {free_mb:.1f} MB free, "
                    f"{cfg['SEARCH_MIN_FREE_MB']:g} MB needed (index writes fail)"
                )
        except Exception as exc:  # a broken index directory is "not ready", never a 500
            entry = {"ok": False, "error": checks._first_line(exc)}
        finally:
            checks.database()  # end the read transaction
        result["search"] = entry
    ready = all(c["ok"] for c in result.values())
    failed = [name for name, c in result.items() if not c["ok"]]
    body = {"status": "ready" if ready else "not ready", "checks": result}
    if failed:
        body["failed"] = failed
    return _no_store(jsonify(body)), 200 if ready else 503
