"""Request ids: on the response, on every log record during the request; JSON lines."""

from __future__ import annotations

import json
import logging
import re

import pytest

from ops import logs


@pytest.fixture
def probe(app):
    def view():
        logging.getLogger("borgerdialog.test").warning("probe during the request")
        return "ok"

    app.add_url_rule("/_log_probe", "log_probe", view)
    return "/_log_probe"


def test_a_request_id_is_returned(client):
    resp = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])
    assert client.get("/healthz").headers["X-Request-ID"] != resp.headers["X-Request-ID"]


def test_a_well_formed_id_from_the_proxy_is_kept(client):
    sent = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"] == sent


@pytest.mark.parametrize("sent", ["short", "has space in it", "x" * 200, "a;b=c<script>xx"])
def test_a_malformed_id_is_replaced(client, sent):
    got = client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert got != sent and re.fullmatch(r"[0-9a-f]{32}", got)


def test_log_records_during_a_request_carry_its_id(client, probe, caplog):
    caplog.set_level(logging.INFO)
    resp = client.get(probe, headers={"X-Request-ID": "req-1234567890"})
    assert resp.headers["X-Request-ID"] == "req-1234567890"
    records = [r for r in caplog.records if r.getMessage() == "probe during the request"]
    assert len(records) == 1
    assert records[0].request_id == "req-1234567890"
    logging.getLogger("borgerdialog.test").warning("outside any request")
    assert caplog.records[-1].request_id == "-"


def test_json_lines(client, probe, caplog):
    caplog.set_level(logging.INFO)
    resp = client.get(probe)
    record = next(r for r in caplog.records if r.getMessage() == "probe during the request")
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["request_id"] == resp.headers["X-Request-ID"]
    assert data["level"] == "WARNING"
    assert data["logger"] == "borgerdialog.test"
    assert data["message"] == "probe during the request"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, False),
        ({"BORGERDIALOG_ENV": "production"}, True),
        ({"LOG_FORMAT": "json"}, True),
        ({"BORGERDIALOG_ENV": "production", "LOG_FORMAT": "text"}, False),
    ],
)
def test_json_in_production_text_embedded(app, config, expected):
    app.config.update({"BORGERDIALOG_ENV": "embedded", "LOG_FORMAT": None, **config})
    assert logs.wants_json(app) is expected
    logs.configure(app)
    ours = [h for h in logging.getLogger().handlers if isinstance(h, logs._OpsHandler)]
    assert len(ours) == 1  # configuring again replaces, never adds
    assert isinstance(ours[0].formatter, logs.JsonFormatter) is expected
