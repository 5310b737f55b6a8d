"""Real server processes and real clients: python-socketio, websocket-client, Redis."""

from __future__ import annotations

import json
import time

import pytest
import requests
from websocket import WebSocketBadStatusException, create_connection

from .conftest import cookie_header


def post(session: requests.Session, base_url: str, topic_id: int, body: str, **fields) -> int:
    r = session.post(
        f"{base_url}/emner/{topic_id}/indlaeg",
        data={"body": body, **fields},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302, r.text[:500]
    return int(r.headers["Location"].split("#p")[-1])


def raw_socket(base_url: str, origin: str | None = None):
    """A bare engine.io websocket (what a browser on ``origin`` would open)."""
    url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = create_connection(url, origin=origin or base_url, timeout=5)
    assert ws.recv().startswith("0{")  # engine.io open
    ws.send("40")  # socket.io connect
    assert ws.recv().startswith("40")
    return ws


def test_python_socketio_client_on_a_real_server(start_server, world, live_client, http_login):
    server = start_server("threading")
    topic = world.ids["topic"]
    citizen = http_login(server.url, world.emails["citizen"])
    neighbour = http_login(server.url, world.emails["neighbour"])
    reader = live_client([f"topic:{topic}"]).connect(server.url)
    joined = reader.next("joined")
    assert joined["events"] == []
    # A signed-in client: the session cookie authenticates the socket.
    me = live_client([f"user:{world.ids['citizen']}"], cookie=cookie_header(citizen)).connect(
        server.url
    )
    me.next("joined")

    first = post(citizen, server.url, topic, "Fra HTTP til socket")
    msg = reader.next("live")
    assert (msg["kind"], msg["post_id"], msg["post_count"]) == ("post_published", first, 2)
    reply = post(neighbour, server.url, topic, "Et svar", parent_id=str(first))
    assert reader.next("live")["post_id"] == reply
    note = me.next("live")
    assert (note["kind"], note["post_id"], note["unread"]) == ("notification", reply, 1)
    # The page's fragment route gives the HTML, for this viewer.
    html = neighbour.get(f"{server.url}/indlaeg/{reply}/fragment", timeout=10).text
    assert "Et svar" in html

    # Away and back: everything after the last id, in order, once.
    reader.close()
    missed = [post(citizen, server.url, topic, f"Mens du var væk {i}") for i in range(3)]
    back = live_client([f"topic:{topic}"], last_event_id=reader.last_event_id)
    back.seen = list(reader.seen)
    back.connect(server.url)
    events = back.next("joined")["events"]
    assert [m["post_id"] for m in events] == missed
    assert len({m["id"] for m in events}) == len(events)


def test_refusals_on_a_real_server(start_server, world, live_client, http_login):
    server = start_server("threading")
    topic = world.ids["topic"]
    bystander = live_client([f"topic:{topic}"]).connect(server.url)
    bystander.next("joined")

    # Cross-origin handshakes are refused (websocket and polling); same-origin ones pass.
    with pytest.raises(WebSocketBadStatusException) as refused:
        raw_socket(server.url, origin="http://evil.example")
    assert refused.value.status_code == 400
    with requests.get(
        f"{server.url}/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "http://evil.example"},
        timeout=5,
    ) as r:
        assert r.status_code == 400
    raw_socket(server.url).close()

    # Bad input: an error event; the connection stays usable.
    ws = raw_socket(server.url)
    ws.send('42["join",{"rooms":["topic:999999"],"last_event_id":"soon"}]')
    name, err = json.loads(ws.recv()[2:])
    assert (name, err["code"]) == ("error", "invalid")
    ws.send("42" + json.dumps(["join", {"rooms": [f"topic:{topic}"]}]))
    assert json.loads(ws.recv()[2:])[0] == "joined"

    # A flood: one error, the rest dropped, and the server keeps serving.
    for _ in range(300):
        ws.send('42["join",{"rooms":["activity"]}]')
    codes = []
    deadline = time.monotonic() + 5
    ws.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            frame = ws.recv()
        except Exception:  # the socket timed out: nothing more is coming
            break
        if frame.startswith("42"):
            name, payload = json.loads(frame[2:])
            codes.append(payload["code"] if name == "error" else name)
    # One error per burst (a slow sender may see a refill or two), most events dropped.
    assert 1 <= codes.count("rate_limited") <= 5 and codes.count("joined") <= 40
    ws.close()

    # An oversized message closes that connection only.
    big = raw_socket(server.url)
    big.send('42["join",{"rooms":["activity"],"x":"' + "A" * 40_000 + '"}]')
    big.settimeout(5)
    with pytest.raises(Exception):  # noqa: B017  (closed: recv fails one way or another)
        for _ in range(3):
            assert big.recv() not in ("",)
    big.shutdown()  # close() skips a socket the server already dropped
    citizen = http_login(server.url, world.emails["citizen"])
    pid = post(citizen, server.url, topic, "Stadig i live")
    assert bystander.next("live")["post_id"] == pid


def test_two_gevent_instances_share_rooms_through_redis(
    start_server, world, redis_url, live_client, http_login
):
    one = start_server("gevent", redis_url=redis_url)
    two = start_server("gevent", redis_url=redis_url)
    topic = world.ids["topic"]
    on_one = live_client([f"topic:{topic}"]).connect(one.url)
    on_two = live_client([f"topic:{topic}"]).connect(two.url)
    on_one.next("joined")
    on_two.next("joined")
    citizen = http_login(one.url, world.emails["citizen"])

    first = post(citizen, one.url, topic, "Skrevet på instans ét")
    assert on_two.next("live")["post_id"] == first  # through Redis
    assert on_one.next("live")["post_id"] == first
    assert on_two.drain() == []  # once

    two.stop()  # the instance goes away; its client is cut off
    deadline = time.monotonic() + 10
    while on_two.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not on_two.sio.connected
    missed = [post(citizen, one.url, topic, f"Mens instans to var væk {i}") for i in range(2)]
    on_two.connect(one.url)  # the proxy sends it to the other instance
    events = on_two.next("joined")["events"]
    assert [m["post_id"] for m in events] == missed
    third = post(citizen, one.url, topic, "Og så live igen")
    assert on_two.next("live")["post_id"] == third
