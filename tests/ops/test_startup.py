"""A misconfigured production instance refuses to start with one line saying what to fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from forum.extensions import db
from ops.startup import StartupRefused
from tests.conftest import ROOT


def _production(tmp_path: Path, db_url: str, **extra) -> dict:
    return {
        "BORGERDIALOG_ENV": "production",
        "SECRET_KEY": "a-production-secret",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        **extra,
    }


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory) -> str:
    """A SQLite database at the migrations' head, as `flask db upgrade` leaves it."""
    tmp = tmp_path_factory.mktemp("migrated")
    url = f"sqlite:///{tmp / 'db.sqlite3'}"
    embedded = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp / "inst"),
            "SEARCH_INDEX_DIR": str(tmp / "ix"),
        }
    )
    with embedded.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _refused(config: dict, capsys) -> str:
    capsys.readouterr()  # only what create_app prints
    with pytest.raises(StartupRefused) as info:
        create_app(config)
    assert info.value.code == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("Borgerdialog refuses to start: ")
    return err[0]


def test_a_correct_production_config_starts(tmp_path, migrated_db):
    app = create_app(_production(tmp_path, migrated_db))
    assert app.config["BORGERDIALOG_ENV"] == "production"
    with app.app_context():
        db.engine.dispose()


def test_no_secret_key(tmp_path, migrated_db, capsys):
    config = _production(tmp_path, migrated_db)
    del config["SECRET_KEY"]
    line = _refused(config, capsys)
    assert "SECRET_KEY is not set" in line


def test_redis_url_wrong(tmp_path, migrated_db, capsys):
    line = _refused(_production(tmp_path, migrated_db, REDIS_URL="redis://127.0.0.1:1/0"), capsys)
    assert "REDIS_URL (redis://127.0.0.1:1/0) does not answer" in line


def test_database_unreachable(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}"
    line = _refused(_production(tmp_path, url), capsys)
    assert "cannot be reached" in line and "fix DATABASE_URL" in line


def test_database_password_is_not_printed(tmp_path, capsys):
    url = "postgresql+psycopg://someone:hunter2secret@127.0.0.1:1/nothing"
    line = _refused(_production(tmp_path, url), capsys)
    assert "hunter2secret" not in line and "DATABASE_URL" in line


def test_index_directory_not_writable(tmp_path, migrated_db, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    line = _refused(
        _production(tmp_path, migrated_db, SEARCH_INDEX_DIR=str(blocker / "index")), capsys
    )
    assert "SEARCH_INDEX_DIR" in line and "not a writable directory" in line


def test_schema_older_than_the_code(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp_path / "inst"),
            "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
        }
    )
    with old.app_context():
        upgrade(revision="a58499b9788b")  # one migration short of the head
        db.engine.dispose()
    line = _refused(_production(tmp_path, url), capsys)
    from alembic.script import ScriptDirectory

    [head] = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    assert "schema is at a58499b9788b" in line and head in line
    assert "flask --app app db upgrade" in line


def test_the_refusal_is_one_line_without_traceback(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")
    }
    env.update(BORGERDIALOG_ENV="production", SEARCH_INDEX_DIR=str(tmp_path / "ix"))
    proc = subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 4
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "SECRET_KEY" in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [("METRICS_ALLOW", "127.0.0.1/32,not-a-network"), ("READY_MAX_SEARCH_LAG", "lots")],
)
def test_bad_ops_settings_refuse_in_any_environment(tmp_path, migrated_db, capsys, setting, value):
    config = _production(tmp_path, migrated_db, **{setting: value})
    config["BORGERDIALOG_ENV"] = "embedded"
    line = _refused(config, capsys)
    assert setting in line


def test_schema_newer_than_the_code(tmp_path, migrated_db, capsys):
    import shutil

    from sqlalchemy import create_engine, text

    copy = tmp_path / "newer.sqlite3"
    shutil.copy(migrated_db.removeprefix("sqlite:///"), copy)
    engine = create_engine(f"sqlite:///{copy}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))
    engine.dispose()
    line = _refused(_production(tmp_path, f"sqlite:///{copy}"), capsys)
    assert "schema is at f00dfeedbeef, newer than this code knows" in line
    assert "deploy the same version" in line


def test_postgresql_connections_time_out_in_seconds(tmp_path, capsys):
    import time

    url = "postgresql+psycopg://someone@192.0.2.1:5432/nothing"  # TEST-NET-1: never answers
    app_config = _production(tmp_path, url, DATABASE_CONNECT_TIMEOUT=2)
    started = time.monotonic()
    line = _refused(app_config, capsys)
    assert time.monotonic() - started < 10
    assert "cannot be reached" in line
    config = dict(app_config, OPS_STARTUP_CHECKS=False)
    app = create_app(config)
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"connect_timeout": 2}
    assert (
        "connect_args"
        not in create_app(dict(config, SQLALCHEMY_DATABASE_URI="sqlite://")).config[
            "SQLALCHEMY_ENGINE_OPTIONS"
        ]
    )
    line = _refused(dict(config, DATABASE_CONNECT_TIMEOUT="soon"), capsys)
    assert "DATABASE_CONNECT_TIMEOUT" in line


def test_trusted_proxies_without_a_proxy_is_said_once(tmp_path, migrated_db):
    import logging

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    app = create_app(_production(tmp_path, migrated_db, TRUSTED_PROXIES=1))
    client = app.test_client()
    keep = Keep(logging.WARNING)
    logger = logging.getLogger("borgerdialog.ops")
    logger.addHandler(keep)
    was, logger.disabled = logger.disabled, False  # Alembic's fileConfig() disables loggers
    try:
        client.get("/healthz")  # probes go straight to the port: not counted
        client.get("/login", headers={"X-Forwarded-For": "203.0.113.9"})
        assert not seen
        client.get("/login")
        client.get("/login")
    finally:
        logger.removeHandler(keep)
        logger.disabled = was
    warned = [m for m in seen if "TRUSTED_PROXIES" in m]
    assert len(warned) == 1 and "without X-Forwarded-For" in warned[0]
    with app.app_context():
        db.engine.dispose()
