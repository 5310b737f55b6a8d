"""Rate limits behind a proxy, per account when signed in, and a 429 page that says how long."""

from __future__ import annotations

import math
import re

import pytest

from app import create_app
from ops.startup import StartupRefused

from ..conftest import PASSWORD

LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN_ACCOUNT": "100 per minute"}


def _bad_login(client, email: str, ip: str | None = None):
    headers = {"X-Forwarded-For": ip} if ip else {}
    return client.post("/login", data={"email": email, "password": "wrong"}, headers=headers)


@pytest.mark.parametrize(
    "app_config", [{**LIMITED, "TRUSTED_PROXIES": 1, "RATELIMIT_LOGIN_IP": "3 per minute"}]
)
def test_behind_a_trusted_proxy_each_citizen_has_their_own_login_budget(app, make_user):
    me = make_user()
    first, second = app.test_client(), app.test_client()
    for n in range(3):
        assert _bad_login(first, me.email, "203.0.113.7").status_code == 200, n
    assert _bad_login(first, me.email, "203.0.113.7").status_code == 429
    # Another citizen behind the same proxy (the same socket address) is not refused.
    assert _bad_login(second, me.email, "198.51.100.23").status_code == 200
    # With two addresses in the header only the one the proxy added counts (the last).
    r = _bad_login(second, me.email, "203.0.113.99, 198.51.100.24")
    assert r.status_code == 200


@pytest.mark.parametrize("app_config", [{**LIMITED, "RATELIMIT_LOGIN_IP": "3 per minute"}])
def test_without_trusted_proxies_a_forwarded_header_cannot_forge_a_fresh_budget(
    app, client, make_user
):
    assert app.config["TRUSTED_PROXIES"] == 0
    me = make_user()
    for n in range(3):
        assert _bad_login(client, me.email, f"203.0.113.{n}").status_code == 200
    assert _bad_login(client, me.email, "203.0.113.200").status_code == 429


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_a_trusted_proxy_reports_the_address_and_scheme(app):
    from werkzeug.middleware.proxy_fix import ProxyFix

    # Outermost, so the Socket.IO handshake sees what the proxy reported too.
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto, app.wsgi_app.x_host) == (1, 1, 0)
    environ = {}

    def inner(env, start_response):
        environ.update(env)
        start_response("204 No Content", [])
        return [b""]

    fixed = ProxyFix(inner, x_for=1, x_proto=1)
    app.wsgi_app.app, original = fixed.app, app.wsgi_app.app
    try:
        app.test_client().get(
            "/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.5"}
        )
    finally:
        app.wsgi_app.app = original
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["REMOTE_ADDR"] == "192.0.2.5"


@pytest.mark.parametrize("value", ["many", "-1", "11"])
def test_trusted_proxies_must_be_a_small_whole_number(tmp_path, value):
    # A configuration error refuses the start in one line (ops/startup.py), no traceback.
    with pytest.raises(StartupRefused, match="TRUSTED_PROXIES"):
        create_app({"INSTANCE_PATH": str(tmp_path), "TRUSTED_PROXIES": value})


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_POST": "2 per minute"}]
)
def test_signed_in_limits_are_per_account_not_per_address(
    app, client, login, make_user, make_topic
):
    topic = make_topic()
    me, neighbour = make_user(), make_user()
    login(me)
    for n in range(2):
        r = client.post(f"/emner/{topic.id}/indlaeg", data={"body": f"Indlæg {n}"})
        assert r.status_code == 302, n
    assert client.post(f"/emner/{topic.id}/indlaeg", data={"body": "Et til"}).status_code == 429
    # Someone else on the same address (a library, the town hall) still has their budget.
    other = app.test_client()
    other.post("/login", data={"email": neighbour.email, "password": PASSWORD})
    r = other.post(f"/emner/{topic.id}/indlaeg", data={"body": "Fra biblioteket"})
    assert r.status_code == 302


def _minutes_in(text: str) -> int:
    m = re.search(r"Prøv igen om (\d+) (minut|minutter)\.", text)
    assert m, text[:2000]
    n = int(m.group(1))
    assert m.group(2) == ("minut" if n == 1 else "minutter")
    return n


