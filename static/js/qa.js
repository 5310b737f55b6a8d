/* Live Q&A (server side: qa/live.py, qa/events.py, qa/views.py).
 *
 * On the session page (#qa-session) and the projector (#projector): follows the session's
 * rooms (qa:<id> for votes, status, pin and state; topic:<id> for its posts; user:<me> and
 * moderators for held questions) through the page's one live connection
 * (static/js/live-client.js: joining, replay of what was missed, reconnecting after the
 * server ends the connection, fetching fragments), and applies the small messages: counts
 * directly, everything with text by fetching the item's HTML from a GET route that applies
 * visibility.
 * The page's forms are sent with fetch (the same POST routes answer JSON), so acting does
 * not reload the page. Without JavaScript every form works as an ordinary POST.
 */
(() => {
  "use strict";

  const page = document.getElementById("qa-session");
  const projector = document.getElementById("projector");
  const root = page || projector;
  const client = window.borgerdialogLiveClient;
  if (!root || !client) return;
  const cfg = root.dataset;
  const rooms = cfg.rooms.split(",").filter(Boolean);
  const topicId = Number(cfg.topicId);

  const pageCursor = cfg.lastEventId === "" ? NaN : Number(cfg.lastEventId); // shown up to here
  const versions = new Map();

  const str = (name) => cfg["str" + name] || "";
  const plural = (name, n) =>
    n === 1 ? str(name + "One") : str(name + "Many").replace("999999", String(n));

  client.subscribe({
    rooms,
    lastEventId: pageCursor,
    apply: (msg) => (projector ? applyProjector(msg) : apply(msg)),
    // Too much missed, or the session ended (the person's rooms were refused; the public
    // ones are followed on): the page offers a reload (the projector just reloads).
    onStale: (_message, code) => (projector && code === "reload" ? window.location.reload() : stale()),
    events: { qa_presence: presence },
  });

  function newer(what, id) {
    if ((versions.get(what) || 0) > id) return false;
    versions.set(what, id);
    return true;
  }

  // --- the session page ----------------------------------------------------------------------

  const list = page && document.getElementById("qa-questions");
  const statements = page && document.getElementById("qa-statements");
  const banner = page && document.getElementById("qa-banner");
  const note = page && page.querySelector(".qa-js-message");

  function apply(msg) {
    if (msg.kind.startsWith("qa_")) {
      if (msg.session_id !== Number(cfg.sessionId)) return undefined;
      switch (msg.kind) {
        case "qa_votes":
          return setVotes(msg.post_id, msg.votes, msg.id);
        case "qa_question":
          return refreshItem(msg.post_id, null);
        case "qa_merged":
          removeItem(msg.post_id);
          return refreshItem(msg.merged_into, null);
        case "qa_pinned":
          return refreshPinned();
        default:
          // qa_session, qa_changed, qa_scheduled: the page's forms depend on the state
          if (msg.state && msg.state !== cfg.state) stale();
          return undefined;
      }
    }
    if (msg.topic_id !== topicId || msg.post_id == null) return undefined;
    if (msg.kind === "support_changed" || msg.kind === "notification") return undefined;
    const shown = itemEl(msg.post_id);
    if (msg.kind === "post_published" && msg.id <= pageCursor && shown &&
        !shown.classList.contains("qa-held")) {
      return undefined; // replayed from before the page was read, and shown as it is
    }
    return refreshItem(msg.post_id, msg.parent_id);
  }

  const itemUrl = (id) => cfg.itemUrl.replace(/\/0$/, "/" + id);
  const itemEl = (id) =>
    document.getElementById("q" + id) || document.getElementById("a" + id) ||
    document.getElementById("s" + id);

  const fetchHtml = (url) => client.fetchHtml(url, { wait: 300 });

  const queues = new Map(); // one refresh of an item at a time, in order
  function refreshItem(id, parentId) {
    if (id == null) return undefined;
    const prev = queues.get(id) || Promise.resolve();
    const next = prev.catch(() => undefined).then(() => doRefresh(id, parentId));
    queues.set(id, next);
    next.finally(() => queues.get(id) === next && queues.delete(id));
    return next;
  }

  async function doRefresh(id, parentId) {
    const frag = await fetchHtml(itemUrl(id));
    const fresh = frag && frag.querySelector("li");
    const current = itemEl(id);
    if (!fresh) {
      if (current) removeItem(id);
      return;
    }
    keepOpenState(current, fresh);
    if (fresh.classList.contains("qa-question")) {
      if (current) current.replaceWith(fresh);
      placeQuestion(fresh);
    } else if (fresh.classList.contains("qa-answer")) {
      if (current) current.replaceWith(fresh);
      else {
        const q = document.getElementById("q" + parentId);
        const answers = q && q.querySelector(".qa-answers");
        if (!answers) return; // the question is not on this page (yet)
        answers.append(fresh);
      }
    } else if (fresh.classList.contains("qa-statement")) {
      if (current) current.replaceWith(fresh);
      else {
        statements.prepend(fresh);
        statements.closest("section").hidden = false;
      }
    }
    if (!current) fresh.classList.add("qa-new");
    emptyNote();
  }

  function keepOpenState(current, fresh) {
    // A politician typing an answer keeps the form open and the text typed.
    if (!current) return;
    const oldForm = current.querySelector(".qa-answer-form");
    const newForm = fresh.querySelector(".qa-answer-form");
    if (oldForm && newForm) {
      newForm.open = oldForm.open;
      const a = oldForm.querySelector("textarea");
      const b = newForm.querySelector("textarea");
      if (a && b) b.value = a.value;
    }
    const oldMerge = current.querySelector(".qa-merge input[name=into_id]");
    const newMerge = fresh.querySelector(".qa-merge input[name=into_id]");
    if (oldMerge && newMerge) newMerge.value = oldMerge.value;
  }

  function removeItem(id) {
    const el = itemEl(id);
    if (el) el.remove();
    emptyNote();
  }

  function emptyNote() {
    const empty = page.querySelector("[data-qa-empty]");
    if (empty) empty.hidden = !!list.querySelector("li.qa-question");
  }

  function sortKey(li) {
    const published = li.dataset.published === "1" ? 1 : 0;
    const id = Number(li.dataset.postId);
    if (cfg.sort === "newest") return [-id];
    return [published, -Number(li.dataset.votes || 0), id];
  }

  function before(a, b) {
    const x = sortKey(a);
    const y = sortKey(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i];
    return false;
  }

  function placeQuestion(li) {
    const items = Array.from(list.children).filter((x) => x !== li);
    const after = items.find((x) => before(li, x));
    if (after) {
      if (li.nextElementSibling !== after) list.insertBefore(li, after);
    } else if (list.lastElementChild !== li) {
      list.append(li);
    }
  }

  function setVotes(postId, votes, id) {
    if (!newer("votes:" + postId, id)) return;
    const li = document.getElementById("q" + postId);
    if (!li) return;
    li.dataset.votes = String(votes);
    const count = li.querySelector("[data-votes-count]");
    if (count) count.textContent = plural("Votes", votes);
    placeQuestion(li);
  }

  async function refreshPinned() {
    const frag = await fetchHtml(cfg.bannerUrl);
    banner.replaceChildren(...(frag ? Array.from(frag.childNodes) : []));
    banner.hidden = !banner.textContent.trim();
    // The pinned marks and pin buttons of the questions change too.
    const ids = new Set(Array.from(list.querySelectorAll("li.qa-pinned"), (li) => li.dataset.postId));
    const link = banner.querySelector("a[href^='#q']");
    if (link) ids.add(link.getAttribute("href").slice(2));
    await Promise.all(Array.from(ids, (id) => refreshItem(Number(id), null)));
  }

  function presence(data) {
    if (!data || data.session_id !== Number(cfg.sessionId)) return;
    if (page) {
      const el = page.querySelector("[data-watchers]");
      if (el) el.textContent = plural("Watching", data.watchers);
      page.querySelectorAll("[data-politician]").forEach((li) => {
        const here = data.politicians.includes(Number(li.dataset.politician));
        li.className = here ? "present" : "absent";
        li.querySelector(".qa-present-label").textContent = here ? "(" + str("Present") + ")" : "";
      });
    }
  }

  function stale() {
    if (!note) return;
    note.replaceChildren();
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn-small";
    button.textContent = str("Reload");
    button.addEventListener("click", () => window.location.reload());
    note.append(document.createTextNode(str("Changed") + " "), button);
    note.hidden = false;
  }

  function say(text) {
    if (!note || !text) return;
    note.textContent = text;
    note.hidden = false;
  }

  // Forms: sent with fetch; the server answers JSON ({ok, message, ...}).
  if (page) {
    page.addEventListener("submit", async (event) => {
      const form = event.target.closest("form[data-qa-form]");
      if (!form) return;
      event.preventDefault();
      const kind = form.dataset.qaForm;
      const submitter = event.submitter;
      const body = new FormData(form);
      if (submitter && submitter.name) body.append(submitter.name, submitter.value);
      const buttons = form.querySelectorAll("button");
      buttons.forEach((b) => (b.disabled = true));
      try {
        // getAttribute: a control named "action" shadows form.action
        const res = await fetch(form.getAttribute("action"), {
          method: "POST", body, credentials: "same-origin",
          headers: { "X-Requested-With": "fetch", Accept: "application/json" },
        });
        const data = await res.json().catch(() => ({ ok: false, message: str("Failed") }));
        say(data.message || (data.ok ? "" : str("Failed")));
        if (!data.ok) return;
        const text = form.querySelector("textarea");
        if (text && kind !== "reject") text.value = "";
        const nonce = form.querySelector("input[name=nonce]");
        if (nonce) nonce.value = randomHex();
        const li = form.closest("li.qa-question");
        if (kind === "ask" && data.post_id) refreshItem(data.post_id, null);
        else if (li) refreshItem(Number(li.dataset.postId), null);
        if (kind === "pin") refreshPinned();
      } catch (err) {
        say(str("Failed"));
      } finally {
        buttons.forEach((b) => (b.disabled = false));
      }
    });

    const countdown = page.querySelector("[data-countdown]");
    const starts = countdown && Date.parse(countdown.closest("[data-starts]").dataset.starts);
    if (countdown && Number.isFinite(starts)) {
      const tick = () => {
        const left = Math.max(0, Math.floor((starts - Date.now()) / 1000));
        const d = Math.floor(left / 86400);
        const h = Math.floor((left % 86400) / 3600);
        const m = Math.floor((left % 3600) / 60);
        const s = left % 60;
        const pad = (n) => String(n).padStart(2, "0");
        countdown.textContent = (d ? d + " " + str("Days") + ", " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
      };
      tick();
      setInterval(tick, 1000);
    }
  }

  function randomHex() {
    const a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // --- the projector ---------------------------------------------------------------------------

  let projectorTimer = null;
  function applyProjector(msg) {
    if (msg.kind.startsWith("qa_") && msg.session_id !== Number(cfg.sessionId)) return;
    if (!msg.kind.startsWith("qa_") && msg.topic_id !== topicId) return;
    if (msg.kind === "qa_session" && msg.state === "live") {
      window.location.reload();
      return;
    }
    // Everything the projector shows can change with any message: refetch, at most every
    // half second (votes arrive in bursts).
    if (projectorTimer) return;
    projectorTimer = setTimeout(async () => {
      projectorTimer = null;
      const res = await fetch(cfg.contentUrl, { credentials: "omit" });
      if (res.ok) document.getElementById("pj-content").innerHTML = await res.text();
    }, 500);
  }

  window.borgerdialogQa = client.state;
})();
