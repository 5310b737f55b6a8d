"""Every response carries the Content-Security-Policy and the other security headers, and no
template has inline script, inline handlers or inline styles the policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forum.security import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parents[2]

DIRECTIVES = {
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "connect-src": "'self'",
    "img-src": "'self' data:",
    "default-src": "'self'",
}


def _policy(response) -> dict[str, str]:
    value = response.headers.get("Content-Security-Policy")
    assert value, f"{response.request.path}: no Content-Security-Policy"
    return dict(
        (part.split(None, 1) + [""])[:2] for part in (p.strip() for p in value.split(";")) if part
    )


def _check(response) -> None:
    policy = _policy(response)
    for name, expected in DIRECTIVES.items():
        assert policy.get(name) == expected, (response.request.path, name, policy.get(name))
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "same-origin"


def test_the_policy_has_every_directive():
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_pages_errors_static_files_and_redirects_carry_the_headers(
    client, make_topic, make_post, make_user, login
):
    topic = make_topic()
    post = make_post(topic)
    responses = [
        client.get("/"),
        client.get(f"/emner/{topic.id}"),
        client.get(f"/indlaeg/{post.id}/fragment"),
        client.get("/findes-ikke"),  # 404 page
        client.get("/soeg", query_string={"q": "a\x00b"}),  # 400 page (NUL byte)
        client.put("/"),  # 405
        client.get("/static/css/site.css"),
        client.get("/static/js/live.js"),
        client.get("/static/findes-ikke.js"),  # 404 from the static view
        client.get("/notifikationer"),  # redirect to the login page
        client.head("/"),
    ]
    login(make_user())
    responses += [
        client.get("/soeg/eksport.csv", query_string={"q": "x"}),
        client.post("/logout"),
    ]
    statuses = [r.status_code for r in responses]
    assert {200, 302, 400, 404, 405} <= set(statuses)
    for r in responses:
        _check(r)
        r.close()  # static files are streamed from an open file


def test_an_unexpected_error_page_carries_the_headers(app, client):
    @app.get("/__boom")
    def boom():
        raise RuntimeError("boom")

    r = client.get("/__boom")
    assert r.status_code == 500
    _check(r)


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "on*= handler"),
    (re.compile(r"<style\b", re.I), "inline <style>"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


@pytest.mark.parametrize(
    "path",
    sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "templates").rglob("*.html")
        # Mails are not pages: mail clients need inline styles and never see the policy.
        if "templates/mail/email" not in p.as_posix()
    ),
)
def test_templates_have_nothing_inline_the_policy_blocks(path):
    text = (ROOT / path).read_text()
    for pattern, what in INLINE:
        m = pattern.search(text)
        assert not m, f"{path}: {what}: {m.group(0)[:80] if m else ''}"


def test_scripts_do_not_create_inline_code_or_style_attributes():
    for js in (ROOT / "static" / "js").glob("*.js"):
        text = js.read_text()
        for pattern in (r"\beval\(", r"new Function\(", r"setAttribute\(\s*['\"](style|on)"):
            assert not re.search(pattern, text), (js.name, pattern)
