// Light load clients for bench/live_fanout.py: N raw websocket connections speaking just
// enough engine.io v4 / socket.io v5 to join a room and time each "live" message.
//
//   node bench/node/clients.js '["http://127.0.0.1:5000"]' N ROOM EXPECT
//
// A python-socketio client per connection costs more CPU than the server it measures; this
// costs a few microseconds per message. Talks to the orchestrator on stdout/stdin: prints
// "READY {...}" once every client has joined (or failed), "DONE" when every client got
// EXPECT messages, and "RESULT {...}" on "STOP" (or end of input), then exits.
"use strict";

const WebSocket = require("ws");
const readline = require("readline");

const urls = JSON.parse(process.argv[2]);
const n = Number(process.argv[3]);
const room = process.argv[4];
const expect = Number(process.argv[5]);
const HANDSHAKES_IN_FLIGHT = 64;

const now = () => performance.timeOrigin + performance.now();
const connectMs = [];
const latencyMs = [];
let received = 0;
let failed = 0;
let complete = 0;
let doneTold = false;
const sockets = [];

function checkDone() {
  if (!doneTold && complete >= n - failed) {
    doneTold = true;
    process.stdout.write("DONE\n");
  }
}

function client(url) {
  return new Promise((resolve) => {
    const t0 = now();
    const ws = new WebSocket(
      url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
      { origin: url, perMessageDeflate: false }
    );
    sockets.push(ws);
    let joined = false;
    let got = 0;
    const settle = (ok) => {
      if (!joined) {
        joined = true;
        if (ok) connectMs.push(now() - t0);
        else failed += 1;
        resolve();
      }
    };
    const timer = setTimeout(() => settle(false), 60000);
    ws.on("message", (data) => {
      const s = data.toString();
      if (s.startsWith('42["live"')) {
        const at = s.lastIndexOf('"sent_at":');
        latencyMs.push(now() - parseFloat(s.slice(at + 10)));
        received += 1;
        got += 1;
        if (got === expect) {
          complete += 1;
          checkDone();
        }
      } else if (s === "2") {
        ws.send("3");
      } else if (s.startsWith("0")) {
        ws.send("40");
      } else if (s.startsWith("40")) {
        ws.send('42["join",{"rooms":["' + room + '"]}]');
      } else if (s.startsWith('42["joined"')) {
        clearTimeout(timer);
        settle(true);
      }
    });
    ws.on("error", () => settle(false));
    ws.on("close", () => settle(false));
  });
}

async function main() {
  const t0 = now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await client(urls[i % urls.length]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HANDSHAKES_IN_FLIGHT, n) }, worker));
  process.stdout.write("READY " + JSON.stringify({ wall_s: (now() - t0) / 1000, failed }) + "\n");
  checkDone();
  const rl = readline.createInterface({ input: process.stdin });
  const finish = () => {
    const cpu = process.cpuUsage();
    process.stdout.write(
      "RESULT " +
        JSON.stringify({
          connect_ms: connectMs,
          latency_ms: latencyMs,
          received,
          failed,
          cpu_s: (cpu.user + cpu.system) / 1e6,
        }) +
        "\n",
      () => {
        sockets.forEach((ws) => ws.terminate());
        process.exit(0);
      }
    );
  };
  rl.on("line", (line) => {
    if (line.trim() === "STOP") finish();
  });
  rl.on("close", finish);
}

main();