@pytest.mark.parametrize(
    ("app_config", "expected"),
    [
        ({"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN_IP": limit}, expected)
        for limit, expected in [("1 per hour", 60), ("1 per 33 minutes", 33), ("1/minute", 1)]
    ],
)
def test_the_429_page_says_the_wait_its_retry_after_header_says(app, client, make_user, expected):
    me = make_user()
    assert _bad_login(client, me.email).status_code == 200
    r = _bad_login(client, me.email)
    assert r.status_code == 429
    retry_after = int(r.headers["Retry-After"])
    text = r.get_data(as_text=True)
    assert "vent lidt" not in text.lower()
    minutes = _minutes_in(text)
    assert minutes == math.ceil(retry_after / 60) == expected
    assert not re.search(r"\bsekund", text)  # no seconds in what people read
    assert 'name="email"' not in text or "wrong" not in text  # the password is never echoed


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "MODERATION_DENIED_RATE": "2 per minute"}]
)
def test_the_public_rules_and_transparency_pages_are_not_under_the_moderation_limit(client):
    for _ in range(5):
        assert client.get("/debatregler").status_code == 200
        assert client.get("/gennemsigtighed").status_code == 200
    # Refused visits to the moderators' pages are still limited.
    codes = [client.get("/moderation").status_code for _ in range(4)]
    assert codes[:2] == [403, 403] and codes[-1] == 429


# --- a limit on every form ---------------------------------------------------------------


def _limited(app, rule) -> bool:
    from flask_limiter.util import get_qualified_name

    from forum.extensions import limiter

    manager = limiter.limit_manager
    name = get_qualified_name(app.view_functions[rule.endpoint])
    post_limits = [
        lim for lim in manager.decorated_limits(name) if not lim.methods or "post" in lim.methods
    ]
    if post_limits:
        return True
    # The moderation blueprint's limit counts refused visits under /moderation only.
    blueprint = rule.endpoint.rpartition(".")[0]
    return (
        blueprint == "moderation"
        and rule.rule.startswith("/moderation")
        and bool(manager.blueprint_limits(app, blueprint))
    )


def test_every_post_route_has_a_rate_limit(app):
    from forum.ratelimits import ALLOWED_WITHOUT_LIMIT

    post_rules = [r for r in app.url_map.iter_rules() if "POST" in (r.methods or ())]
    assert len(post_rules) > 40  # the enumeration sees the whole app
    missing = sorted(
        f"{r.endpoint} {r.rule}"
        for r in post_rules
        if r.endpoint not in ALLOWED_WITHOUT_LIMIT and not _limited(app, r)
    )
    assert missing == [], "POST routes without a rate limit: " + ", ".join(missing)
    for endpoint, reason in ALLOWED_WITHOUT_LIMIT.items():
        assert endpoint in app.view_functions and len(reason) > 40


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_a_citizen_proposing_topic_after_topic_is_refused_with_a_429_page(
    app, client, login, make_user, make_area
):
    from sqlalchemy import func, select

    from forum.extensions import db
    from forum.models import Topic

    area = make_area()
    me = make_user()
    login(me)
    allowed = int(app.config["RATELIMIT_TOPIC"].split(" per ")[0])
    assert allowed == 10
    for n in range(allowed):
        r = client.post(
            "/emner/nyt",
            data={"title": f"Forslag nummer {n}", "intro": "Tekst", "area_id": area.id},
        )
        assert r.status_code == 302, (n, r.get_data(as_text=True)[:500])
    r = client.post(
        "/emner/nyt",
        data={"title": "Forslag nummer elleve", "intro": "Min tekst", "area_id": area.id},
    )
    assert r.status_code == 429
    text = r.get_data(as_text=True)
    assert "Prøv igen om" in text and "Min tekst" in text  # the typed text comes back
    assert int(r.headers["Retry-After"]) > 0
    assert db.session.scalar(select(func.count(Topic.id))) == allowed  # nothing more written
    # The form's page still opens, and someone else may still propose.
    assert client.get("/emner/nyt").status_code == 200
    other = app.test_client()
    other.post("/login", data={"email": make_user().email, "password": PASSWORD})
    r = other.post(
        "/emner/nyt", data={"title": "Et andet forslag", "intro": "Tekst", "area_id": area.id}
    )
    assert r.status_code == 302


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_TOPIC": "1/hour"}])
def test_staff_open_topics_without_the_proposal_limit(app, client, login, make_user, make_area):
    area = make_area()
    login(make_user("admin"))
    for n in range(3):
        r = client.post(
            "/emner/nyt", data={"title": f"Dagsorden {n}", "intro": "Tekst", "area_id": area.id}
        )
        assert r.status_code == 302, n
