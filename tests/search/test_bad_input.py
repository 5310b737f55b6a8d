"""Bad input: every case answered with a results page or a clear message, never a 500."""

from __future__ import annotations

import pytest

BAD = [
    ({"q": ""}, None),
    ({"q": "x" * 1000}, "too_long"),
    ({"q": "og det er"}, "only_common"),
    ({"q": '"'}, "no_words"),
    ({"q": '"skole'}, "fallback"),
    ({"q": "(skole"}, "fallback"),
    ({"q": "skole)"}, "fallback"),
    ({"q": "OR"}, "fallback"),
    ({"q": "skole OR"}, "fallback"),
    ({"q": "-"}, "fallback"),
    ({"q": "*"}, "short_prefix"),
    ({"q": "a*"}, "short_prefix"),
    ({"q": "-skole"}, "only_exclusions"),
    ({"q": " ".join(["ord"] * 30)}, "too_many_terms"),
    ({"q": "\x01\x1f skole"}, None),
    ({"q": "skole", "udvalg": "findes-ikke"}, "unknown_udvalg"),
    ({"q": "skole", "omraade": "<script>"}, "unknown_omraade"),
    ({"q": "skole", "rolle": "king"}, "unknown_rolle"),
    ({"q": "skole", "parti": "Piratpartiet"}, "unknown_parti"),
    ({"q": "skole", "holdning": "maybe"}, "unknown_holdning"),
    ({"q": "skole", "emne": "abc"}, "unknown_emne"),
    ({"q": "skole", "emne": "99999999999999999999"}, "unknown_emne"),
    ({"q": "skole", "fra": "i går"}, "bad_date"),
    ({"q": "skole", "til": "2026-02-30"}, "bad_date"),
    ({"q": "skole", "fra": "0001-01-01"}, "bad_date"),
    ({"q": "skole", "fra": "2026-12-31", "til": "2026-01-01"}, "dates_swapped"),
    ({"q": "skole", "side": "abc"}, "bad_page"),
    ({"q": "skole", "side": "-3"}, "bad_page"),
    ({"q": "skole", "side": "999999999999"}, "bad_page"),
    ({"q": "skole", "side": "40"}, "page_beyond"),
    ({"q": "skole", "side": "51"}, "page_too_far"),
    ({"q": "skole", "sort": "sideways"}, None),
]


@pytest.mark.parametrize(("params", "code"), BAD)
def test_bad_input_gets_a_page_with_a_message(params, code, corpus, reindex, client):
    reindex()
    r = client.get("/soeg", query_string=params)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<h1>" in html
    if code:
        assert f'data-code="{code}"' in html


def test_bad_input_to_the_export_is_not_an_error(corpus, reindex, client, login, make_user):
    reindex()
    login(make_user())
    for params, _code in BAD:
        assert client.get("/soeg/eksport.csv", query_string=params).status_code == 200


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_SEARCH": "3 per minute"}]
)
def test_the_search_page_is_rate_limited(client):
    codes = [client.get("/soeg?q=skole").status_code for _ in range(4)]
    assert codes == [503, 503, 503, 429]  # (no index yet: "being rebuilt", then the limit)


def test_a_nul_byte_is_refused_with_a_page(corpus, reindex, client, login, make_user):
    """The forum answers NUL bytes anywhere with a 400 page (PostgreSQL cannot store them)."""
    reindex()
    r = client.get("/soeg", query_string={"q": "\x00 skole"})
    assert r.status_code == 400 and "<h1" in r.get_data(as_text=True)
    login(make_user())
    assert client.get("/soeg/eksport.csv", query_string={"q": "\x00"}).status_code == 400


HOSTILE = '<img src=x onerror=alert(1)>"><script>alert(2)</script>'


@pytest.mark.parametrize(
    "name", ["udvalg", "omraade", "parti", "rolle", "holdning", "fra", "til", "side"]
)
def test_an_unknown_filter_value_is_shown_escaped(name, corpus, reindex, client):
    """Regression: the notice about an unknown value was a lazy string, which Flask-Babel
    marks as markup, so the value reached the page unescaped (reflected XSS)."""
    reindex()
    r = client.get("/soeg", query_string={"q": "skole", name: HOSTILE})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;img src=x" in html


def test_lazy_strings_escape_their_values(app):
    from markupsafe import escape

    from forum.i18n import lazy_gettext

    with app.test_request_context():
        lazy = lazy_gettext("Value “%(value)s”", value="<b>x</b>")
        assert str(escape(lazy)) == "Value “&lt;b&gt;x&lt;/b&gt;”"


def test_no_package_uses_flask_babels_markup_lazy_strings():
    """Every lazy string comes from forum.i18n (escaped in templates), none from Flask-Babel."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    packages = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    offenders = [
        str(p.relative_to(root))
        for pkg in packages["packages"]
        for p in (root / pkg).rglob("*.py")
        if "flask_babel import lazy_" in p.read_text(encoding="utf-8")
        or "flask_babel.lazy_" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
