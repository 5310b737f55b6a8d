"""Live updates: what each committed event pushes to which Socket.IO room, and replay.

The write path records events in the transaction (``eventlog.record``). Here:

* before the commit (the unit of work's ``live.read_facts``, forum/uow.py) reads, inside
  that transaction, the few facts the routing needs (a topic's area, public state and
  counts; users' unread counts);
* after the commit (``live.push``) each event becomes zero or more small messages (ids,
  kinds, counts, never text), each for an audience of rooms, and is emitted;
* a client that (re)joins sends the last event id it saw and gets the messages it missed,
  computed by the same routing from the same log, filtered to the rooms it is in.

Rooms: ``topic:<id>`` (anyone who may see the topic), ``user:<id>`` (that user),
``moderators`` (moderators and admins acting everywhere), ``moderators:area:<id>`` (a
moderator scoped to that area), ``activity`` (post counts for topic lists). A message
about a post nobody but its author and moderators may see (pending, rejected, hidden,
removed) goes only to ``user:<author>`` and the moderator rooms; when such a post may have
been public, the topic room gets a ``post_removed`` message without content. Clients fetch
the HTML of a post through an ordinary GET route that applies ``can_see_post``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import socketio as python_socketio
from flask import Flask, current_app, g, request
from flask import session as flask_session
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from . import eventlog, permissions, uow
from .errors import DomainError
from .extensions import db, socketio
from .models import Event, Notification, Post, PostState, Topic, User, UserSession, utcnow
from .sessions import live_room_key

log = logging.getLogger(__name__)

SETTINGS: dict[str, object] = {
    # A client away longer than this (its first missed event is older) is told to reload.
    "LIVE_REPLAY_MAX_AGE": 60 * 60,
    # ... and so is one that missed more messages than this (messages it would receive,
    # not log rows: a published reply is two rows and one message; see ``replay``).
    "LIVE_REPLAY_MAX_EVENTS": 500,
    # Origins allowed besides the page's own (comma-separated in the environment).
    "LIVE_ALLOWED_ORIGINS": (),
    # Largest Socket.IO message (engine.io's max_http_buffer_size); bigger ones close the
    # connection.
    "LIVE_MAX_MESSAGE_BYTES": 16 * 1024,
    # Incoming events per connection: a bucket of BURST tokens refilled at RATE per second.
    "LIVE_RATE_PER_SECOND": 5.0,
    "LIVE_RATE_BURST": 20,
    "LIVE_MAX_ROOMS": 8,
    "LIVE_MAX_SEEN_IDS": 200,
    # The Redis pub/sub channel shared by the instances of one deployment. None: derived from
    # LIVE_CHANNEL_PREFIX (forum/config.py), so deployments on one Redis never share it.
    "LIVE_CHANNEL": None,
    # After Redis comes back, clients join again (and replay what they missed) spread over
    # this many seconds (the ``resync`` event, see _RedisManager).
    "LIVE_RESYNC_SPREAD_S": 2.0,
    # Joins refused as forbidden before the connection is closed (forum/events.py).
    "LIVE_MAX_REFUSALS": 5,
    # Joins (with their replay) running at once in one process; the others wait their turn
    # without a database connection, so a reconnect storm (an instance killed: its clients
    # all join the other at once) cannot take the whole pool from page requests.
    "LIVE_JOIN_CONCURRENCY": 5,
    # None: gevent when gevent has patched the standard library (gunicorn -k gevent),
    # otherwise threading. eventlet is never chosen implicitly (see PITFALLS.md).
    "SOCKETIO_ASYNC_MODE": None,
}

PUBLIC = PostState.PUBLISHED.value
DELETED = PostState.DELETED.value
# States whose post the tree still shows as a placeholder when replies hang on it.
PLACEHOLDER_STATES = frozenset(s.value for s in permissions.PLACEHOLDER_POST_STATES)
PUBLIC_TOPIC_STATES = frozenset(s.value for s in permissions.PUBLIC_TOPIC_STATES)
# Kinds after which a topic's published count or stance counts may have changed.
COUNT_KINDS = frozenset({"post_published", "post_removed", "post_deleted"})
# Payload fields a message may carry: ids, states and counts, never text.
SMALL_FIELDS = (
    "topic_id",
    "post_id",
    "parent_id",
    "author_id",
    "depth",
    "stance",
    "state",
    "previous_state",
    "status",
    "area_id",
    "committee_id",
    "post_count",
    "support_count",
    "item_id",
)
# How far behind the last id a client's holes are filled (see ``replay``).
GAP_IDS = 200
# A replay reads at most this many log rows per message it may send (LIVE_REPLAY_MAX_EVENTS):
# a reply published at once is two rows (created, published) and one message; a held post
# is rows for its author and the moderators only. Activity and moderators' rooms gather
# events from every room, so they may read more rows per message. A client whose missed
# stretch is longer than that is asked to reload, like one that missed too many messages.
REPLAY_ROWS_PER_MESSAGE = 4
REPLAY_ROWS_PER_MESSAGE_SITEWIDE = 8
_MANAGER_KEY = "borgerdialog.live_manager"
_CURSOR_KEY = "live_cursor"  # attribute of ``g`` in a request
# Pages whose template needs the event cursor even for anonymous readers.
LIVE_PAGES = frozenset({"forum.topic", "forum.home", "forum.committee", "forum.area"})
# Of those, pages whose view reads the cursor itself (``remember_cursor``), in the same
# statement as the other facts it needs first (forum/queries.py topic_page_facts).
SELF_CURSOR_PAGES = frozenset({"forum.topic"})


class LiveError(DomainError):
    """A refused client event; ``code`` is stable for programs, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- Socket.IO options -----------------------------------------------------------------


