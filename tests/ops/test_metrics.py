"""/metrics: the series after a few requests, bounded labels, and who may read it."""

from __future__ import annotations

import re

import pytest

from forum.extensions import db
from forum.models import User
from mail.models import MailMessage, MessageKind, MessageStatus


def _value(text: str, series: str) -> float:
    m = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
    assert m, f"{series} not in\n{text}"
    return float(m.group(1))


def test_metrics_has_the_series_after_a_few_requests(
    app, client, make_user, make_topic, monkeypatch
):
    from forum import events

    # The connection table is the process's: live servers of earlier tests may have left
    # entries in it. This test's process has no live connection of its own.
    monkeypatch.setattr(events, "_connections", {})
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page/12345").status_code == 404
    user: User = make_user()
    make_topic()  # writes an event
    db.session.add(
        MailMessage(key="k-1", kind=MessageKind.NOTIFICATION, user_id=user.id, payload={})
    )
    db.session.add(
        MailMessage(
            key="k-2",
            kind=MessageKind.NOTIFICATION,
            user_id=user.id,
            payload={},
            status=MessageStatus.FAILED,
        )
    )
    db.session.commit()

    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert resp.headers["Cache-Control"] == "no-store"
    text = resp.get_data(as_text=True)
    count = 'borgerdialog_http_request_duration_seconds_count{endpoint="ops.healthz",status="2xx"}'
    assert _value(text, count) == 3.0
    unmatched = (
        'borgerdialog_http_request_duration_seconds_count{endpoint="<unmatched>",status="4xx"}'
    )
    assert _value(text, unmatched) == 1.0
    assert "/no/such/page" not in text  # the raw path never becomes a label
    assert _value(text, "borgerdialog_live_connections") == 0.0
    assert _value(text, 'borgerdialog_mail_messages{status="queued"}') == 1.0
    assert _value(text, 'borgerdialog_mail_messages{status="failed"}') == 1.0
    assert _value(text, "borgerdialog_mail_oldest_due_seconds") >= 0.0
    assert _value(text, "borgerdialog_fanout_open_jobs") == 0.0
    assert _value(text, "borgerdialog_fanout_oldest_open_seconds") == 0.0
    # the topic's creation wrote an event; no index exists in this test, so all of them wait
    assert _value(text, "borgerdialog_search_index_lag_events") >= 1.0


def test_metrics_counts_live_connections(client, monkeypatch):
    from forum import events

    monkeypatch.setattr(events, "_connections", {})  # the process's table, fresh
    monkeypatch.setitem(events._connections, "sid-a", object())
    monkeypatch.setitem(events._connections, "sid-b", object())
    text = client.get("/metrics").get_data(as_text=True)
    assert _value(text, "borgerdialog_live_connections") == 2.0


def test_metrics_refused_from_elsewhere(client):
    resp = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert resp.status_code == 404
    assert b"borgerdialog_" not in resp.data
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


@pytest.mark.parametrize(
    "app_config", [{"METRICS_TOKEN": "s3cret-token-value", "METRICS_ALLOW": "10.0.0.0/8"}]
)
def test_metrics_token_and_networks(client):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    ok = client.get(
        "/metrics",
        environ_base=outside,
        headers={"Authorization": "Bearer s3cret-token-value"},
    )
    assert ok.status_code == 200
    bad = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    # loopback is no longer in METRICS_ALLOW
    assert client.get("/metrics").status_code == 404
