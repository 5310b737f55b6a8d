/* Borgerdialog live updates (server side: forum/events.py and forum/live.py).
 *
 * Follows the rooms named by [data-live-room] elements through the page's one live
 * connection (static/js/live-client.js: joining, replay from the last event id applied,
 * fetching fragments) and applies the small messages the server pushes after each commit.
 * Messages carry ids and counts, never text: the HTML of a new or changed post comes from
 * the ordinary fragment route, which applies the same visibility rule as the page. Every
 * message is applied at most once (by event id and kind); counts keep the value of the
 * newest event that set them.
 *
 * Without JavaScript (or without this script) every page works as before.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  const client = window.borgerdialogLiveClient;
  if (!script || !client) return;
  const cfg = script.dataset;
  const rooms = Array.from(
    new Set(Array.from(document.querySelectorAll("[data-live-room]"), (el) => el.dataset.liveRoom))
  );
  if (!rooms.length) return;

  const debate = document.querySelector("[data-live-room^='topic:'][data-topic-id]");
  const topicId = debate ? Number(debate.dataset.topicId) : null;
  const displayDepth = Number(cfg.displayDepth) || 4;
  const announcer = document.getElementById("live-announcer");
  const stale = document.querySelector(".live-stale");
  const newPostsButton = debate && debate.querySelector("[data-live-new-posts]");
  // A long debate has pages: new top-level posts go on one of them (the first when the
  // newest come first, else the last). Elsewhere a link to that page counts them.
  const elsewhere = debate && debate.querySelector("[data-live-elsewhere]");
  const onLivePage = !debate || !debate.dataset.livePage || debate.dataset.page === debate.dataset.livePage;
  const elsewhereIds = new Set();
  const nativeAnchoring = !!(window.CSS && CSS.supports && CSS.supports("overflow-anchor", "auto"));

  const pageCursor = cfg.lastEventId === "" ? NaN : Number(cfg.lastEventId); // shown up to here
  const versions = new Map(); // what -> id of the event whose value is shown

  // --- strings (rendered by the template through gettext) -------------------------------

  const str = (name) => cfg["str" + name] || "";
  const plural = (name, n) =>
    n === 1 ? str(name + "One") : str(name + "Many").replace("999999", String(n));

  // --- connection (static/js/live-client.js) -----------------------------------------------

  client.subscribe({
    rooms,
    lastEventId: pageCursor,
    apply,
    // The server asks for a reload (too much missed), or the session this page was made
    // for ended elsewhere (a new password): its personal rooms are not for this connection.
    onStale: (message) => showStale(message),
  });

  // --- receiving ----------------------------------------------------------------------------

  function apply(msg) {
    if (msg.post_count != null && msg.topic_id != null) setPostCount(msg);
    if (msg.stance_counts && msg.topic_id === topicId) setStanceCounts(msg);
    switch (msg.kind) {
      case "post_published":
        return withPost(msg, () => refreshPost(msg, true));
      case "post_removed":
        return withPost(msg, () => removeFromView(msg));
      case "post_deleted":
        return withPost(msg, () => placeholderOrRemove(msg.post_id, str("Deleted"), "deleted"));
      case "support_changed":
        return setSupport(msg);
      case "topic_changed":
      case "topic_opened":
        if (msg.topic_id === topicId && !(msg.id <= pageCursor)) return refreshHead(msg);
        return undefined;
      case "outcome_update":
        // A new update of the topic's outcome: show the notice the page holds (its link
        // leads to the outcome; nothing is fetched).
        if (msg.topic_id === topicId) {
          for (const el of document.querySelectorAll("[data-live-outcome]")) el.hidden = false;
        }
        return undefined;
      case "opinion_map_updated":
        // An opinion map or voting page (its room is the round's): fetch the map anew.
        return refreshOpinionMap(msg);
      case "notification":
        return setUnread(msg);
      case "topic_activity":
        return undefined; // the count was set above
      default:
        // post_created, post_edited and the restricted copies sent to an author or to
        // moderators: fetch the post as this viewer may see it.
        if (msg.post_id != null) return withPost(msg, () => refreshPost(msg, false));
        return undefined;
    }
  }

  // --- the opinion map ------------------------------------------------------------------------

  // The map was recomputed: each [data-opinion-map-live] box fetches its fragment (the same
  // visibility rule as the page: published statements only, no one's identity) and replaces
  // its content. A box that cannot be fetched shows the page's notice to reload instead.
  async function refreshOpinionMap(msg) {
    if (msg.id <= pageCursor) return;
    const shown = versions.get("opinion-map");
    if (shown !== undefined && shown >= msg.id) return;
    versions.set("opinion-map", msg.id);
    for (const box of document.querySelectorAll("[data-opinion-map-live]")) {
      let content = null;
      try {
        content = await client.fetchHtml(box.dataset.fragmentUrl);
      } catch (err) {
        content = null;
      }
      if (!content) {
        for (const el of document.querySelectorAll("[data-live-opinion-map]")) el.hidden = false;
        continue;
      }
      box.replaceChildren(content);
      if (announcer && box.dataset.updatedText) announcer.textContent = box.dataset.updatedText;
    }
  }

  // --- posts ---------------------------------------------------------------------------------

  const queues = new Map(); // post id -> promise: one change of a post at a time, in order

  function withPost(msg, job) {
    if (msg.topic_id !== topicId || msg.post_id == null) return undefined;
    const prev = queues.get(msg.post_id) || Promise.resolve();
    const next = prev.catch(() => undefined).then(job);
    queues.set(msg.post_id, next);
    const forget = () => {
      if (queues.get(msg.post_id) === next) queues.delete(msg.post_id);
    };
    next.then(forget, forget);
    return next;
  }

  const article = (postId) => document.getElementById("p" + postId);
  const STATE_CLASSES = ["post-pending", "post-rejected", "post-hidden", "post-removed", "post-deleted"];
  const shownAsPublished = (el) => !STATE_CLASSES.some((c) => el.classList.contains(c));
  const isPlaceholder = (el) => !!el.querySelector(":scope > .placeholder");
  const hasReplies = (li) => !!li.querySelector(":scope > ol.replies > li, :scope > p.continue");

  const fetchFragment = (postId) =>
    fetchHtml(cfg.fragmentUrl.replace("/0/", "/" + postId + "/"), "li.post-item");

  // The element ``selector`` of what an ordinary GET route answers for this viewer; null
  // when the route says the viewer may not see it (404/403).
  async function fetchHtml(url, selector) {
    const content = await client.fetchHtml(url);
    return content && content.querySelector(selector);
  }

  async function refreshPost(msg, skipIfShown) {
    const current = article(msg.post_id);
    if (current && skipIfShown && shownAsPublished(current) && !isPlaceholder(current)) return;
    if (!current && msg.parent_id == null && !onLivePage) {
      noteElsewhere(msg); // a new top-level post: on another page of the debate
      return;
    }
    const li = await fetchFragment(msg.post_id);
    if (!li) {
      if (current) removeLi(current.closest("li"));
      return;
    }
    const fresh = li.querySelector(":scope > article.post");
    if (!fresh) return;
    if (fresh.id !== "p" + msg.post_id) {
      placeContinueLink(li);
      return;
    }
    const now = article(msg.post_id);
    if (now) {
      if (isPlaceholder(fresh) && !hasReplies(now.closest("li"))) removeLi(now.closest("li"));
      else keepPosition(fresh, () => now.replaceWith(fresh));
      return;
    }
    if (isPlaceholder(fresh)) return; // nothing of it is on this page
    insertPost(li, msg);
  }

  function insertPost(li, msg) {
    const depth = Number(msg.depth) || 0;
    let list;
    if (msg.parent_id == null) {
      const filter = debate.dataset.stance;
      if (filter && msg.stance !== filter) return;
      list = rootList();
      const first = debate.dataset.sort === "newest";
      keepPosition(li, () => (first ? list.prepend(li) : list.append(li)));
    } else {
      const parent = article(msg.parent_id);
      if (!parent || depth >= displayDepth) return; // the parent is not shown on this page
      const parentLi = parent.closest("li");
      list = parentLi.querySelector(":scope > ol.replies");
      if (!list) {
        list = document.createElement("ol");
        list.className = "thread replies";
        parentLi.append(list);
      }
      keepPosition(li, () => list.append(li));
    }
    const el = li.querySelector(":scope > article.post");
    el.classList.add("post-new");
    noteNew(el);
  }

  function rootList() {
    let list = debate.querySelector(":scope > ol.thread");
    if (!list) {
      list = document.createElement("ol");
      list.className = "thread";
      const empty = debate.querySelector("[data-live-empty]");
      if (empty) empty.replaceWith(list);
      else debate.append(list);
    }
    return list;
  }

  function placeContinueLink(li) {
    const anchor = li.querySelector(":scope > article.post");
    const link = li.querySelector(":scope > p.continue");
    const current = anchor && article(anchor.id.slice(1));
    if (!current || !link) return;
    const currentLi = current.closest("li");
    const old = currentLi.querySelector(":scope > p.continue");
    keepPosition(link, () => (old ? old.replaceWith(link) : currentLi.append(link)));
    noteNew(link);
  }

  function removeFromView(msg) {
    const el = article(msg.post_id);
    // An author or moderator sees the post with its state; their own message refreshes it.
    if (!el || !shownAsPublished(el)) return;
    placeholderOrRemove(msg.post_id, msg.placeholder ? str("Hidden") : null, "hidden");
  }

  function placeholderOrRemove(postId, text, state) {
    const el = article(postId);
    if (!el) return;
    const li = el.closest("li");
    if (!text || !hasReplies(li)) {
      removeLi(li);
      return;
    }
    const p = document.createElement("p");
    p.className = "placeholder";
    p.id = "p" + postId + "-h";
    p.textContent = text;
    el.className = "post post-" + state;
    el.replaceChildren(p);
  }

  function removeLi(li) {
    if (!li) return;
    keepPosition(li, () => li.remove(), true);
    renderNotice();
  }

  // Content added or removed above the viewport would move the page under the reader.
  // Browsers with scroll anchoring (overflow-anchor) prevent that; for the others, shift.
  function keepPosition(el, change, removing) {
    if (nativeAnchoring) {
      change();
      return;
    }
    const before = removing ? el.getBoundingClientRect() : null;
    change();
    const box = removing ? before : el.getBoundingClientRect();
    if (box && box.bottom <= 0) window.scrollBy(0, removing ? -box.height : box.height);
  }

  // --- the topic's title, status and introduction ---------------------------------------------

  let headQueue = Promise.resolve(); // one refresh at a time, in order

  function refreshHead(msg) {
    const job = headQueue.catch(() => undefined).then(async () => {
      if (!newer("head", msg.id)) return;
      const head = document.querySelector("[data-live-topic-head]");
      if (!head || !cfg.headUrl) {
        showStale(str("Changed"));
        return;
      }
      const fresh = await fetchHtml(
        cfg.headUrl.replace("/0/", "/" + topicId + "/"), "[data-live-topic-head]"
      );
      if (!fresh) {
        showStale(str("Changed")); // the topic is no longer shown to this viewer
        return;
      }
      const oldTitle = head.querySelector("h1").textContent;
      const couldPost = head.dataset.canPost;
      head.replaceWith(fresh);
      const title = fresh.querySelector("h1").textContent;
      if (title !== oldTitle && document.title.startsWith(oldTitle)) {
        document.title = title + document.title.slice(oldTitle.length);
      }
      if (announcer) announcer.textContent = str("TopicUpdated");
      // Opened or closed for posts: the forms and reply buttons on the page are out of date.
      if (fresh.dataset.canPost !== couldPost) showStale(str("Changed"));
    });
    headQueue = job;
    return job;
  }

  // --- "n new posts" and the polite announcement ----------------------------------------------

  let unseen = [];
  let toAnnounce = 0;
  let announceTimer = null;
  const observer =
    "IntersectionObserver" in window
      ? new IntersectionObserver(
          (entries) => entries.forEach((e) => e.isIntersecting && markSeen(e.target)),
          { threshold: 0.5 }
        )
      : null;

  function inView(el) {
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < (window.innerHeight || document.documentElement.clientHeight);
  }

  function noteNew(el) {
    toAnnounce += 1;
    if (!announceTimer) {
      // One short sentence every few seconds, not one per post.
      announceTimer = setTimeout(() => {
        if (announcer) announcer.textContent = plural("New", toAnnounce);
        toAnnounce = 0;
        announceTimer = null;
      }, 1500);
    }
    if (inView(el)) return;
    unseen.push(el);
    if (observer) observer.observe(el);
    renderNotice();
  }

  function markSeen(el) {
    unseen = unseen.filter((x) => x !== el);
    if (observer) observer.unobserve(el);
    renderNotice();
  }

  function renderNotice() {
    if (!newPostsButton) return;
    unseen = unseen.filter((el) => el.isConnected);
    const box = newPostsButton.parentElement;
    if (!unseen.length) {
      box.hidden = true;
      return;
    }
    newPostsButton.textContent = plural("New", unseen.length);
    box.hidden = false;
  }

  function noteElsewhere(msg) {
    const filter = debate.dataset.stance;
    if (!elsewhere || (filter && msg.stance !== filter) || elsewhereIds.has(msg.post_id)) return;
    // The first join replays a few events from before the page was read: those posts are
    // on their pages already (the pager counts them), not new.
    if (msg.id <= pageCursor) return;
    elsewhereIds.add(msg.post_id);
    const n = elsewhereIds.size;
    const text = n === 1 ? elsewhere.dataset.strOne : elsewhere.dataset.strMany.replace("999999", String(n));
    elsewhere.querySelector("a").textContent = text;
    elsewhere.hidden = false;
    if (announcer) announcer.textContent = text;
  }

  if (newPostsButton) {
    newPostsButton.addEventListener("click", () => {
      const el = unseen[0];
      if (!el) return;
      el.scrollIntoView({ block: "center" });
      if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
      el.focus({ preventScroll: true });
      markSeen(el);
    });
  }

  // --- counts -----------------------------------------------------------------------------------

  function newer(what, id) {
    if ((versions.get(what) || 0) > id) return false;
    versions.set(what, id);
    return true;
  }

  function setPostCount(msg) {
    if (!newer("posts:" + msg.topic_id, msg.id)) return;
    document.querySelectorAll('[data-post-count="' + msg.topic_id + '"]').forEach((el) => {
      el.textContent = plural("Posts", msg.post_count);
    });
  }

  function setStanceCounts(msg) {
    if (!newer("stances:" + msg.topic_id, msg.id)) return;
    debate.querySelectorAll("[data-stance-count]").forEach((el) => {
      const n = msg.stance_counts[el.dataset.stanceCount];
      if (n != null) el.textContent = String(n);
    });
  }

  function setSupport(msg) {
    if (msg.topic_id !== topicId || !newer("support:" + msg.post_id, msg.id)) return;
    const el = article(msg.post_id);
    const span = el && el.querySelector(".supports");
    if (!span) return;
    span.dataset.count = String(msg.support_count);
    span.textContent = plural("Agree", msg.support_count);
  }

  function setUnread(msg) {
    const bell = document.querySelector('.count[data-live-room^="user:"]');
    if (!bell) return;
    let n;
    if (typeof msg.unread === "number") {
      if (!newer("unread", msg.id)) return;
      n = msg.unread;
    } else {
      n = (Number(bell.dataset.unread) || 0) + 1;
    }
    bell.dataset.unread = String(n);
    bell.replaceChildren();
    if (n > 0) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = String(n);
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = " " + str("Unread");
      bell.append(badge, label);
    }
  }

  function showStale(text) {
    if (!stale) return;
    stale.querySelector("[data-live-stale-text]").textContent = text || str("Changed");
    stale.hidden = false;
  }

  if (stale) {
    stale.querySelector("[data-live-reload]").addEventListener("click", () => window.location.reload());
  }

  // For tests and curious developers: the state of the live connection.
  window.borgerdialogLive = client.state;
})();