def async_mode(app: Flask) -> str:
    mode = app.config.get("SOCKETIO_ASYNC_MODE")
    if mode:
        return str(mode)
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def _extra_origins(app: Flask) -> frozenset[str]:
    raw = app.config.get("LIVE_ALLOWED_ORIGINS") or ()
    if isinstance(raw, str):
        raw = raw.split(",")
    return frozenset(o.strip().rstrip("/") for o in raw if o.strip())


def origin_checker(extra: frozenset[str]) -> Callable[[str | None, dict], bool]:
    """Same origin only: the Origin's scheme and host must be the request's own.

    The scheme may be the one the proxy reports (X-Forwarded-Proto: the browser sees
    https while the app is spoken to over http); the host is never taken from a
    forwarded header. Handshakes without an Origin (non-browser clients) pass: browsers
    always send it, and cross-site pages are what the check is for.
    """

    def allowed(origin: str | None, environ: dict) -> bool:
        if not origin:
            return True
        origin = origin.rstrip("/")
        if origin in extra:
            return True
        parts = urlsplit(origin)
        schemes = {environ.get("wsgi.url_scheme", "http")}
        forwarded = environ.get("HTTP_X_FORWARDED_PROTO")
        if forwarded:
            schemes.add(forwarded.split(",")[0].strip())
        host = environ.get("HTTP_HOST", "")
        return parts.scheme in schemes and bool(host) and parts.netloc == host

    return allowed


def _limit_websocket_messages(server, limit: int) -> None:
    """engine.io checks a websocket message's size only once it has read all of it;
    simple-websocket can stop reading at the limit (and close with 1009, too big)."""
    eio = server.eio
    make = eio._async["websocket"]

    def limited(handler, srv):
        ws = make(handler, srv)
        if isinstance(getattr(ws, "server_args", None), dict):
            ws.server_args["max_message_size"] = limit
        return ws

    eio._async = {**eio._async, "websocket": limited}  # this server's copy only


SESSION_ROOM = "session:{user_id}:{version}"
# One login (forum/sessions.py): closed when that browser logs out.
LOGIN_ROOM = "session:{user_id}:login:{key}"


def _disconnect_members(manager, room: str, namespace: str | None) -> None:
    """Closing a ``session:`` room ends its connections in this process, not only the room:
    a session that ended (new password) must stop hearing the user's and moderators' rooms."""
    if not room.startswith("session:"):
        return
    namespace = namespace or "/"
    for sid, _eio_sid in list(manager.get_participants(namespace, room)):
        manager.server.disconnect(sid, namespace=namespace, ignore_queue=True)


class _LocalManager(python_socketio.Manager):
    limit = 0

    def set_server(self, server):
        super().set_server(server)
        _limit_websocket_messages(server, self.limit)

    def close_room(self, room, namespace=None):
        _disconnect_members(self, room, namespace)
        super().close_room(room, namespace)


RESYNC_EVENT = "resync"
# The subscriber's wait between attempts to reach Redis again: from the first to the last,
# doubling (python-socketio's own loop waits 1, 2, 4 ... 60 s, and what is published while it
# waits reaches nobody here).
RESYNC_RETRY_FIRST = 0.1
RESYNC_RETRY_MAX = 2.0
# Every instance says it is alive on the channel this often; one silent for ALIVE_TIMEOUT is
# taken for dead (see _RedisManager.start_heartbeat).
ALIVE_PREFIX = b'{"alive": '
ALIVE_EVERY = 1.0
ALIVE_TIMEOUT = 5.0
# A resync replays from this many ids before the newest one heard before the trouble: ids are
# handed out before commit, so a message just below it may have been the one lost.
RESYNC_OVERLAP = 20
# Event ids this process committed (or is committing) and has not published yet, with when
# they were handed to it: an instance that dies between a commit and its publish names the
# oldest in its "alive" beats, so the others resync from before it however late the publish
# was (a busy instance published 8 s after its commit in the topology bench). Ids of
# transactions that rolled back are forgotten after PENDING_MAX_S.
_pending: dict[int, float] = {}
PENDING_MAX_S = 60.0


def _oldest_pending() -> int | None:
    now = time.monotonic()
    for i in [i for i, t in _pending.items() if now - t > PENDING_MAX_S]:
        _pending.pop(i, None)
    return min(_pending, default=None)


# Another instance's request to resync is dropped when this instance told its clients to resync
# from that id or an older one after the request's failure, and at most this long ago.
RESYNC_COVERED_S = 30.0


