/* Borgerdialog: the moderation queue, live (server side: moderation/events.py).
 *
 * Loaded for moderators on every page (templates/moderation/_nav.html). It follows the
 * "moderators" room named by the navigation's count through the page's one live connection
 * (static/js/live-client.js): the server enters a moderator acting everywhere in "moderators" and a
 * scoped one in "moderators:area:<id>" for each of their areas, and sends each queue event
 * with the number of waiting items ("waiting", everywhere) or the number waiting in the
 * event's area ("area_waiting"; the navigation shows the sum over the moderator's areas).
 *
 * On /moderation the list follows: a new item is fetched from /moderation/items/<id>/row
 * (which checks the viewer's scope again) and added at the end, oldest first, if it matches
 * the page's filters and this is the last page; an item decided elsewhere leaves the list;
 * a claim or release refreshes the item. On an item's own page, a decision by someone else
 * shows a notice. Without JavaScript every page works as before.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script) return;
  const cfg = script.dataset;
  const me = Number(cfg.me);

  function start() {
    const client = window.borgerdialogLiveClient;
    const nav = document.querySelector("[data-moderation-waiting]");
    if (!client || !nav) return;

    const str = (name) => cfg["str" + name] || "";
    const plural = (name, n) =>
      n === 1 ? str(name + "One") : str(name + "Many").replace("999999", String(n));

    // The first join replays a few events from before the page's cursor: the page already
    // shows them.
    const liveScript = document.querySelector("script[data-last-event-id]");
    const pageCursor = liveScript ? Number(liveScript.dataset.lastEventId) : NaN;
    const fresh = (msg) => !(msg.id <= pageCursor);
    const versions = new Map(); // what -> newest event id that set it
    const newer = (what, id) => {
      if ((versions.get(what) || 0) > id) return false;
      versions.set(what, id);
      return true;
    };

    let areas = null; // a scoped moderator's waiting items per area
    if (nav.dataset.waitingAreas) {
      try {
        areas = JSON.parse(nav.dataset.waitingAreas);
      } catch (err) {
        areas = null;
      }
    }

    // --- the navigation's count ------------------------------------------------------------

    function setWaiting(n) {
      nav.dataset.moderationWaiting = String(n);
      nav.replaceChildren();
      if (n > 0) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = String(n);
        const label = document.createElement("span");
        label.className = "visually-hidden";
        label.textContent = " " + (n === 1 ? str("WaitingOne") : str("WaitingMany"));
        nav.append(badge, label);
      }
      if (list && !filtered && total) total.textContent = "(" + plural("Total", n) + ")";
    }

    function updateCount(msg) {
      if (typeof msg.waiting === "number" && !areas) {
        if (newer("waiting", msg.id)) setWaiting(msg.waiting);
      } else if (typeof msg.area_waiting === "number" && areas && msg.area_id != null) {
        const key = String(msg.area_id);
        if (!(key in areas) || !newer("area:" + key, msg.id)) return;
        areas[key] = msg.area_waiting;
        setWaiting(Object.values(areas).reduce((a, b) => a + b, 0));
      }
    }

    // --- the queue page ---------------------------------------------------------------------

    const list = document.querySelector("[data-queue]");
    const total = document.querySelector("[data-queue-total]");
    const filtered = !!(total && total.dataset.queueFiltered === "1");
    const empty = document.querySelector("[data-queue-empty]");
    const bulk = document.querySelector("[data-queue-bulk]");
    const later = document.querySelector("[data-queue-later]");
    const announcer = document.querySelector("[data-queue-announcer]");
    const itemHeading = document.querySelector("[data-live-item]");
    const itemDecided = document.querySelector("[data-item-decided]");
    const queues = new Map(); // item id -> promise: one change of an item at a time

    function announce(text) {
      if (!announcer || !text) return;
      announcer.textContent = "";
      window.setTimeout(() => (announcer.textContent = text), 50);
    }

    function matchesFilters(msg) {
      const d = list.dataset;
      return (
        (!d.filterCommittee || String(msg.committee_id) === d.filterCommittee) &&
        (!d.filterArea || String(msg.area_id) === d.filterArea) &&
        (!d.filterReason || msg.reason === d.filterReason)
      );
    }

    function row(itemId) {
      return document.getElementById("item-" + itemId);
    }

    function showOrHideEmpty() {
      const has = !!list.querySelector(":scope > li");
      if (empty) empty.hidden = has;
      if (bulk) bulk.hidden = !has;
    }

    function setFilteredTotal(delta) {
      if (!filtered || !total) return;
      const n = Math.max(0, (Number(total.dataset.queueTotal) || 0) + delta);
      total.dataset.queueTotal = String(n);
      total.textContent = "(" + plural("Total", n) + ")";
    }

    async function fetchRow(itemId) {
      const url = list.dataset.rowUrl.replace("/0/", "/" + itemId + "/");
      const content = await client.fetchHtml(url, { gone: [410, 404, 403] });
      return content && content.querySelector("li.queue-item");
    }

    function removeRow(itemId) {
      const li = row(itemId);
      if (!li) return false;
      const focused = li.contains(document.activeElement);
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      if (focused) {
        // Keep keyboard users in the list, not at the top of the page.
        const target = next ? next.querySelector("h2") : list;
        if (target) {
          target.setAttribute("tabindex", "-1");
          target.focus({ preventScroll: false });
        }
      }
      showOrHideEmpty();
      return true;
    }

    async function refreshRow(msg, adding) {
      const current = row(msg.item_id);
      if (!current && !adding) return;
      if (!current && (!matchesFilters(msg) || list.dataset.hasMore === "1")) {
        if (later && list.dataset.hasMore === "1" && matchesFilters(msg)) later.hidden = false;
        return;
      }
      const li = await fetchRow(msg.item_id);
      const now = row(msg.item_id);
      if (!li) {
        if (now) removeRow(msg.item_id);
        return;
      }
      if (now) {
        now.replaceWith(li);
        return;
      }
      list.append(li); // oldest first: a new item goes last
      showOrHideEmpty();
      if (fresh(msg)) announce(str("Arrived"));
    }

    function onQueueMessage(msg) {
      if (msg.item_id == null) return undefined;
      if (itemHeading && String(msg.item_id) === itemHeading.dataset.liveItem) {
        if (msg.kind === "queue_item_decided" && msg.by !== me && fresh(msg) && itemDecided) {
          itemDecided.hidden = false;
        }
      }
      if (!list) return undefined;
      const job = () => {
        switch (msg.kind) {
          case "queue_item_added":
            if (fresh(msg) && matchesFilters(msg) && !row(msg.item_id)) setFilteredTotal(+1);
            return refreshRow(msg, true);
          case "queue_item_decided":
            removeRow(msg.item_id);
            if (fresh(msg) && matchesFilters(msg)) setFilteredTotal(-1);
            if (msg.by !== me && fresh(msg)) {
              announce(str("Decided").replace("999999", String(msg.item_id)));
            }
            return undefined;
          case "queue_item_claimed":
          case "queue_item_released":
            return refreshRow(msg, false);
          default:
            return undefined;
        }
      };
      const prev = queues.get(msg.item_id) || Promise.resolve();
      const next = prev.catch(() => undefined).then(job);
      queues.set(msg.item_id, next);
      const forget = () => {
        if (queues.get(msg.item_id) === next) queues.delete(msg.item_id);
      };
      next.then(forget, forget);
      return next;
    }

    // Each message once (live-client.js keeps the books); one it could not apply comes again
    // with a replay.
    function apply(msg) {
      if (!("waiting" in msg) && !("area_waiting" in msg) && msg.item_kind == null) return undefined;
      updateCount(msg);
      return onQueueMessage(msg);
    }

    client.subscribe({ rooms: [nav.dataset.liveRoom], lastEventId: pageCursor, apply });

    window.borgerdialogModeration = {
      get waiting() {
        return Number(nav.dataset.moderationWaiting);
      },
    };
  }

  // Deferred scripts run in document order (while readyState is "interactive"), and this one
  // comes before live-client.js: start once all of them have run (live-client.js connects
  // then too, after this subscribed).
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
