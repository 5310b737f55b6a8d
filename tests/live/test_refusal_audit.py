"""Strangers knocking on the moderators' live room cannot fill the audit log: the first
refusal of each connection is audited, at most MODERATION_LIVE_REFUSAL_AUDITS per client
address, the rest are counted, and a connection that keeps trying is disconnected."""

from __future__ import annotations

import threading
import time

from sqlalchemy import create_engine, func, select, text

from forum.extensions import db
from moderation.models import AuditEntry

from .conftest import received

ATTEMPTS = 40  # refused joins each connection tries


def errors(sc) -> list[str]:
    """The error codes a test client got since the last call, connected or not."""
    got, sc.queue = sc.queue, []
    return [r["args"][0]["code"] for r in got if r["name"] == "error"]


def socket_rows() -> int:
    return db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.target_type == "socket")
    )


def test_anonymous_refusals_write_a_bounded_number_of_audit_rows(app, socket_client):
    limit = 10  # MODERATION_LIVE_REFUSAL_AUDITS: "10 per minute" per address
    assert app.config["MODERATION_LIVE_REFUSAL_AUDITS"] == f"{limit} per minute"
    most_refusals = app.config["LIVE_MAX_REFUSALS"]
    clients = [socket_client(app.test_client()) for _ in range(20)]
    codes: list[list[str]] = []
    for sc in clients:
        mine = []
        for _ in range(ATTEMPTS):
            if not sc.is_connected():
                break
            sc.emit("join", {"rooms": ["moderators"]})
            mine += errors(sc)
        codes.append(mine)
        assert not sc.is_connected()  # it kept trying: disconnected
    for mine in codes:
        assert mine == ["forbidden"] * (most_refusals - 1) + ["too_many_refusals"]
    # One row for each of the first ``limit`` connections; the other refusals are counted.
    assert socket_rows() == limit
    # A later entry from the address carries the count (here: after the window is reset).
    app.extensions["borgerdialog.live_refusal_audits"].storage.reset()
    last = socket_client(app.test_client())
    last.emit("join", {"rooms": ["moderators"]})
    assert socket_rows() == limit + 1
    # Every refusal is either an entry or counted in the next entry of its address.
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "socket"))
    counted = sum((e.data or {}).get("unaudited_before", 0) for e in entries)
    assert counted == 20 * most_refusals - limit


def test_a_moderator_still_joins_and_a_first_refusal_is_audited(
    app, client, login, socket_client, make_user
):
    citizen = make_user()
    login(citizen)
    sc = socket_client()
    sc.emit("join", {"rooms": ["moderators"]})
    assert received(sc)[0][1]["code"] == "forbidden"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.target_type == "socket"))
    assert entry.actor_id == citizen.id and entry.action == "access_denied"
    moderator = make_user("moderator")
    other = app.test_client()
    other.post("/login", data={"email": moderator.email, "password": "correct-horse-battery"})
    mod = socket_client(other)
    mod.emit("join", {"rooms": ["moderators"]})
    assert received(mod)[0][0] == "joined"


def test_real_clients_on_a_real_server(start_server, world):
    """10 python-socketio connections, each sending joins as fast as it can."""
    import socketio

    server = start_server("threading")
    done: list[bool] = []
    lock = threading.Lock()

    def knock() -> None:
        errors: list[str] = []
        sio = socketio.Client(reconnection=False)
        sio.on("error", lambda payload=None: errors.append(payload["code"]))
        sio.connect(server.url, transports=["websocket"], wait_timeout=10)
        started = time.monotonic()
        for _ in range(ATTEMPTS):
            if not sio.connected:
                break
            try:
                sio.emit("join", {"rooms": ["moderators"]})
            except socketio.exceptions.BadNamespaceError:
                break  # disconnected meanwhile
            time.sleep(0.02)
        while sio.connected and time.monotonic() - started < 10:
            time.sleep(0.05)
        with lock:
            done.append(not sio.connected and "too_many_refusals" in errors)
        sio.disconnect()

    threads = [threading.Thread(target=knock) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert done == [True] * 10  # every connection was closed
    engine = create_engine(world.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT count(*) FROM moderation_audit WHERE target_type = 'socket'")
            ).scalar()
    finally:
        engine.dispose()
    assert 1 <= rows <= 10, rows  # was 240 in 7 s before
