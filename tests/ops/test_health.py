"""/healthz and /readyz: liveness without the database, readiness with its three checks."""

from __future__ import annotations

import pytest

from app import create_app
from forum.extensions import db
from ops import checks
from search.indexer import Indexer
from tests.conftest import _config


def test_healthz_answers_without_cookie_or_cache(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in resp.headers


def test_readyz_ready_on_sqlite(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["search"]["ok"] is True
    assert "redis" not in body["checks"]  # REDIS_URL is not set
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in resp.headers


def test_readyz_does_not_refresh_a_session_cookie(app, client, make_user):
    user = make_user()
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user.id}:{user.session_version}"
        sess.permanent = True
    assert "Set-Cookie" in client.get("/").headers  # an ordinary page refreshes it
    for path in ("/healthz", "/readyz", "/metrics"):
        assert "Set-Cookie" not in client.get(path).headers, path


def test_readyz_503_when_the_database_is_unreachable(tmp_path):
    bad = f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}"
    other = create_app(_config(bad, tmp_path))
    resp = other.test_client().get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "not ready"
    assert body["failed"] == ["database"]
    assert body["checks"]["database"]["ok"] is False
    assert "OperationalError" in body["checks"]["database"]["error"]
    # liveness does not care
    assert other.test_client().get("/healthz").status_code == 200
    with other.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("app_config", [{"READY_MAX_SEARCH_LAG": 2}])
def test_readyz_503_when_the_index_lags_too_far(app, client, make_topic, make_post):
    topic = make_topic()
    indexer = Indexer(app)
    try:
        indexer.run_once()  # builds the index and catches up
        resp = client.get("/readyz")
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["checks"]["search"]["lag"] == 0
        for i in range(3):
            make_post(topic=topic, body=f"Indlæg nummer {i} om cykelstien")
        lag, _ = checks.search_lag(app)
        assert lag >= 3
        resp = client.get("/readyz")
        assert resp.status_code == 503
        body = resp.get_json()
        assert body["failed"] == ["search"]
        search = {k: v for k, v in body["checks"]["search"].items() if k != "disk_free_mb"}
        assert search == {"ok": False, "lag": lag, "max": 2}
        indexer.run_once()
        assert client.get("/readyz").status_code == 200
    finally:
        indexer.close()
        import search

        search.state(app).close()


def test_redis_check(redis_url_or_skip):
    assert checks.redis_ping(redis_url_or_skip).ok
    failed = checks.redis_ping("redis://127.0.0.1:1/0", timeout=0.5)
    assert not failed.ok and "ConnectionError" in failed.detail
    assert not checks.redis_ping("not-a-url").ok


@pytest.fixture
def redis_url_or_skip():
    url = "redis://127.0.0.1:6379/0"
    if not checks.redis_ping(url, timeout=0.5).ok:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_readyz_and_search_status_report_a_full_index_disk(app, client):
    """Index writes fail on a full disk while pages go on: the node says so (not ready, and
    why), and says ready again once there is room. The real free space of the index's disk
    is compared with SEARCH_MIN_FREE_MB, set here just above and below it."""
    import shutil
    from pathlib import Path

    path = Path(app.config["SEARCH_INDEX_DIR"])
    while not path.exists():
        path = path.parent
    free_mb = shutil.disk_usage(path).free / (1024 * 1024)
    app.config["SEARCH_MIN_FREE_MB"] = free_mb + 10_000
    resp = client.get("/readyz")
    assert resp.status_code == 503
    search = resp.get_json()["checks"]["search"]
    assert search["ok"] is False and "the index disk is full" in search["error"]
    assert resp.get_json()["failed"] == ["search"]
    assert abs(search["disk_free_mb"] - free_mb) < 1000
    out = app.test_cli_runner().invoke(args=["search", "status"])
    assert "Disk: FULL" in out.output and "SEARCH_MIN_FREE_MB" in out.output
    assert client.get("/").status_code == 200  # pages are served meanwhile

    app.config["SEARCH_MIN_FREE_MB"] = 0.0
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    assert "error" not in resp.get_json()["checks"]["search"]
    out = app.test_cli_runner().invoke(args=["search", "status"])
    assert "Disk: FULL" not in out.output and "MB free" in out.output
