"""Prometheus metrics at ``/metrics``, one registry per app (each instance serves its own).

Request latency is labelled by the Flask rule's endpoint name (never the raw path, so the
number of series stays bounded) and the status class. The other series are read when the
scrape happens: live Socket.IO connections of this process, the search indexer's and the mail
outbox's lag. ``/metrics`` answers only to ``METRICS_ALLOW`` networks (loopback by default) or
to ``Authorization: Bearer <METRICS_TOKEN>``; anyone else gets 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
import weakref

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from . import checks
from .health import bp

log = logging.getLogger("borgerdialog.ops")
_KEY = "borgerdialog.metrics"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ScrapeTimeCollector:
    """Gauges computed at scrape time (inside the ``/metrics`` request's app context)."""

    def __init__(self, app: Flask) -> None:
        self._app = weakref.ref(app)

    def describe(self):
        return []  # computed on collect; nothing to register up front

    def collect(self):
        from forum.events import connection_count

        live = GaugeMetricFamily(
            "borgerdialog_live_connections", "Socket.IO connections open in this process."
        )
        live.add_metric([], connection_count())
        yield live
        app = self._app()
        if app is None:
            return
        yield from self._guarded("search", lambda: self._search(app))
        yield from self._guarded("mail", self._mail)
        yield from self._guarded("fanout", self._fanout)

    @staticmethod
    def _guarded(name: str, make):
        try:
            families = list(make())
        except Exception:  # the scrape still answers; the log says why a series is missing
            log.exception("metrics: could not read the %s figures", name)
            families = []
        finally:
            checks.database()  # end the read transaction
        yield from families

    @staticmethod
    def _search(app: Flask):
        lag, _note = checks.search_lag(app)
        fam = GaugeMetricFamily(
            "borgerdialog_search_index_lag_events",
            "Events in the event log not yet in the search index.",
        )
        fam.add_metric([], lag)
        yield fam

    @staticmethod
    def _mail():
        counts = checks.mail_counts()
        fam = GaugeMetricFamily(
            "borgerdialog_mail_messages",
            "Mails in the outbox that are not done, by state.",
            labels=["status"],
        )
        for status in ("queued", "sending", "handed_over", "failed"):
            fam.add_metric([status], counts.get(status, 0))
        yield fam
        oldest = GaugeMetricFamily(
            "borgerdialog_mail_oldest_due_seconds",
            "How long the oldest due mail has been waiting to be sent.",
        )
        oldest.add_metric([], checks.mail_oldest_due_seconds())
        yield oldest

    @staticmethod
    def _fanout():
        from forum import fanout

        st = fanout.status()
        jobs = GaugeMetricFamily(
            "borgerdialog_fanout_open_jobs",
            "New posts whose readers are not all told yet (forum/fanout.py).",
        )
        jobs.add_metric([], st.open_jobs)
        yield jobs
        oldest = GaugeMetricFamily(
            "borgerdialog_fanout_oldest_open_seconds",
            "How long the oldest post whose readers are not all told has waited.",
        )
        oldest.add_metric([], st.oldest_open_seconds or 0.0)
        yield oldest


def _networks(value) -> list:
    if isinstance(value, str):
        value = [v for v in (p.strip() for p in value.split(",")) if v]
    return [ipaddress.ip_network(v, strict=False) for v in value]


def _allowed(app: Flask) -> bool:
    token = app.config.get("METRICS_TOKEN")
    auth = request.headers.get("Authorization", "")
    if token and auth.startswith("Bearer "):
        if hmac.compare_digest(auth[7:].strip().encode(), str(token).encode()):
            return True
    try:
        addr = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if getattr(addr, "ipv4_mapped", None):
        addr = addr.ipv4_mapped
    return any(addr in net for net in app.extensions[_KEY]["allow"])


def _start_timer() -> None:
    g._ops_started = time.perf_counter()


def _observe(response):
    started = g.get("_ops_started")
    if started is not None:
        endpoint = request.endpoint or "<unmatched>"
        current_app.extensions[_KEY]["latency"].labels(
            endpoint=endpoint, status=f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
    return response


@bp.get("/metrics")
def metrics():
    if not _allowed(current_app):
        abort(404)
    body = generate_latest(current_app.extensions[_KEY]["registry"])
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    from .startup import refuse

    try:
        allow = _networks(app.config["METRICS_ALLOW"])
    except ValueError as exc:
        raise refuse(
            f"METRICS_ALLOW must list networks such as 127.0.0.1/32,10.0.0.0/8 ({exc})."
        ) from None
    registry = CollectorRegistry(auto_describe=False)
    latency = Histogram(
        "borgerdialog_http_request_duration_seconds",
        "Time to answer a request, by Flask endpoint and status class.",
        ["endpoint", "status"],
        buckets=BUCKETS,
        registry=registry,
    )
    registry.register(ScrapeTimeCollector(app))
    app.extensions[_KEY] = {
        "registry": registry,
        "latency": latency,
        "allow": allow,
    }
    # First, so a request another before_request function answers early is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_observe)
