"""The browser's live client (static/js/live-client.js) asks again when the server could not
answer a join (``server_error``: its database restarting, say), instead of staying connected
in no room and hearing nothing (issue 19, found by bench/topology.py's PostgreSQL restart).

The script runs in Node with a stand-in ``window``, ``document`` and Socket.IO socket: what is
tested is the client's own bookkeeping, not the transport (tests/live/test_redis_restart.py
drives the real thing in Chromium)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HARNESS = r"""
const fs = require("fs");
const timers = [];
const listeners = {};
const emitted = [];
const socket = {
  connected: true,
  handlers: {},
  on(name, fn) { this.handlers[name] = fn; },
  emit(name, payload) { emitted.push([name, payload]); },
  fire(name, data) { this.handlers[name](data); },
  connect() {}, disconnect() {},
};
global.window = {
  io: () => socket,
  setTimeout: (fn, ms) => timers.push([fn, ms]),
  addEventListener: () => undefined,
  console: { warn: () => undefined },
};
global.document = {
  readyState: "loading",
  addEventListener: (name, fn) => { listeners[name] = fn; },
};
global.console = { ...console, warn: () => undefined };
eval(fs.readFileSync(process.argv[2], "utf8"));
const client = window.borgerdialogLiveClient;
client.subscribe({ rooms: ["topic:7"], lastEventId: 40, apply: () => undefined });
listeners.DOMContentLoaded();
socket.fire("connect");
const joins = () => emitted.filter(([name]) => name === "join").length;
const out = { afterConnect: joins(), waits: [] };
function failAndRun() {
  socket.fire("error", { event: "join", code: "server_error", message: "x" });
  const pending = timers.splice(0);
  pending.forEach(([fn, ms]) => { out.waits.push(ms); fn(); });
}
for (let i = 0; i < 3; i++) failAndRun();
out.afterThreeFailures = joins();
out.lastJoin = emitted[emitted.length - 1][1];
socket.fire("joined", { rooms: ["topic:7"], last_event_id: 40, events: [] });
out.joined = client.state.joined;
for (let i = 0; i < 12; i++) failAndRun();  // the count starts again after a join
out.afterTwelveMore = joins();
socket.fire("error", { event: "post", code: "server_error", message: "x" });
out.otherEventTimers = timers.length;
console.log(JSON.stringify(out));
"""


@pytest.fixture
def node():
    path = shutil.which("node")
    if path is None:
        pytest.skip("Node.js is not installed (./dev.sh needs it for the front-end assets)")
    return path


def test_a_failed_join_is_asked_again_with_growing_waits(node, tmp_path):
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS)
    result = subprocess.run(
        [node, str(harness), str(ROOT / "static" / "js" / "live-client.js")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["afterConnect"] == 1
    assert out["afterThreeFailures"] == 4  # each failure brings one more join
    assert out["lastJoin"]["rooms"] == ["topic:7"]
    assert out["lastJoin"]["last_event_id"] <= 40  # the replay still starts at the page
    assert out["joined"] is True
    # Eight more tries after the join (the count restarted), then it gives up.
    assert out["afterTwelveMore"] == 4 + 8
    waits = out["waits"]
    assert all(0 < w <= 30000 for w in waits)
    assert waits[2] > waits[0]  # growing: 1 s, 2 s, 4 s … with jitter of at most a half
    assert out["otherEventTimers"] == 0  # only a join is asked again
