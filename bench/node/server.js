// The reference for bench/live_fanout.py: a minimal socket.io server doing the same
// broadcast as Borgerdialog's live updates, on 127.0.0.1 only.
//
//   node bench/node/server.js PORT
//
// Clients send "join" {rooms: [...]} and get "joined"; POST /broadcast?room=topic:1 emits
// one "live" message to the room, shaped like Borgerdialog's post_published message, with
// the send time (ms since the epoch) in sent_at. GET / answers 200 (readiness).
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 5100);
let nextId = 1000;

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  if (req.method === "POST" && url.pathname === "/broadcast") {
    const room = url.searchParams.get("room") || "topic:1";
    const id = nextId++;
    io.to(room).emit("live", {
      id,
      kind: "post_published",
      topic_id: 1,
      post_id: id,
      parent_id: null,
      depth: 0,
      stance: null,
      support_count: 0,
      post_count: id - 999,
      sent_at: Date.now(),
    });
    res.writeHead(204).end();
    return;
  }
  if (req.method === "GET" && url.pathname === "/") {
    res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    return;
  }
  res.writeHead(404).end();
});

const io = new Server(server, { maxHttpBufferSize: 16 * 1024 });

io.on("connection", (socket) => {
  socket.on("join", (data) => {
    const rooms = data && Array.isArray(data.rooms) ? data.rooms.slice(0, 8) : [];
    socket.join(rooms);
    socket.emit("joined", { rooms, events: [], last_event_id: nextId - 1 });
  });
});

server.listen(port, "127.0.0.1", () => console.log(`node socket.io reference on ${port}`));
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
