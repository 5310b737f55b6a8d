"""``flask backup`` / ``flask restore``: a restored database gives the same search hits after
the index is rebuilt from it. PostgreSQL on scratch databases created and dropped here; SQLite
through its backup API."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

import search
from app import create_app
from forum import services
from forum.extensions import db
from forum.models import Committee, Post, Role
from search import services as search_services
from search.indexer import Indexer, stop_thread
from tests.conftest import _config

ADMIN_URL = os.environ.get("OPS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
QUERIES = ("cykelsti", "skolevej", "busser OR tog")


def _debate() -> None:
    """A small debate with words to search for."""
    committee = Committee(slug="boern-og-skole", name="Udvalget for Børn og Skole")
    db.session.add(committee)
    db.session.flush()
    admin = services.register_user("admin@example.dk", "Anne Admin", "correct-horse-battery")
    services.set_role(admin, Role("admin"), None, None, None)
    citizen = services.register_user("bodil@example.dk", "Bodil Borger", "correct-horse-battery")
    db.session.commit()
    road = services.create_topic(
        admin, "Skolevej i Tølløse", "Skal der være **cykelsti**?", committee_id=committee.id
    )
    buses = services.create_topic(
        admin, "Busser til Jyderup", "Flere busser og tog om aftenen?", committee_id=committee.id
    )
    db.session.commit()
    for i in range(6):
        services.create_post(citizen, road, f"Indlæg {i}: en cykelsti gør skolevejen sikker.")
        services.create_post(citizen, buses, f"Indlæg {i}: busser hver halve time, tak.")
    db.session.commit()


def _hits(app) -> dict[str, list[tuple[str, int]]]:
    """Rebuild the index from the app's database, then the hits of each query."""
    indexer = Indexer(app)
    try:
        indexer.run_once()
    finally:
        indexer.close()
    found = {}
    viewer = AnonymousUserMixin()
    for q in QUERIES:
        with app.test_request_context():
            req = search_services.read_request({"q": q}, viewer)
            page = search_services.run_search(viewer, req)
        found[q] = [(h.kind, h.post.id if h.post else h.topic.id) for h in page.hits]
    search.state(app).close()
    return found


def _app(url: str, tmp: Path):
    tmp.mkdir(parents=True, exist_ok=True)
    return create_app(_config(url, tmp))


def _round_trip(source_url: str, target_url: str, tmp_path: Path) -> None:
    stop_thread(timeout=5)
    file = tmp_path / "borgerdialog.backup"
    src = _app(source_url, tmp_path / "a")
    with src.app_context():
        db.create_all()
        _debate()
        expected = _hits(src)
        assert expected["cykelsti"] and expected["busser OR tog"]  # the test has something
        posts = db.session.scalar(select(db.func.count(Post.id)))
        result = src.test_cli_runner().invoke(args=["backup", str(file)])
        assert result.exit_code == 0, result.output
        assert "Backed up to" in result.output and file.stat().st_size > 0
        db.session.remove()
        db.engine.dispose()

    dst = _app(target_url, tmp_path / "b")  # its own, empty index directory
    with dst.app_context():
        result = dst.test_cli_runner().invoke(args=["restore", str(file), "--yes"])
        assert result.exit_code == 0, result.output
        assert "search rebuild" in result.output
        assert db.session.scalar(select(db.func.count(Post.id))) == posts
        assert _hits(dst) == expected
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def scratch_postgres():
    psycopg = pytest.importorskip("psycopg")
    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        pytest.skip("pg_dump/pg_restore are not installed")
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {ADMIN_URL}: {exc}")
    names = [f"ops_scratch_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
        yield [f"{base}/{name}" for name in names]
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_postgres_backup_restore_gives_the_same_search_hits(scratch_postgres, tmp_path):
    source, target = scratch_postgres
    _round_trip(source, target, tmp_path)


def test_sqlite_backup_restore_gives_the_same_search_hits(tmp_path):
    _round_trip(
        f"sqlite:///{tmp_path / 'source.sqlite3'}",
        f"sqlite:///{tmp_path / 'target.sqlite3'}",
        tmp_path,
    )


def test_backup_errors_are_one_line(tmp_path, app, runner):
    missing = runner.invoke(args=["restore", str(tmp_path / "nope.backup"), "--yes"])
    assert missing.exit_code == 1
    assert "is not a file" in missing.output and "Traceback" not in missing.output
    if db.engine.dialect.name == "sqlite":
        junk = tmp_path / "junk.backup"
        junk.write_bytes(b"not a database at all")
        out = runner.invoke(args=["restore", str(junk), "--yes"])
        assert out.exit_code == 1 and "is not a SQLite database file" in out.output
