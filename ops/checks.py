"""The checks behind ``/readyz``, the metrics computed at scrape time and the start-up checks.

Each check answers quickly (a cheap query, a PING with a short timeout) and never raises:
it returns what it saw, so the caller decides between 200 and 503 or a refusal to start.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import func, select, text

from forum.extensions import db
from forum.models import Event


@dataclass
class Check:
    ok: bool
    detail: str = ""


def _first_line(exc: BaseException) -> str:
    words = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {words[0] if words else ''}".strip().rstrip(":")


def database() -> Check:
    """``SELECT 1`` on the app's database."""
    try:
        db.session.execute(text("SELECT 1"))
        return Check(True)
    except Exception as exc:  # any driver error means "not reachable"
        return Check(False, _first_line(exc))
    finally:
        try:
            db.session.rollback()
        except Exception:  # the connection is gone already
            db.session.remove()


def redis_ping(url: str, timeout: float = 1.0) -> Check:
    """PING the Redis at ``url`` (a new connection each time: checks are rare)."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    except ValueError as exc:
        return Check(False, _first_line(exc))
    try:
        client.ping()
        return Check(True)
    except Exception as exc:
        return Check(False, _first_line(exc))
    finally:
        client.close()


def search_lag(app: Flask) -> tuple[int, str]:
    """Events in the log that the search index does not hold yet, and a note.

    The same reading as ``flask search status`` (search/cli.py): the current generation's
    ``SearchCursor`` against the newest event id. Without a usable index every event counts
    as waiting (the writer rebuilds it).
    """
    from search import state
    from search.models import SearchCursor

    newest = db.session.scalar(select(func.max(Event.id))) or 0
    health = state(app).store.health_cached()
    if not health.ok:
        return newest, f"index {health.reason}"
    cursor = db.session.get(SearchCursor, health.generation)
    if cursor is None:
        return newest, "no cursor for the current index"
    return max(0, newest - cursor.last_event_id), ""


def search_disk(app: Flask) -> tuple[bool, float]:
    """Whether the disk of this node's ``SEARCH_INDEX_DIR`` has room for index writes
    (``SEARCH_MIN_FREE_MB``), and its free space in MB. A full disk makes every batch of the
    indexer fail while pages and searches go on; this says why the lag grows."""
    import shutil
    from pathlib import Path

    path = Path(app.config["SEARCH_INDEX_DIR"])
    while not path.exists() and path != path.parent:
        path = path.parent  # not made yet: the disk it will be made on
    free_mb = shutil.disk_usage(path).free / (1024 * 1024)
    return free_mb >= float(app.config["SEARCH_MIN_FREE_MB"]), free_mb


def mail_counts() -> dict[str, int]:
    """Mails in the outbox per state (``flask mail status``)."""
    from mail.models import MailMessage

    rows = db.session.execute(
        select(MailMessage.status, func.count(MailMessage.id)).group_by(MailMessage.status)
    ).all()
    return {str(status.value): int(n) for status, n in rows}


def mail_oldest_due_seconds() -> float:
    """Age of the oldest queued mail that is due (0 when none waits): the sender's lag."""
    from forum.models import utcnow
    from mail.models import MailMessage, MessageStatus

    now = utcnow()
    oldest = db.session.scalar(
        select(func.min(MailMessage.due_at)).where(
            MailMessage.status == MessageStatus.QUEUED, MailMessage.due_at <= now
        )
    )
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
