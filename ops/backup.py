"""Backups of the database: PostgreSQL through pg_dump/pg_restore (custom format), SQLite
through its online backup API (a consistent copy even while the app writes)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """Something the operator must fix; the message says what."""


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(
            f"{name} is not installed; install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) of the server's major version."
        )
    return path


def _run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise BackupError(f"{Path(cmd[0]).name} failed: {lines[-1] if lines else proc.returncode}")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def backup(database_uri: str, file: Path) -> str:
    """Write the database to ``file``; returns the format written."""
    url = make_url(database_uri)
    backend = url.get_backend_name()
    if backend == "postgresql":
        target, env = _libpq(url)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(file), target], env)
        return "pg_dump custom format"
    if backend == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"the SQLite database {source} does not exist.")
        tmp = file.with_name(file.name + ".partial")
        tmp.unlink(missing_ok=True)
        _sqlite_copy(source, tmp)
        os.replace(tmp, file)
        return "SQLite database file"
    raise BackupError(f"backups of {backend} databases are not supported.")


def restore(database_uri: str, file: Path) -> None:
    """Replace the database's contents with the backup in ``file`` (stop the app first)."""
    if not file.is_file():
        raise BackupError(f"{file} is not a file.")
    url = make_url(database_uri)
    backend = url.get_backend_name()
    if backend == "postgresql":
        target, env = _libpq(url)
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                target,
                str(file),
            ],
            env,
        )
        return
    if backend == "sqlite":
        with open(file, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{file} is not a SQLite database file.")
        _sqlite_copy(file, _sqlite_path(url))
        return
    raise BackupError(f"restoring {backend} databases is not supported.")