class _RedisManager(python_socketio.RedisManager):
    """python-socketio's Redis manager, made to lose no live message when Redis restarts.

    Messages are fire-and-forget on Redis pub/sub: one published while Redis is down fails
    (this instance's own clients got it, the others' did not), and one published while an
    instance's subscriber is away reaches none of that instance's clients. They stay
    connected (their websocket is to the instance, not to Redis), so nothing made them replay.
    Here:

    * the subscriber has its own connection and reads the subscribe confirmations: every
      subscription after the first (a reconnect, ours or redis-py's own) and the first after
      a failure sends ``resync`` to this instance's clients, which join again with their
      last event id and get what they missed from the event log (``replay``), each once;
    * every instance says "alive" on the channel each second; when one goes silent (killed
      between a commit and its publish, say) the others resync their clients;
    * a publish that failed is remembered, and the next successful publish (or the
      subscriber's reconnect) first asks the other instances to resync their clients from
      just before the oldest message that failed. Also after a Redis restart: their own
      resync starts at the newest message *they* had heard, and a message committed before
      that but published late (a busy instance) failed after it. An instance that already
      told its clients to resync from that id or an older one, after the failure, drops the
      request (``_covered``), so a restart does not replay twice.

    The client waits a random part of ``within_ms`` before joining again, so a restart does
    not turn into every client's replay in the same second.
    """

    limit = 0
    resync_spread_ms = 2000

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._others_missed = False
        # host id -> (when last heard, monotonic; the newest message id heard by then)
        self._peers: dict[str, tuple[float, int]] = {}
        self._heartbeat_wanted = self._beating = False
        self._newest_heard = 0  # the newest live message id this instance's clients got
        self._lost_since: int | None = None  # that id when the subscription was lost
        self._missed_since: int | None = None  # and when a publish failed
        self._missed_at = 0.0  # monotonic time of the first failed publish
        self._resynced: tuple[float, int | None] | None = None  # (monotonic, since) told last
        self.resyncs = 0  # times this instance told its clients to resync (tests, logs)

    def set_server(self, server):
        super().set_server(server)
        _limit_websocket_messages(server, self.limit)
        if self._heartbeat_wanted:
            self.start_heartbeat()

    def _handle_close_room(self, message):  # here, and from the other instances
        _disconnect_members(self, message.get("room") or "", message.get("namespace"))
        super()._handle_close_room(message)

    # --- publishing ---------------------------------------------------------------------

    def _resync_payload(self, since: int | None) -> dict:
        payload: dict = {"within_ms": int(self.resync_spread_ms)}
        if since:  # 0: nothing heard yet, so the clients' own last ids are the place
            payload["since"] = max(0, since - RESYNC_OVERLAP)
        return payload

    def _handle_emit(self, message):  # every message this instance's clients get
        data = message.get("data")
        if message.get("event") == RESYNC_EVENT and message.get("host_id") != self.host_id:
            asked = data[0].get("since") if data and isinstance(data[0], dict) else None
            if self._covered(asked, message.get("failed_ago")):
                log.info("live: resync from event %s asked by another instance: already "
                         "told this instance's clients", asked)  # fmt: skip
                return
            self._resynced = (time.monotonic(), asked)
            self.resyncs += 1
            log.warning("live: another instance failed to publish; telling this instance's "
                        "clients to resync from event %s", asked)  # fmt: skip
        if message.get("event") == "live" and data and isinstance(data[0], dict):
            msg_id = data[0].get("id")
            if isinstance(msg_id, int) and msg_id > self._newest_heard:
                self._newest_heard = msg_id
        super()._handle_emit(message)

    def _covered(self, asked, failed_ago) -> bool:
        """Did this instance already tell its clients to resync from ``asked`` or an older
        id, after the failure (``failed_ago`` seconds before the request was sent)?"""
        if self._resynced is None or not isinstance(asked, int):
            return False
        told_at, since = self._resynced
        now = time.monotonic()
        try:
            failed_at = now - float(failed_ago)  # the transit only makes this later
        except (TypeError, ValueError):
            return False
        return (
            since is not None
            and since <= asked
            and told_at >= failed_at
            and now - told_at <= RESYNC_COVERED_S
        )

    def _resync_message(self) -> dict:
        return {
            "method": "emit",
            "event": RESYNC_EVENT,
            "data": [self._resync_payload(self._missed_since)],
            "binary": False,
            "namespace": "/",
            "room": None,
            "skip_sid": None,
            "callback": None,
            "host_id": self.host_id,
            # How long ago the first publish failed: an instance that resynced its clients
            # from early enough after that drops the request (``_covered``).
            "failed_ago": round(time.monotonic() - self._missed_at, 3),
        }

    def _reachable(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:
            return False

    def _tell_others(self) -> None:
        """After publishes failed: ask the other instances to resync their clients from just
        before the oldest message that failed. After a Redis restart too (a new run id):
        each instance then resyncs its own clients from the newest message it had heard,
        which may be newer than one this instance committed earlier and published late
        (measured: 8 s late on a busy machine, a post no client got); those that resynced
        from early enough drop the request (``_covered``)."""
        if not self._reachable():
            return  # not reachable yet: the next publish tries again
        try:
            # Also kept in Redis for a while: a request published while another instance's
            # subscription is still away reaches nobody there (pub/sub keeps nothing), so
            # each instance reads these when it subscribes again (``_floor``).
            key = self._floor_key()
            pipe = self.redis.pipeline()
            pipe.hset(key, self.host_id, int(self._missed_since or 0))
            pipe.expire(key, int(RESYNC_COVERED_S))
            pipe.execute()
        except Exception:
            return  # not reachable after all: the next publish tries again
        if super()._publish(self._resync_message()) is not None:
            self._others_missed = False
            self._missed_since = None
            log.warning("live: publishing works again; asked the other instances to resync")

    def _publish(self, data):
        if self._others_missed:
            self._tell_others()
        result = super()._publish(data)  # None when it gave up (Redis unreachable)
        if result is None and data.get("event") != RESYNC_EVENT:
            first = (data.get("data") or [{}])[0] if data.get("event") == "live" else {}
            msg_id = first.get("id") if isinstance(first, dict) else None
            since = msg_id - 1 if isinstance(msg_id, int) else self._newest_heard
            if not self._others_missed:
                self._others_missed = True
                self._missed_at = time.monotonic()
                self._missed_since = since
            else:  # concurrent requests publish out of order: the oldest failure counts
                self._missed_since = min(self._missed_since or since, since)
        return result

    # --- subscribing --------------------------------------------------------------------

    # --- instances that die -------------------------------------------------------------
    # An instance killed between a commit and its publish took those messages with it: its
    # own clients reconnect elsewhere and replay, but the other instances' clients never
    # hear of them. Every instance says it is alive on the channel every ALIVE_EVERY seconds;
    # one not heard for ALIVE_TIMEOUT seconds is gone, and the instances that noticed tell
    # their clients to resync (its last messages are then only a few ids behind theirs).

    def start_heartbeat(self) -> None:
        """Start saying "alive" (once; now, or as soon as the Socket.IO server exists)."""
        self._heartbeat_wanted = True
        if self.server is not None and not self._beating:
            self._beating = True
            self.server.start_background_task(self._heartbeat)

    def _beat(self) -> bytes:
        """``{"alive": <host id>}``, with ``"pending"``: the oldest id this process has not
        published yet, if any."""
        pending = _oldest_pending()
        tail = b"}" if pending is None else b', "pending": %d}' % pending
        return ALIVE_PREFIX + self.json.dumps(self.host_id).encode() + tail

    def _heartbeat(self) -> None:
        while True:
            try:
                if not self.connected or self.redis is None:
                    self._redis_connect()
                self.redis.publish(self.channel, self._beat())
            except Exception:  # Redis away: the subscribers' reconnects resync
                self.connected = False
            time.sleep(ALIVE_EVERY)

    def _heard_peer(self, data: bytes) -> None:
        try:
            beat = self.json.loads(data.decode())
            host, pending = beat["alive"], beat.get("pending")
        except Exception:
            return
        if host != self.host_id:
            # What it may commit and not publish is newer than what we have heard now, or
            # than the oldest message it has not published yet (a late publish).
            newest = self._newest_heard
            if isinstance(pending, int) and pending > 0:
                newest = min(newest, pending - 1 + RESYNC_OVERLAP) if newest else pending - 1
            self._peers[host] = (time.monotonic(), newest)

    def _check_peers(self) -> None:
        now = time.monotonic()
        gone = [h for h, (seen, _n) in self._peers.items() if now - seen > ALIVE_TIMEOUT]
        if gone:
            # What they may have committed and not published is newer than what we had
            # heard when they last said they were alive.
            since = min(self._peers[h][1] for h in gone)
            for host in gone:
                del self._peers[host]
            log.warning("live: %d instance(s) went silent; telling this instance's clients "
                        "to resync", len(gone))  # fmt: skip
            self._resync_here(since)

    def _resync_here(self, since: int | None) -> None:
        """Tell this instance's clients to join again from ``since`` (the newest message id
        heard before the trouble, less RESYNC_OVERLAP): what they got after it may come
        again and is dropped by id, what they missed comes for sure — however many messages
        they got meanwhile (``seen_ids`` alone reaches back only a hundred)."""
        self.resyncs += 1
        self._resynced = (time.monotonic(), max(0, since - RESYNC_OVERLAP) if since else None)
        log.warning("live: telling this instance's clients to resync from event %s", since)
        self.server.emit(
            RESYNC_EVENT, self._resync_payload(since), namespace="/", ignore_queue=True
        )

    def _floor_key(self) -> str:
        return f"{self.channel}:resync-floor"

    def _floor(self, since: int | None) -> int | None:
        """``since``, or an older id that another instance failed to publish from in the
        last RESYNC_COVERED_S seconds (its request may have crossed while we were away)."""
        try:
            asked = [int(v) for v in self.redis.hvals(self._floor_key())]
        except Exception:
            return since
        known = [v for v in [since, *asked] if v]
        return min(known) if known else since

    def _subscribed(self, resync: bool) -> None:
        """Confirmed: from here on every message reaches us. Whatever was published before
        is in the event log; the clients replay it."""
        self._peers.clear()  # silent while we were away: not dead
        if resync:
            self._resync_here(self._floor(self._lost_since))
            self._lost_since = None
            if self._others_missed:
                self._tell_others()

    def _listen(self):
        channel = self.channel.encode("utf-8")
        retry = RESYNC_RETRY_FIRST
        resync_next = False  # the first subscription of a healthy start needs none
        while True:
            pubsub = None
            try:
                self._redis_connect()
                # Our own pub/sub object: the publisher's reconnects replace ``self.pubsub``.
                pubsub = self.redis.pubsub(ignore_subscribe_messages=False)
                pubsub.subscribe(self.channel)
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    self._check_peers()
                    if message is None:
                        continue
                    kind = message.get("type")
                    if kind == "subscribe":
                        retry = RESYNC_RETRY_FIRST
                        self._subscribed(resync_next)
                        resync_next = True
                    elif kind == "message" and message.get("channel") == channel:
                        data = message["data"]
                        if data.startswith(ALIVE_PREFIX):
                            self._heard_peer(data)
                        else:
                            yield data
            except Exception as exc:
                log.warning("live: lost the Redis subscription (%s); retrying in %.1f s",
                            exc.__class__.__name__, retry)  # fmt: skip
                resync_next = True
                if self._lost_since is None:
                    self._lost_since = self._newest_heard
                self._peers.clear()  # we cannot hear them now; silence is not death
                time.sleep(retry)
                retry = min(retry * 2, RESYNC_RETRY_MAX)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: S110 (a dead connection: nothing to close)
                        pass


def live_channel(app: Flask) -> str:
    """The Redis pub/sub channel of this deployment's live messages and disconnects."""
    return str(app.config.get("LIVE_CHANNEL") or f"{app.config['LIVE_CHANNEL_PREFIX']}-live")


def socketio_options(app: Flask) -> dict:
    """Keyword arguments for ``socketio.init_app``: one call site, in the factory."""
    url = app.config.get("REDIS_URL")
    channel = live_channel(app)
    limit = int(app.config["LIVE_MAX_MESSAGE_BYTES"])
    # Always pass a client manager: Flask-SocketIO keeps init_app options between apps,
    # so an app without Redis after one with it would inherit the old Redis manager.
    manager = _RedisManager(url, channel=channel) if url else _LocalManager()
    manager.limit = limit
    if isinstance(manager, _RedisManager):
        manager.resync_spread_ms = int(float(app.config["LIVE_RESYNC_SPREAD_S"]) * 1000)
        if not app.config.get("TESTING"):
            # From the first request served: only an instance that serves publishes messages
            # (a `flask mail send`, or an app built to check its configuration, does not).
            @app.before_request
            def _start_heartbeat() -> None:
                if not manager._heartbeat_wanted:
                    manager.start_heartbeat()

    # push() emits through this app's own server (the manager learns it), not through
    # whichever app last bound the shared ``socketio`` object.
    app.extensions[_MANAGER_KEY] = manager
    return {
        "async_mode": async_mode(app),
        "client_manager": manager,
        "cors_allowed_origins": origin_checker(_extra_origins(app)),
        "max_http_buffer_size": limit,
        # A client's events are handled one after another in its own thread (greenlet): a
        # flood cannot start a thread per event before the rate limit sees it.
        "async_handlers": False,
        "logger": False,
        "engineio_logger": False,
    }


# --- rooms a client may join ---------------------------------------------------------------

# prefix -> resolve(user, rest) -> the socket rooms to enter; raises LiveError.
RoomResolver = Callable[[User | None, str], list[str]]
_resolvers: dict[str, RoomResolver] = {}
# prefix -> route(event, facts) for events of rooms other packages own.
_routers: dict[str, Callable[[dict, Facts], list[Out]]] = {}
# prefix -> read(events, session): what that package's routing needs, read in the transaction.
_fact_readers: dict[str, Callable[[list[dict], Session], object]] = {}


def register_room(
    prefix: str,
    resolve: RoomResolver,
    route: Callable[[dict, Facts], list[Out]] | None = None,
    facts: Callable[[list[dict], Session], object] | None = None,
) -> None:
    """Let another package (live Q&A, the moderation queue) add a room type.

    ``resolve(user, key)`` decides who may join ``<prefix>:<key>``; ``route`` turns that
    room's events into messages (default: forward the event's small fields to the room).
    ``facts(events, session)`` reads, inside the committing transaction (and again for a
    replay), what ``route`` needs about that room's events (e.g. the moderation queue's
    waiting counts); ``route`` finds it in ``facts.extra[prefix]``.
    """
    _resolvers[prefix] = resolve
    if route is not None:
        _routers[prefix] = route
    if facts is not None:
        _fact_readers[prefix] = facts


# Event kinds other packages record in a topic's room about the whole topic (outcomes'
# ``outcome_update``): each goes to ``topic:<id>`` as a small message (ids, no text), so open
# topic pages can say "something new, reload". The topic room only admits those who may see
# the topic.
_topic_notices: set[str] = set()


def register_topic_notice(kind: str) -> None:
    _topic_notices.add(kind)


def unknown_room(name: str) -> LiveError:
    return LiveError("unknown_room", _("There is no room called %(room)s.", room=name[:60]))


def _resolve_topic(user: User | None, key: str) -> list[str]:
    if not key.isdigit() or len(key) > 10:
        raise unknown_room(f"topic:{key}")
    topic = db.session.get(Topic, int(key))
    if topic is None or not permissions.can_see_topic(user, topic):
        # The same answer for a topic that does not exist and one the user may not see.
        raise unknown_room(f"topic:{key}")
    return [f"topic:{topic.id}"]


def _resolve_user(user: User | None, key: str) -> list[str]:
    if user is None:
        raise LiveError("login_required", _("Log in to receive your notifications."))
    if key != str(user.id):
        raise LiveError("forbidden", _("You may only join your own notifications."))
    return [f"user:{user.id}"]


def _resolve_moderators(user: User | None, key: str) -> list[str]:
    if key or not permissions.is_moderator(user):
        raise LiveError("forbidden", _("Only moderators may join the moderators' room."))
    scope = permissions.moderated_area_ids(user)
    if scope is None:
        return ["moderators"]
    return [f"moderators:area:{a}" for a in sorted(scope)]


def _resolve_activity(user: User | None, key: str) -> list[str]:
    if key:
        raise unknown_room(f"activity:{key}")
    return ["activity"]


register_room("topic", _resolve_topic)
register_room("user", _resolve_user)
register_room("moderators", _resolve_moderators)
register_room("activity", _resolve_activity)


def resolve_rooms(user: User | None, names: Iterable[str]) -> dict[str, list[str]]:
    """Map each requested room name to the socket rooms to enter; all or nothing."""
    out: dict[str, list[str]] = {}
    for name in names:
        prefix, _sep, key = name.partition(":")
        resolver = _resolvers.get(prefix)
        if resolver is None:
            raise unknown_room(name)
        out[name] = resolver(user, key)
    return out


def moderator_rooms(area_id: int | None) -> tuple[str, ...]:
    return ("moderators", f"moderators:area:{area_id}") if area_id else ("moderators",)


# --- facts read inside the transaction ----------------------------------------------------


@dataclass
class TopicFacts:
    area_id: int | None
    public: bool
    post_count: int
    stance_counts: dict[str, int] | None = None


@dataclass
class Facts:
    topics: dict[int, TopicFacts] = field(default_factory=dict)
    unread: dict[int, int] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)  # prefix -> a package's facts


