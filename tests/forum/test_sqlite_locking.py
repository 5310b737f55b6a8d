"""SQLite (the embedded default): a write guarded by a savepoint never fails because a
background thread committed while it was reading (forum/__init__.py, BEGIN IMMEDIATE)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Committee


def test_a_savepoint_holds_the_write_lock_from_its_start(app, make_committee):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's WAL snapshots only; PostgreSQL waits for row locks instead")
    make_committee()
    db.session.commit()
    path = db.engine.url.database
    with db.session.begin_nested():
        assert db.session.scalar(select(func.count(Committee.id))) == 1  # a read first
        # Another connection (a background thread) tries to write meanwhile: it has to wait
        # for this transaction (here it gives up after 0.2 s) instead of committing first.
        other = sqlite3.connect(path, timeout=0.2)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("UPDATE committees SET name = name")
                other.commit()
        finally:
            other.close()
        # ... so this write goes through (with a deferred BEGIN it failed at once with
        # "database is locked": WAL does not upgrade a snapshot another writer has passed).
        db.session.add(Committee(name="Et nyt udvalg", slug="et-nyt-udvalg"))
        db.session.flush()
    db.session.commit()
    assert db.session.scalar(select(func.count(Committee.id))) == 2
