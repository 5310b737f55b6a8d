/* Borgerdialog's one live connection per page (server side: forum/events.py, forum/live.py).
 *
 * Page scripts (live.js, qa.js, moderation.js) subscribe with the rooms they follow, the
 * last event id their page shows and a function that applies one message; this module
 * opens one Socket.IO connection for all of them, joins the rooms on every (re)connection
 * with the last event id applied so the server replays what was missed (with ``seen_ids``
 * so it fills holes behind it), hands every message to every subscriber at most once (by
 * event id and kind; a message a subscriber could not apply comes again with the next
 * replay), and fetches HTML fragments from the ordinary GET routes (which apply the same
 * visibility rules as the pages).
 *
 * When the instance's Redis subscription comes back after Redis restarted, the server sends
 * ``resync``: the rooms are joined again in the same way, so messages published while the
 * instances could not hear each other are replayed, each applied once.
 *
 * A server-side disconnect (the session or login ended: a new password, "log out
 * everywhere", lost moderator rights) is answered by connecting again with what the cookie
 * is worth now. If the rooms of a signed-in person are refused then, the public rooms are
 * joined alone (the page keeps following what everyone sees), the subscribers are told (they
 * offer a reload), and the next time the page gets the focus it connects once more: a login
 * in another tab brings the person's rooms back.
 *
 * Loaded once per page, before the page scripts (deferred scripts run in document order); it
 * connects when the document has been parsed, so every page script has subscribed by then.
 */