Out = tuple[tuple[str, ...], dict]


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _changes_stances(ev: dict) -> bool:
    p = ev["payload"]
    return (
        ev["subject_type"] == "post"
        and p.get("depth") == 0
        and bool(p.get("stance"))
        and ev["kind"] not in ("support_changed", "post_created")
    )


def read_facts(events: list[dict], session: Session | None = None) -> Facts:
    """The topics' and users' current facts, in the session's transaction (<= 3 queries, plus
    what the readers registered for other packages' rooms read for their events)."""
    session = session or db.session
    topic_ids = {t for ev in events if (t := _int(ev["payload"].get("topic_id")))}
    user_ids = {
        ev["subject_id"]
        for ev in events
        if ev["kind"] == "notification" and ev["subject_type"] == "user"
    }
    facts = Facts()
    if topic_ids:
        for tid, area_id, status, post_count in session.execute(
            select(Topic.id, Topic.area_id, Topic.status, Topic.post_count).where(
                Topic.id.in_(topic_ids)
            )
        ):
            facts.topics[tid] = TopicFacts(
                area_id, status.value in PUBLIC_TOPIC_STATES, post_count or 0
            )
    stance_topics = {
        ev["payload"]["topic_id"]
        for ev in events
        if _changes_stances(ev) and ev["payload"].get("topic_id") in facts.topics
    }
    if stance_topics:
        for tf in (facts.topics[t] for t in stance_topics):
            tf.stance_counts = {"for": 0, "against": 0, "question": 0}
        for tid, stance, n in session.execute(
            select(Post.topic_id, Post.stance, func.count(Post.id))
            .where(
                Post.topic_id.in_(stance_topics),
                Post.parent_id.is_(None),
                Post.state == PostState.PUBLISHED,
                Post.stance.is_not(None),
            )
            .group_by(Post.topic_id, Post.stance)
        ):
            facts.topics[tid].stance_counts[stance.value] = n
    if user_ids:
        facts.unread = {u: 0 for u in user_ids}
        facts.unread.update(
            session.execute(
                select(Notification.user_id, func.count(Notification.id))
                .where(Notification.user_id.in_(user_ids), Notification.read_at.is_(None))
                .group_by(Notification.user_id)
            ).all()
        )
    for prefix, reader in _fact_readers.items():
        mine = [ev for ev in events if ev["room"].partition(":")[0] == prefix]
        if mine:
            facts.extra[prefix] = reader(mine, session)
    return facts


