"""render_markdown and sanitise: hostile input must come out inert, ordinary Markdown must not.

Pure function tests: no app, no database.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from forum.rendering import ALLOWED_TAGS, LINK_REL, render_markdown, sanitise

SAFE_SCHEMES = {"http", "https", "mailto"}
A_ATTRIBUTES = {"href", "title", "rel"}
FORBIDDEN_RAW = re.compile(r"<\s*/?\s*(script|iframe|svg|math|style|img)\b", re.IGNORECASE)
# The URL Standard strips C0 controls and spaces around a URL and removes tab/newline inside
# it; we remove every C0/C1 control inside too (stricter, for legacy parsers). Anything else
# that is not a scheme character (a space from Markdown's tab expansion, U+200B, "%6A", "&")
# stops scheme parsing, and the href becomes a harmless relative URL.
_URL_EDGES = "".join(map(chr, range(0x21)))
_IGNORED_IN_URL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))


def _parse(markup: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Collector()
    parser.feed(markup)
    parser.close()
    return parser.elements


def _href_scheme(value: str) -> str | None:
    cleaned = _IGNORED_IN_URL.sub("", html.unescape(value).strip(_URL_EDGES)).lower()
    match = _SCHEME.match(cleaned)
    return match.group(1) if match else None


@pytest.mark.parametrize(
    "href, scheme",
    [
        ("javascript:x", "javascript"),
        ("JaVaScRiPt:x", "javascript"),
        (" \x01\x02javascript:x", "javascript"),
        ("java\tscript:x", "javascript"),
        ("java\nscript:x", "javascript"),
        ("jav&#x61;script:x", "javascript"),
        ("&#0000106;avascript:x", "javascript"),
        ("java&#9;script:x", "javascript"),
        ("data:text/html,x", "data"),
        ("https://a.dk", "https"),
        ("/relative:path", None),
        ("//evil.example", None),
        ("%6Aavascript:x", None),
        ("java    script:x", None),
        ("java\u200bscript:x", None),
    ],
)
def test_href_scheme_helper(href, scheme):
    """The checker itself: it must see through every trick a browser sees through."""
    assert _href_scheme(href) == scheme


def assert_inert(markup: str) -> None:
    """The output of the renderer/sanitiser contains nothing a browser would execute."""
    markup = str(markup)
    raw = FORBIDDEN_RAW.search(markup)
    assert raw is None, f"forbidden tag {raw.group(0)!r} in {markup!r}"
    for tag, attrs in _parse(markup):
        assert tag in ALLOWED_TAGS, f"<{tag}> not allowed: {markup!r}"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name} on <{tag}>: {markup!r}"
            assert name != "style", f"style attribute on <{tag}>: {markup!r}"
            assert name != "src", f"src attribute on <{tag}>: {markup!r}"
            if tag != "a":
                pytest.fail(f"attribute {name} on <{tag}>: {markup!r}")
            assert name in A_ATTRIBUTES, f"attribute {name} on <a>: {markup!r}"
            if name == "href":
                scheme = _href_scheme(value or "")
                assert scheme is None or scheme in SAFE_SCHEMES, (
                    f"href scheme {scheme!r} in {markup!r}"
                )


H = pytest.param

HOSTILE = [
    # --- script tags ---------------------------------------------------------------
    H("<script>alert(1)</script>", id="script-plain"),
    H("<SCRIPT>alert(1)</SCRIPT>", id="script-uppercase"),
    H("<ScRiPt>alert(1)</sCrIpT>", id="script-mixedcase"),
    H("<scr<script>ipt>alert(1)</scr</script>ipt>", id="script-nested"),
    H("<script>alert(1)", id="script-unclosed"),
    H("<script\n>alert(1)</script\n>", id="script-newline-in-tag"),
    H("<script\nsrc=//evil.example/x.js>\n</script>", id="script-src-newline"),
    H("<<script>alert(1)//<</script>", id="script-double-lt"),
    H("<script/xss src=//evil.example/x.js></script>", id="script-slash-attr"),
    H("text\n\n<script>\nalert(1)\n</script>\n\nmore", id="script-block-with-newlines"),
    H("`code` <script>alert(1)</script> **bold**", id="script-between-markdown"),
    H("<scr\x00ipt>alert(1)</script>", id="script-nul-inside"),
    # --- event handlers in raw HTML ---------------------------------------------------
    H("<img src=x onerror=alert(1)>", id="img-onerror"),
    H('<IMG SRC="x" ONERROR="alert(1)">', id="img-onerror-uppercase"),
    H("<body onload=alert(1)>", id="body-onload"),
    H('<div onmouseover="alert(1)">hover</div>', id="div-onmouseover"),
    H('<a href="http://a.dk" onmouseover="alert(1)">x</a>', id="a-onmouseover"),
    H('<p onclick="alert(1)">p</p>', id="p-onclick"),
    H("<details open ontoggle=alert(1)>", id="details-ontoggle"),
    H("<input autofocus onfocus=alert(1)>", id="input-onfocus"),
    H("<video><source onerror=alert(1)></video>", id="video-source-onerror"),
    H("<marquee onstart=alert(1)>x</marquee>", id="marquee-onstart"),
    H("<img/src=x/onerror=alert(1)>", id="img-slash-separated"),
    H("<img src=x\nonerror\n=\nalert(1)>", id="img-onerror-newlines"),
    # --- attr_list style tricks ({: ...}) -------------------------------------------
    H("paragraph\n{: onclick=alert(1) }", id="attrlist-paragraph-onclick"),
    H("# Heading {: onmouseover=alert(1) }", id="attrlist-heading-onmouseover"),
    H("[x](http://a.dk){: onclick=alert(1) }", id="attrlist-link-onclick"),
    H('*em*{: style="background:url(javascript:alert(1))" }', id="attrlist-style"),
    H("text {@onclick=alert(1)}", id="attrlist-braces-at"),
    # --- javascript:/data:/vbscript: links, inline form -----------------------------
    H("[x](javascript:alert(1))", id="md-inline-javascript"),
    H("[x](JaVaScRiPt:alert(1))", id="md-inline-mixedcase"),
    H("[x](jav&#x61;script:alert(1))", id="md-inline-hex-entity"),
    H("[x](&#106;avascript:alert(1))", id="md-inline-dec-entity"),
    H("[x](&#0000106;avascript:alert(1))", id="md-inline-padded-entity"),
    H("[x](java\tscript:alert(1))", id="md-inline-tab-in-scheme"),
    H("[x](java&#9;script:alert(1))", id="md-inline-tab-entity"),
    H("[x](java&NewLine;script:alert(1))", id="md-inline-named-newline-entity"),
    H("[x](%6Aavascript:alert(1))", id="md-inline-percent-encoded"),
    H("[x](%20javascript:alert(1))", id="md-inline-percent-space"),
    H("[x]( \x01\x02javascript:alert(1))", id="md-inline-control-chars"),
    H("[x](\x00javascript:alert(1))", id="md-inline-nul-prefix"),
    H("[x](<javascript:alert(1)>)", id="md-inline-angle-brackets"),
    H("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", id="md-inline-data"),
    H("[x](DATA:text/html,<script>alert(1)</script>)", id="md-inline-data-upper"),
    H('[x](vbscript:msgbox("x"))', id="md-inline-vbscript"),
    H("[x](file:///etc/passwd)", id="md-inline-file"),
    H("[x](javascript://%0Aalert(1))", id="md-inline-js-comment-newline"),
    H("[x](\u200bjavascript:alert(1))", id="md-inline-zero-width-prefix"),
    H("[x](javascript&colon;alert(1))", id="md-inline-colon-entity"),
    # --- reference form and autolinks ------------------------------------------------
    H("[x][1]\n\n[1]: javascript:alert(1)", id="md-reference-javascript"),
    H("[x][1]\n\n[1]: data:text/html,<script>alert(1)</script>", id="md-reference-data"),
    H("[x][1]\n\n[1]: &#106;avascript:alert(1)", id="md-reference-entity"),
    H("[x][1]\n\n[1]: <JAVASCRIPT:alert(1)>", id="md-reference-angle-upper"),
    H('[x][1]\n\n[1]: javascript:alert(1) "title"', id="md-reference-with-title"),
    H("<javascript:alert(1)>", id="autolink-javascript"),
    H("<JaVaScRiPt:alert(1)>", id="autolink-mixedcase"),
    H("<data:text/html,<script>alert(1)</script>>", id="autolink-data"),
    H("<vbscript:msgbox(1)>", id="autolink-vbscript"),
    H("<mailto:x@a.dk?body=<script>alert(1)</script>>", id="autolink-mailto-script"),
    # --- images ------------------------------------------------------------------------
    H("![x](javascript:alert(1))", id="image-javascript"),
    H("![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)", id="image-data-svg"),
    H("![x](http://evil.example/pixel.gif)", id="image-tracking-pixel"),
    H('![x](http://a.dk/x.png "\\" onerror=\\"alert(1))', id="image-title-breakout"),
    H("![x][img]\n\n[img]: javascript:alert(1)", id="image-reference"),
    H("[![x](http://a.dk/i.png)](javascript:alert(1))", id="image-inside-js-link"),
    # --- mutation XSS -------------------------------------------------------------------
    H("<svg><style><img src=x onerror=alert(1)></style></svg>", id="mxss-svg-style-img"),
    H(
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        id="mxss-math-mglyph-style",
    ),
    H('<noscript><p title="</noscript><img src=x onerror=alert(1)>">', id="mxss-noscript-title"),
    H("<svg><script>alert(1)</script></svg>", id="mxss-svg-script"),
    H("<svg onload=alert(1)>", id="svg-onload"),
    H(
        '<svg><a xlink:href="javascript:alert(1)"><text y="20">x</text></a></svg>',
        id="svg-xlink-href",
    ),
    H("<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x", id="math-xlink"),
    H(
        "<form><math><mtext></form><form><mglyph><svg><mtext><style><img src=x onerror=alert(1)>",
        id="mxss-form-math-nesting",
    ),
    H("<template><img src=x onerror=alert(1)></template>", id="template-img"),
    H("<textarea></textarea><img src=x onerror=alert(1)>", id="textarea-breakout"),
    H("<title></title><img src=x onerror=alert(1)>", id="title-breakout"),
    # --- embedding, forms, base, meta ------------------------------------------------
    H('<iframe src="javascript:alert(1)"></iframe>', id="iframe-javascript"),
    H('<iframe srcdoc="<script>alert(1)</script>"></iframe>', id="iframe-srcdoc"),
    H('<object data="javascript:alert(1)"></object>', id="object-data"),
    H('<embed src="javascript:alert(1)">', id="embed-src"),
    H('<form action="javascript:alert(1)"><button>go</button></form>', id="form-action"),
    H('<button formaction="javascript:alert(1)">x</button>', id="button-formaction"),
    H('<base href="javascript:alert(1)//">', id="base-href"),
    H('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', id="meta-refresh"),
    H('<link rel="stylesheet" href="http://evil.example/x.css">', id="link-stylesheet"),
    H('<a href="http://a.dk" target="_blank">x</a>', id="a-target-blank"),
    # --- styles ------------------------------------------------------------------------
    H("<style>body{background:url(javascript:alert(1))}</style>", id="style-block"),
    H('<p style="background:url(javascript:alert(1))">x</p>', id="style-attribute"),
    H('<div style="position:fixed;top:0;left:0;width:100%;height:100%">', id="style-overlay"),
    H("<STYLE>@import 'http://evil.example/x.css';</STYLE>", id="style-import-upper"),
    # --- link title injection ----------------------------------------------------------
    H('[x](http://a.dk "\\" onmouseover=\\"alert(1))', id="title-escaped-quote-breakout"),
    H('[x](http://a.dk "a" onmouseover="alert(1)")', id="title-extra-attribute"),
    H("[x](http://a.dk 'a\\' onmouseover=alert(1) x=\\'')", id="title-single-quote-breakout"),
    H('[x](http://a.dk "&quot; onmouseover=&quot;alert(1)")', id="title-entity-quote"),
    H('[x](http://a.dk" onmouseover="alert(1))', id="href-quote-breakout"),
    H('[x](http://a.dk/"><script>alert(1)</script>)', id="href-tag-breakout"),
    H('[x][1]\n\n[1]: http://a.dk "\\" onclick=\\"alert(1)"', id="reference-title-breakout"),
    # --- comments, CDATA, processing instructions ------------------------------------
    H("<!-- <script>alert(1)</script> -->", id="comment-script"),
    H("<!--><img src=x onerror=alert(1)>-->", id="comment-abrupt"),
    H("<![CDATA[<script>alert(1)</script>]]>", id="cdata-script"),
    H("<?xml version='1.0'?><script>alert(1)</script>", id="processing-instruction"),
    H("<!DOCTYPE html><script>alert(1)</script>", id="doctype"),
    # --- template injection ------------------------------------------------------------
    H("{{ config.items() }}", id="jinja-config"),
    H("{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}", id="jinja-ssti"),
    H("${alert(1)} #{alert(1)} <%= 7*7 %>", id="template-misc"),
    H("{{constructor.constructor('alert(1)')()}}", id="angular-sandbox"),
    # --- unicode tricks ----------------------------------------------------------------
    H("[click](http://a.dk/\u202egpj.exe)", id="rtl-override-in-url"),
    H("\u202e<script>alert(1)</script>", id="rtl-override-before-script"),
    H("<scr\u200bipt>alert(1)</scr\u200bipt>", id="zero-width-in-tag"),
    H("[x](java\u200bscript:alert(1))", id="zero-width-in-scheme"),
    H("\ufeff<script>alert(1)</script>", id="bom-before-script"),
    H("＜script＞alert(1)＜/script＞", id="fullwidth-brackets"),
    H("<ſcript>alert(1)</ſcript>", id="long-s-script"),
    # --- size / nesting bombs (moderate) ---------------------------------------------
    H("<script>" + "A" * 50_000 + "</script>", id="long-script-body"),
    H("[x](javascript:" + "a" * 20_000 + ")", id="long-javascript-url"),
    H("x" * 100_000, id="long-plain-text"),
    H("> " * 200 + "<img src=x onerror=alert(1)>", id="blockquote-bomb"),
    H(
        "\n".join("  " * i + "- <svg onload=alert(1)>" for i in range(60)),
        id="nested-list-bomb",
    ),
    H("*" * 2000 + "<script>alert(1)</script>" + "*" * 2000, id="emphasis-bomb"),
    H("[" * 1000 + "x](javascript:alert(1))" + "]" * 1000, id="bracket-bomb"),
    # --- entities and the rest -----------------------------------------------------------
    H("&lt;script&gt;alert(1)&lt;/script&gt;", id="entity-encoded-script"),
    H("&#60;script&#62;alert(1)&#60;/script&#62;", id="numeric-entity-script"),
    H("&amp;lt;img src=x onerror=alert(1)&amp;gt;", id="double-encoded"),
    H("[x](//evil.example/path)", id="protocol-relative"),
    H("[x](\\\\evil.example\\path)", id="backslash-protocol-relative"),
    H("[x](/\\evil.example)", id="slash-backslash"),
    H("```\n<script>alert(1)</script>\n```", id="fenced-code-script"),
    H('```html onload="alert(1)"\n<b>x</b>\n```', id="fenced-code-lang-attr"),
    H('```{ .x onclick="alert(1)" }\ncode\n```', id="fenced-code-attr-braces"),
    H("    <script>alert(1)</script>", id="indented-code-script"),
    H("`<img src=x onerror=alert(1)>`", id="inline-code-img"),
    H('<http://a.dk/"onmouseover="alert(1)>', id="autolink-quote-breakout"),
    H('<x@a.dk"onmouseover="alert(1)>', id="email-autolink-breakout"),
    H('<a href="jav&#x0A;ascript:alert(1)">x</a>', id="raw-a-newline-entity"),
    H('<a href=" &#14;  javascript:alert(1)">x</a>', id="raw-a-control-entity"),
    H("<xss id=x tabindex=1 onfocus=alert(1)></xss>", id="custom-element-onfocus"),
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_renders_inert(source):
    assert_inert(render_markdown(source))


def test_enough_hostile_cases():
    assert len(HOSTILE) >= 70
    ids = [p.id for p in HOSTILE]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    "markup",
    [
        '<a href="javascript:x" onclick="y">x</a>',
        '<a href="JaVaScRiPt:x">x</a>',
        '<a href="jav&#x61;script:x">x</a>',
        '<a href=" \tjavascript:x">x</a>',
        '<a href="data:text/html,x" target="_blank" style="color:red">x</a>',
        '<a href="vbscript:x" id="x" class="y">x</a>',
        "<script>alert(1)</script><style>p{}</style>",
        "<img src=x onerror=alert(1)>",
        "<svg><style><img src=x onerror=alert(1)></style></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        '<iframe src="http://evil.example"></iframe><object></object><embed src=x>',
        '<form action="javascript:x"><input name=x></form>',
        '<base href="//evil.example/"><meta http-equiv="refresh" content="0;url=x">',
        '<p style="x" onmouseover="y" class="z">p</p>',
        "<!-- <script>alert(1)</script> -->",
        '<h1 onclick="x">h</h1><h2>h</h2>',
    ],
    ids=[
        "a-js-onclick",
        "a-mixedcase",
        "a-entity",
        "a-whitespace",
        "a-data-target-style",
        "a-vbscript-id-class",
        "script-style",
        "img",
        "svg-style",
        "math-mglyph",
        "noscript",
        "iframe-object-embed",
        "form",
        "base-meta",
        "p-style",
        "comment",
        "headings",
    ],
)
def test_sanitise_alone_cleans_raw_html(markup):
    assert_inert(sanitise(markup))


def test_sanitise_drops_onclick_and_javascript_href():
    out = sanitise('<a href="javascript:x" onclick="y">x</a>')
    assert "onclick" not in out
    assert "javascript" not in out
    assert ">x</a>" in out


def test_sanitise_removes_script_content():
    out = sanitise("<p>ok</p><script>alert(1)</script>")
    assert out == "<p>ok</p>"


# --- ordinary Markdown still renders --------------------------------------------------


def _render(source: str) -> str:
    out = str(render_markdown(source))
    assert_inert(out)
    return out


def test_emphasis_and_strong():
    out = _render("*em* and **strong**")
    assert out == "<p><em>em</em> and <strong>strong</strong></p>"


def test_lists():
    out = _render("- a\n- b\n\n1. one\n2. two")
    assert "<ul>\n<li>a</li>\n<li>b</li>\n</ul>" in out
    assert "<ol>\n<li>one</li>\n<li>two</li>\n</ol>" in out


def test_blockquote():
    out = _render("> quoted")
    assert out.startswith("<blockquote>")
    assert "<p>quoted</p>" in out


def test_inline_and_fenced_code():
    out = _render("`x = 1`\n\n```\nif a < b:\n    pass\n```")
    assert "<code>x = 1</code>" in out
    assert "<pre><code>if a &lt; b:\n    pass\n</code></pre>" in out


def test_headings_are_demoted():
    out = _render("# One\n\n## Two\n\n### Three\n\n#### Four")
    assert "<h1" not in out and "<h2" not in out
    assert "<h3>One</h3>" in out
    assert "<h3>Two</h3>" in out
    assert "<h3>Three</h3>" in out
    assert "<h4>Four</h4>" in out


def test_horizontal_rule():
    assert "<hr>" in _render("a\n\n---\n\nb")


@pytest.mark.parametrize(
    "source, href",
    [
        ("[kommunen](https://kommune.dk/side?a=1&b=2)", "https://kommune.dk/side?a=1&amp;b=2"),
        ("[plain](http://a.dk/)", "http://a.dk/"),
        ("[mail](mailto:borger@kommune.dk)", "mailto:borger@kommune.dk"),
        ("<https://kommune.dk>", "https://kommune.dk"),
        ("[ref][1]\n\n[1]: https://kommune.dk/ref", "https://kommune.dk/ref"),
    ],
    ids=["https", "http", "mailto", "autolink", "reference"],
)
def test_safe_links_kept_with_rel(source, href):
    out = _render(source)
    assert f'href="{href}"' in out
    assert f'rel="{LINK_REL}"' in out
    assert LINK_REL == "nofollow ugc noopener noreferrer"


def test_link_title_kept():
    out = _render('[x](https://a.dk "Titel")')
    assert 'title="Titel"' in out


def test_raw_html_shows_as_text():
    out = _render("<b>fed</b>")
    assert "&lt;b&gt;fed&lt;/b&gt;" in out
    assert "<b>" not in out


def test_danish_letters_survive():
    out = _render("Æble, øl og å — ÆØÅ æøå")
    assert out == "<p>Æble, øl og å — ÆØÅ æøå</p>"


def test_comparison_survives_as_text():
    out = _render("a < b and c > d")
    assert out == "<p>a &lt; b and c &gt; d</p>"


def test_image_not_rendered():
    out = _render("![kort](https://kommune.dk/kort.png)")
    assert "<img" not in out.lower()
    assert "src=" not in out


def test_returns_markup():
    from markupsafe import Markup

    assert isinstance(render_markdown("x"), Markup)


def test_deeply_nested_brackets_are_taken_literally():
    """Deep bracket nesting made Python-Markdown backtrack for seconds; it is defused."""
    from forum.rendering import MAX_BRACKET_DEPTH, _defuse

    deep = "[" * (MAX_BRACKET_DEPTH + 1) + "x](http://a.dk)" + "]" * MAX_BRACKET_DEPTH
    assert _defuse(deep) != deep
    html = render_markdown(deep)
    assert "<a " not in html and "[[" in html
    normal = "Se [planen](https://holbaek.dk) (og [bilaget](https://holbaek.dk/b))."
    assert _defuse(normal) == normal
    assert render_markdown(normal).count("<a ") == 2