(() => {
  "use strict";

  if (window.borgerdialogLiveClient || typeof window.io !== "function") return;

  // Event ids are given when a transaction writes, not when it commits: on PostgreSQL an
  // event numbered just below the page's cursor may commit after the page was read. The
  // first join therefore replays a few ids before the cursor; re-applying them is harmless.
  const FIRST_JOIN_OVERLAP = 20;
  const RECENT_MAX = 100; // ids sent as seen_ids, so the server can fill holes behind them
  const FETCH_TRIES = 3;
  const MAX_SERVER_DISCONNECTS = 5; // reconnections in a row that the server ended again
  const PERSONAL_ROOM = /^(user:|moderators)/;
  const SESSION_CODES = new Set(["session_ended", "login_required", "forbidden"]);
  // A join the server could not answer (its database restarting, say): ask again after a
  // random wait that doubles, at most this many times in a row, so a page is never left
  // connected in no room and hearing nothing (docs/ARCHITECTURE.md, the live client).
  const MAX_JOIN_RETRIES = 8;

  const subscribers = [];
  let socket = null;
  let lastId = NaN;
  let firstFrom = 0; // where the first join replayed from (the page's cursor, less the overlap)
  let joinedOnce = false;
  let joinedRooms = [];
  let limited = false; // joined the public rooms only (a signed-in person's were refused)
  let serverDisconnects = 0;
  let joinRetries = 0;
  const done = new Set(); // "id:kind" applied by every subscriber
  const recent = []; // those ids, oldest first

  const warn = (...args) => window.console && console.warn("live:", ...args);

  function allRooms() {
    return Array.from(new Set(subscribers.flatMap((s) => s.rooms)));
  }

  // ``since``: replay from there at the latest (a resync: the server knows from where
  // messages may have been lost; what comes again is dropped by its id).
  function join(rooms, since) {
    if (!rooms.length) return;
    const payload = { rooms };
    if (Number.isFinite(lastId)) {
      let from = joinedOnce ? lastId : Math.max(0, lastId - FIRST_JOIN_OVERLAP);
      // Never before the page's own cursor: what came before it is on the page.
      if (Number.isFinite(since)) from = Math.max(Math.min(from, since), firstFrom);
      if (!joinedOnce) firstFrom = from;
      payload.last_event_id = from;
      const seen = recent.filter((id) => id <= from);
      if (seen.length) payload.seen_ids = seen;
    }
    socket.emit("join", payload);
  }

  function connect() {
    if (socket || !subscribers.length) return;
    const cursors = subscribers.map((s) => s.lastEventId).filter(Number.isFinite);
    lastId = cursors.length ? Math.min(...cursors) : NaN;
    socket = window.io({ reconnectionDelayMax: 10000 });

    socket.on("connect", () => {
      limited = false;
      join(allRooms());
    });
    socket.on("joined", (data) => {
      joinedOnce = true;
      serverDisconnects = 0;
      joinRetries = 0;
      joinedRooms = (data && data.rooms) || [];
      if (!Number.isFinite(lastId) && data && Number.isFinite(data.last_event_id)) {
        lastId = data.last_event_id;
      }
      ((data && data.events) || []).forEach(receive);
      subscribers.forEach((s) => s.joined && s.joined(data));
    });
    socket.on("live", receive);
    // The instance lost and regained its Redis subscription (Redis restarted), or another
    // instance died: messages may have passed it by. Join again from the id the server names
    // (or the last one applied), a random moment within the spread the server asks for, and
    // the replay brings them.
    socket.on("resync", (data) => {
      const within = Math.max(0, Math.min(60000, Number(data && data.within_ms) || 0));
      window.setTimeout(() => {
        if (!socket.connected || !joinedOnce) return;
        const rooms = allRooms();
        const since = data && Number.isFinite(data.since) ? data.since : NaN;
        join(limited ? rooms.filter((room) => !PERSONAL_ROOM.test(room)) : rooms, since);
      }, Math.random() * within);
    });
    socket.on("reload", (data) => subscribers.forEach((s) => s.stale(data && data.message, "reload")));
    socket.on("error", (data) => {
      const code = data && data.code;
      if (data && data.event === "join" && SESSION_CODES.has(code) && !limited) {
        // This connection is not (or no longer) the signed-in person the page was made for:
        // follow what everyone may see, and say so.
        limited = true;
        join(allRooms().filter((room) => !PERSONAL_ROOM.test(room)));
      }
      if (SESSION_CODES.has(code)) {
        subscribers.forEach((s) => s.stale(data.message, code));
      } else warn(code, data && data.message);
      if (data && data.event === "join" && code === "server_error" && joinRetries < MAX_JOIN_RETRIES) {
        joinRetries += 1;
        const wait = Math.min(30000, 500 * 2 ** joinRetries) * (0.5 + Math.random() / 2);
        window.setTimeout(() => {
          if (!socket.connected) return; // the next connect joins anyway
          const rooms = allRooms();
          join(limited ? rooms.filter((room) => !PERSONAL_ROOM.test(room)) : rooms);
        }, wait);
      }
    });
    // The server ends the connections of a session or login that ended: connect again with
    // what the cookie is worth now (the same account in another tab still is, a stale copy
    // is not). Socket.IO itself reconnects after every other kind of disconnect.
    socket.on("disconnect", (reason) => {
      joinedRooms = [];
      if (reason === "io server disconnect" && serverDisconnects++ < MAX_SERVER_DISCONNECTS) {
        window.setTimeout(() => socket.connect(), 200 * serverDisconnects);
      }
    });
    Object.entries(extraEvents).forEach(([name, handlers]) =>
      socket.on(name, (data) => handlers.forEach((fn) => fn(data)))
    );

    // A laptop that goes offline reconnects the moment it is back, not at the next backoff.
    window.addEventListener("offline", () => socket.disconnect());
    window.addEventListener("online", () => socket.connected || socket.connect());
    // Back to a page whose personal rooms were refused: maybe the person logged in again.
    window.addEventListener("focus", retryPersonal);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") retryPersonal();
    });
  }

  function retryPersonal() {
    if (!limited || !socket) return;
    limited = false;
    serverDisconnects = 0;
    socket.disconnect();
    socket.connect();
  }

  const extraEvents = {}; // other server events (qa_presence): name -> handlers

  // --- receiving -----------------------------------------------------------------------------

  function markDone(msg, key) {
    done.add(key);
    if (!recent.includes(msg.id)) {
      recent.push(msg.id);
      recent.sort((a, b) => a - b);
      if (recent.length > RECENT_MAX) recent.shift();
    }
    if (!(msg.id <= lastId)) lastId = msg.id;
    if (done.size > 20 * RECENT_MAX) {
      // Forget keys older than anything a replay can send again.
      const oldest = recent[0];
      for (const k of done) if (Number(k.split(":")[0]) < oldest) done.delete(k);
      subscribers.forEach((s) => {
        for (const k of s.attempts.keys()) if (Number(k.split(":")[0]) < oldest) s.attempts.delete(k);
      });
    }
  }

  function receive(msg) {
    if (!msg || typeof msg.id !== "number" || typeof msg.kind !== "string") return;
    const key = msg.id + ":" + msg.kind;
    if (done.has(key)) return;
    Promise.all(subscribers.map((s) => s.offer(msg, key))).then((results) => {
      // Not applied somewhere: a later replay (its id is missing from seen_ids) brings it again.
      if (results.every(Boolean)) markDone(msg, key);
    });
  }

  class Subscriber {
    constructor(options) {
      this.rooms = (options.rooms || []).filter(Boolean);
      this.lastEventId = Number.isFinite(options.lastEventId) ? options.lastEventId : NaN;
      this.apply = options.apply || (() => undefined);
      this.onStale = options.onStale || null;
      this.joined = options.onJoined || null;
      this.attempts = new Map(); // "id:kind" -> promise of whether it was applied
    }

    offer(msg, key) {
      let attempt = this.attempts.get(key);
      if (attempt) return attempt;
      let result;
      try {
        result = this.apply(msg);
      } catch (err) {
        result = Promise.reject(err);
      }
      attempt = Promise.resolve(result).then(
        () => true,
        (err) => {
          this.attempts.delete(key);
          warn("could not apply", key, err);
          return false;
        }
      );
      this.attempts.set(key, attempt);
      return attempt;
    }

    stale(message, code) {
      if (this.onStale) this.onStale(message, code);
    }
  }

  // --- fragments -------------------------------------------------------------------------------

  // What an ordinary GET route answers for this viewer, as a fragment; null when the route
  // says the viewer may not see it (404/403, or ``gone`` statuses). Retries other failures.
  async function fetchHtml(url, options = {}) {
    const gone = options.gone || [404, 403];
    let wait = options.wait || 500;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (gone.includes(res.status)) return null;
        if (res.ok) {
          const tpl = document.createElement("template");
          tpl.innerHTML = (await res.text()).trim();
          return tpl.content;
        }
        if (attempt >= FETCH_TRIES) throw new Error("HTTP " + res.status);
      } catch (err) {
        if (attempt >= FETCH_TRIES) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait *= 2;
    }
  }

  // --- the public surface ------------------------------------------------------------------------

  function subscribe(options) {
    const sub = new Subscriber(options);
    subscribers.push(sub);
    Object.entries(options.events || {}).forEach(([name, fn]) => {
      if (!extraEvents[name]) {
        extraEvents[name] = [];
        if (socket) socket.on(name, (data) => extraEvents[name].forEach((f) => f(data)));
      }
      extraEvents[name].push(fn);
    });
    if (socket && socket.connected && joinedOnce) join(sub.rooms); // a late subscriber
    return sub;
  }

  const state = {
    get socket() {
      return socket;
    },
    get lastEventId() {
      return lastId;
    },
    get joined() {
      return joinedOnce && !!socket && socket.connected && joinedRooms.length > 0;
    },
    get rooms() {
      return joinedRooms.slice();
    },
    get limited() {
      return limited;
    },
    get applied() {
      return done.size;
    },
  };

  window.borgerdialogLiveClient = { subscribe, fetchHtml, state };

  // Deferred scripts run while readyState is "interactive", before DOMContentLoaded.
  if (document.readyState === "complete") window.setTimeout(connect, 0);
  else document.addEventListener("DOMContentLoaded", connect);
})();