# --- routing: events -> messages -----------------------------------------------------------


def small_message(ev: dict, kind: str | None = None, **extra) -> dict:
    """The small message of an event (id, kind and the ``SMALL_FIELDS`` of its payload, plus
    ``extra``): what a room is told; clients fetch the text through a GET that checks rights.
    Public: packages that route their own rooms (moderation, qa) build their messages with it."""
    msg = {"id": ev["id"], "kind": kind or ev["kind"]}
    p = ev["payload"]
    for key in SMALL_FIELDS:
        if key not in p:
            continue
        value = p[key]
        if value is None or isinstance(value, int) or (isinstance(value, str) and len(value) <= 40):
            msg[key] = value
    msg.update(extra)
    return msg


def _counts(tf: TopicFacts | None) -> dict:
    if tf is None:
        return {}
    out: dict = {"post_count": tf.post_count}
    if tf.stance_counts is not None:
        out["stance_counts"] = dict(tf.stance_counts)
    return out


def _route_post(ev: dict, facts: Facts, fresh: frozenset[int]) -> list[Out]:
    p = ev["payload"]
    kind, state, prev = ev["kind"], p.get("state"), p.get("previous_state")
    topic_room = ev["room"]
    tf = facts.topics.get(p.get("topic_id"))
    author = _int(p.get("author_id"))
    # Without facts (they could not be read) only unscoped moderators hear: fewer, never more.
    restricted = ((f"user:{author}",) if author else ()) + moderator_rooms(
        tf.area_id if tf else None
    )
    public_fields = ("topic_id", "post_id", "parent_id", "depth", "stance", "support_count")
    out: list[Out] = []

    def public(k: str, **extra) -> None:
        msg = {"id": ev["id"], "kind": k} | {f: p.get(f) for f in public_fields} | extra
        if k in COUNT_KINDS:
            msg.update(_counts(tf))
        out.append(((topic_room,), msg))
        if k in COUNT_KINDS and tf is not None and tf.public:
            activity = {
                "id": ev["id"],
                "kind": "topic_activity",
                "topic_id": p.get("topic_id"),
                "post_count": tf.post_count,
            }
            out.append((("activity",), activity))

    if state == PUBLIC:
        public(kind if kind != "post_created" else "post_published")
        if prev is not None and prev != PUBLIC and p.get("post_id") not in fresh:
            out.append((restricted, small_message(ev)))  # the author and the queue learn it is out
    elif state == DELETED:
        if prev is None or prev == PUBLIC or prev in PLACEHOLDER_STATES:
            public("post_deleted")
        if prev != PUBLIC:  # the topic room never knew it as it was; the queue did
            out.append((restricted, small_message(ev)))
    elif state is not None:
        out.append((restricted, small_message(ev)))
        # A post that may have been public leaves everyone else's view, without content.
        if kind != "post_created" and (prev is None or prev == PUBLIC):
            out.append(
                (
                    (topic_room,),
                    {
                        "id": ev["id"],
                        "kind": "post_removed",
                        "topic_id": p.get("topic_id"),
                        "post_id": p.get("post_id"),
                        "placeholder": state in PLACEHOLDER_STATES,
                        **_counts(tf),
                    },
                )
            )
            if tf is not None and tf.public:
                out.append(
                    (
                        ("activity",),
                        {
                            "id": ev["id"],
                            "kind": "topic_activity",
                            "topic_id": p.get("topic_id"),
                            "post_count": tf.post_count,
                        },
                    )
                )
    return out


