// Light clients for bench/qa_session.py: N raw websockets speaking just enough engine.io v4 /
// socket.io v5 to watch a live Q&A session, some of them (with a session cookie) voting.
//
//   node bench/node/qa_clients.js CONFIG.json
//
// CONFIG: {"url", "n", "rooms", "session_id", "questions": [post ids], "cookies": [one per
// voter], "seconds", "vote_interval_s", "process": index}. The first len(cookies) clients
// vote; client 0 of every process that is not a voter (the "observer") records when each
// vote count arrived. Talks on stdout/stdin: "READY {...}" once all joined, waits for
// "START", votes for `seconds`, prints "VOTED", and on "STOP" prints "RESULT {...}".
"use strict";

const WebSocket = require("ws");
const fs = require("fs");
const readline = require("readline");

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const n = cfg.n;
const voters = cfg.cookies.length;
const HANDSHAKES_IN_FLIGHT = 64;
const now = () => performance.timeOrigin + performance.now();

let failed = 0;
let started = false;
const sockets = [];
const votes = []; // [t_send, post_id, votes after (or -1), ok]
const observed = []; // [t_recv, post_id, votes, event id]
const answers = {}; // post id (as string) -> [t_recv, ...] (kind post_published, depth 1)
const voteMsgs = new Array(n).fill(0); // qa_votes messages received, per client
const errors = {};

function client(i) {
  return new Promise((resolve) => {
    const headers = i < voters ? { Cookie: cfg.cookies[i] } : {};
    const ws = new WebSocket(
      cfg.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
      { origin: cfg.url, perMessageDeflate: false, headers }
    );
    sockets.push(ws);
    const state = { ws, joined: false, voted: new Set(), pending: null };
    const settle = (ok) => {
      if (!state.joined) {
        state.joined = true;
        if (!ok) failed += 1;
        resolve(state);
      }
    };
    const timer = setTimeout(() => settle(false), 60000);
    ws.on("message", (data) => {
      const s = data.toString();
      if (s.startsWith('42["live"')) {
        const msg = JSON.parse(s.slice(2))[1];
        if (msg.kind === "qa_votes") {
          voteMsgs[i] += 1;
          if (i === voters) observed.push([now(), msg.post_id, msg.votes, msg.id]);
        } else if (msg.kind === "post_published" && msg.depth === 1) {
          (answers[msg.post_id] = answers[msg.post_id] || []).push(now());
        }
      } else if (s.startsWith('42["qa_voted"')) {
        const ack = JSON.parse(s.slice(2))[1];
        if (state.pending) {
          state.pending[2] = ack.votes;
          state.pending[3] = true;
          if (ack.vote) state.voted.add(ack.post_id);
          else state.voted.delete(ack.post_id);
          state.pending = null;
        }
      } else if (s.startsWith('42["error"')) {
        const err = JSON.parse(s.slice(2))[1];
        errors[err.code] = (errors[err.code] || 0) + 1;
        state.pending = null;
      } else if (s === "2") {
        ws.send("3");
      } else if (s.startsWith("0")) {
        ws.send("40");
      } else if (s.startsWith("40")) {
        ws.send('42["join",' + JSON.stringify({ rooms: cfg.rooms }) + "]");
      } else if (s.startsWith('42["joined"')) {
        clearTimeout(timer);
        settle(true);
      }
    });
    ws.on("error", () => settle(false));
    ws.on("close", () => settle(false));
  });
}

function voteLoop(state, until) {
  const next = () => {
    if (now() >= until) return;
    // Exponential gaps: votes arrive at random, about one per interval per voter.
    const wait = -Math.log(1 - Math.random()) * cfg.vote_interval_s * 1000;
    setTimeout(() => {
      if (now() >= until) return;
      if (!state.pending && state.ws.readyState === WebSocket.OPEN) {
        const post = cfg.questions[Math.floor(Math.random() * cfg.questions.length)];
        const vote = !state.voted.has(post);
        state.pending = [now(), post, -1, false];
        votes.push(state.pending);
        state.ws.send('42["qa_vote",' + JSON.stringify(
          { session_id: cfg.session_id, post_id: post, vote }) + "]");
      }
      next();
    }, wait);
  };
  next();
}

async function main() {
  const t0 = now();
  const states = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      states[i] = await client(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HANDSHAKES_IN_FLIGHT, n) }, worker));
  process.stdout.write("READY " + JSON.stringify({ wall_s: (now() - t0) / 1000, failed }) + "\n");
  const rl = readline.createInterface({ input: process.stdin });
  const finish = () => {
    const cpu = process.cpuUsage();
    process.stdout.write(
      "RESULT " + JSON.stringify({
        process: cfg.process, failed, votes, observed, answers, vote_msgs: voteMsgs,
        errors, cpu_s: (cpu.user + cpu.system) / 1e6,
      }) + "\n",
      () => {
        sockets.forEach((ws) => ws.terminate());
        process.exit(0);
      }
    );
  };
  rl.on("line", (line) => {
    const cmd = line.trim();
    if (cmd === "START" && !started) {
      started = true;
      const until = now() + cfg.seconds * 1000;
      for (let i = 0; i < voters; i++) voteLoop(states[i], until);
      setTimeout(() => process.stdout.write("VOTED\n"), cfg.seconds * 1000 + 50);
    } else if (cmd === "STOP") {
      finish();
    }
  });
  rl.on("close", finish);
}

main();