def _route_topic(ev: dict, facts: Facts) -> list[Out]:
    p = ev["payload"]
    if p.get("status") in PUBLIC_TOPIC_STATES and ev["room"].startswith("topic:"):
        return [((ev["room"],), small_message(ev))]
    area = _int(p.get("area_id"))
    return [(moderator_rooms(area), small_message(ev))]


def route(ev: dict, facts: Facts, fresh: frozenset[int] = frozenset()) -> list[Out]:
    """The messages one committed event becomes, each with the rooms that may hear it.

    ``fresh``: posts created in the same batch (published at once: nobody held them).
    """
    room, subject = ev["room"], ev["subject_type"]
    prefix = room.partition(":")[0]
    if prefix in _routers:
        return _routers[prefix](ev, facts)
    if prefix == "topic" and ev["kind"] in _topic_notices:
        return [((room,), small_message(ev))]
    if subject == "post" and prefix == "topic" and "state" in ev["payload"]:
        return _route_post(ev, facts, fresh)
    if prefix == "user":
        msg = small_message(ev, notification_kind=ev["payload"].get("kind"))
        uid = _int(ev["subject_id"])
        if uid in facts.unread:
            msg["unread"] = facts.unread[uid]
        return [((room,), msg)]
    if subject == "topic":
        return _route_topic(ev, facts)
    if room == "moderators":
        tf = facts.topics.get(ev["payload"].get("topic_id"))
        area = _int(ev["payload"].get("area_id")) or (tf.area_id if tf else None)
        return [(moderator_rooms(area), small_message(ev))]
    if prefix in _resolvers and prefix not in ("topic", "activity"):
        return [((room,), small_message(ev))]
    return []


def messages(events: list[dict], facts: Facts) -> list[Out]:
    """Route a batch in id order; a post created and published in the batch is one message."""
    published = {
        ev["payload"].get("post_id")
        for ev in events
        if ev["kind"] == "post_published" and ev["subject_type"] == "post"
    }
    created = {
        ev["payload"].get("post_id")
        for ev in events
        if ev["kind"] == "post_created" and ev["subject_type"] == "post"
    }
    fresh = frozenset(published & created)
    out: list[Out] = []
    for ev in sorted(events, key=lambda e: e["id"]):
        if ev["kind"] == "post_created" and ev["payload"].get("post_id") in fresh:
            continue
        out.extend(route(ev, facts, fresh))
    return out


# --- push after commit ---------------------------------------------------------------------

_FACTS = "live.facts"
_ENDED = "live.ended_sessions"


def read_facts_before_commit(unit: uow.Unit, events: list[dict]) -> None:
    """In the transaction, before its commit: the facts ``push`` routes by."""
    now = time.monotonic()
    if len(_pending) > 10_000:  # rolled back and never pushed, in a process with no beats
        _oldest_pending()
    for ev in events:
        if isinstance(ev.get("id"), int):
            _pending[ev["id"]] = now  # until ``push`` has published it (see _pending)
    try:
        unit.state[_FACTS] = read_facts(events, unit.session)
    except Exception:  # the commit must not fail because live updates could not be routed
        log.exception("live: could not read facts for %d events", len(events))


def live_server(app: Flask | None = None):
    """This process's Socket.IO server of ``app`` (default: the current app). Public: packages
    ask it who is in a room (qa's presence)."""
    manager = (app or current_app).extensions.get(_MANAGER_KEY)
    if manager is not None:
        return getattr(manager, "server", None)
    return socketio.server


def push(unit: uow.Unit, events: list[dict]) -> None:
    """Emit the messages of a committed transaction (never raises: the commit is done)."""
    if not events:
        return
    try:
        facts = unit.state.get(_FACTS) or Facts()
        server = live_server(unit.session.app)
        if server is None:
            return
        for audience, msg in messages(events, facts):
            # The benchmark measures delivery latency from this timestamp (ms since epoch).
            msg["sent_at"] = round(time.time() * 1000, 1)
            to = list(audience) if len(audience) > 1 else audience[0]
            server.emit("live", msg, to=to, namespace="/")
    except Exception:
        log.exception("live: pushing %d events failed", len(events))
    finally:
        for ev in events:
            _pending.pop(ev.get("id"), None)


# --- sessions that end ---------------------------------------------------------------------
# Each signed-in connection is also in ``session:<user>:<session version>`` and in its
# login's ``session:<user>:login:<key>`` (events.py). A new password or logging out
# everywhere bumps the version (every session ends, even copied cookies); logging out
# deletes the login's row. After that commit the old version's (or the login's) room is
# closed, which disconnects its connections in every instance. They reconnect with
# whatever their cookie is worth now.


# Losing moderation rights (another role, or moderated areas taken away) ends the
# connections of every session of the user too, so they rejoin with what they may hear now:
# a former moderator stops hearing the moderators' rooms at once, not at the next reconnect.
# Gaining rights needs nothing: rooms are checked when joined.
_MODERATING = frozenset({"moderator", "admin"})


def _lost_moderation(state) -> bool:
    role = state.attrs.role.history
    if role.deleted and role.added:
        old, new = (getattr(r, "value", r) for r in (role.deleted[0], role.added[0]))
        if old in _MODERATING and old != new:
            return True
    areas = state.attrs.moderated_areas.history
    return bool(areas.deleted)


def note_ended_sessions(unit: uow.Unit, _events) -> None:
    """In the flush: the rooms of sessions this change ends (closed after the commit)."""
    session = unit.session
    ended: set[str] = set()
    for obj in session.dirty:
        if isinstance(obj, User):
            state = sa_inspect(obj)
            history = state.attrs.session_version.history
            if history.added and history.deleted and history.deleted[0] is not None:
                ended.add(SESSION_ROOM.format(user_id=obj.id, version=history.deleted[0]))
            if obj.id is not None and _lost_moderation(state):
                version = (
                    history.deleted[0]
                    if history.deleted and history.deleted[0] is not None
                    else obj.session_version
                )
                ended.add(SESSION_ROOM.format(user_id=obj.id, version=version))
    for obj in session.deleted:
        if isinstance(obj, UserSession):  # one login ended (logging out)
            ended.add(LOGIN_ROOM.format(user_id=obj.user_id, key=live_room_key(obj.key_hash)))
    if ended:
        unit.state.setdefault(_ENDED, set()).update(ended)


def end_sessions(unit: uow.Unit, _events) -> None:
    """After the commit: close the rooms of the sessions it ended."""
    ended = unit.state.get(_ENDED)
    if not ended:
        return
    server = live_server(unit.session.app)
    if server is None:
        return
    for room in sorted(ended):
        try:
            server.close_room(room, namespace="/")
        except Exception:  # the commit is done; a live failure must not undo the request
            log.exception("live: could not end the connections of %s", room)


# --- replay ---------------------------------------------------------------------------------


@dataclass
class Replay:
    messages: list[dict]
    reload: str | None = None  # "too_old" or "too_many": the client should reload instead


def cursor() -> int:
    """The newest event id (0 for an empty log)."""
    return db.session.scalar(select(func.max(Event.id))) or 0


def _event_dict(ev: Event) -> dict:
    d = eventlog.as_dict(ev)
    d["created_at"] = ev.created_at
    return d


def replay(rooms: set[str], last_id: int, seen: set[int]) -> Replay:
    """The messages for ``rooms`` after ``last_id`` (plus unseen ones among ``seen``'s span).

    ``seen`` are ids the client received recently: event ids are given at insert time, so a
    transaction can commit after one with a higher id was pushed; the client names what it
    saw and gets the holes filled, without duplicates.
    """
    cfg = current_app.config
    max_events = int(cfg["LIVE_REPLAY_MAX_EVENTS"])
    # Late commits are those of transactions running at the same time: close behind.
    seen = {i for i in seen if i > last_id - GAP_IDS}
    lower = min(seen) if seen else last_id
    scan_all = any(r == "activity" or r.startswith("moderators") for r in rooms)
    # The limit counts messages; rows are read up to a bound (see REPLAY_ROWS_PER_MESSAGE).
    per_message = REPLAY_ROWS_PER_MESSAGE_SITEWIDE if scan_all else REPLAY_ROWS_PER_MESSAGE
    limit = max_events * per_message + len(seen) + 1
    stmt = select(Event).where(Event.id > lower).order_by(Event.id).limit(limit)
    if not scan_all:
        stmt = stmt.where(Event.room.in_(sorted(rooms)))
    rows = [_event_dict(e) for e in db.session.scalars(stmt)]
    if len(rows) >= limit:
        return Replay([], "too_many")
    rows = [r for r in rows if r["id"] not in seen]
    first_missed = next((r for r in rows if r["id"] > last_id), None)
    max_age = timedelta(seconds=float(cfg["LIVE_REPLAY_MAX_AGE"]))
    if first_missed is not None and first_missed["created_at"] < utcnow() - max_age:
        return Replay([], "too_old")
    for r in rows:
        r.pop("created_at")
    out: list[dict] = []
    keys: set[tuple[int, str]] = set()
    for audience, msg in messages(rows, read_facts(rows)):
        key = (msg["id"], msg["kind"])
        if key not in keys and rooms.intersection(audience):
            keys.add(key)
            out.append(msg)
    if len(out) > max_events:
        return Replay([], "too_many")
    return Replay(out)


# --- the page's cursor -----------------------------------------------------------------------


def _remember_cursor() -> None:
    """Read the cursor before the view reads its data, so the page never claims an event
    it does not show (the client replays from here)."""
    if request.method != "GET" or request.endpoint in (
        None,
        "static",
        "forum.post_fragment",
        "forum.topic_head",
    ):
        return
    if request.endpoint in SELF_CURSOR_PAGES:
        return  # the view calls remember_cursor with its first statement
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    # Whether someone is logged in, without loading the user (the bell needs the cursor).
    signed_in = "_user_id" in flask_session or remember in request.cookies
    if request.endpoint in LIVE_PAGES or signed_in:
        setattr(g, _CURSOR_KEY, cursor())


def remember_cursor(value: int | None = None) -> None:
    """For the views of SELF_CURSOR_PAGES: the cursor their first statement read (before
    the page's data), or ``None`` to read it now."""
    setattr(g, _CURSOR_KEY, cursor() if value is None else value)


def init_app(app: Flask) -> None:
    """Defaults for the LIVE_* settings, the page cursor and the template helper."""
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    app.before_request(_remember_cursor)
    uow.register(app, "live.ended_sessions", note_ended_sessions)
    uow.register(app, "live.read_facts", read_facts_before_commit)
    uow.register(app, "live.push", push)
    uow.register(app, "live.end_sessions", end_sessions)

    @app.context_processor
    def _live_helpers() -> dict:
        return {"live_cursor": lambda: g.get(_CURSOR_KEY)}
