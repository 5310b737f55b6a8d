"""Markdown to safe HTML: the one function every contribution goes through, on write.

Raw HTML in the source is not interpreted (it shows as text), and whatever Markdown
produces is then sanitised by nh3 against the allow-list below. Change the allow-list,
then run ``flask --app app posts rerender``.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "del",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener noreferrer"


class _DemoteHeadings(Treeprocessor):
    """Turn h1/h2 into h3: the page owns h1 and h2, posts start at h3."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.tag in ("h1", "h2"):
                element.tag = "h3"


class _Extension(markdown.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        # Raw HTML is escaped instead of passed through: "<b>" shows as typed.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_DemoteHeadings(md), "demote_headings", 0)


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=["fenced_code", "sane_lists", _Extension()], output_format="html"
    )


def sanitise(html: str) -> str:
    """Clean HTML against the allow-list (also the last line of defence for Markdown)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


# Python-Markdown's link patterns backtrack badly on deeply nested brackets: 10,000
# characters of "[" took 12 s of CPU. Past this nesting depth brackets are taken literally.
MAX_BRACKET_DEPTH = 16
_BRACKETS = str.maketrans({"[": "\\[", "]": "\\]", "(": "\\(", ")": "\\)"})


def _defuse(source: str) -> str:
    """Escape brackets and parentheses when they nest deeper than any real post needs."""
    depth = deepest = 0
    for ch in source:
        if ch in "[(":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_BRACKET_DEPTH:
                    return source.translate(_BRACKETS)
        elif ch in "])" and depth:
            depth -= 1
    return source


def render_markdown(source: str) -> Markup:
    """Render user Markdown to sanitised HTML, safe to store and show as is."""
    md = _markdown()  # instances keep state between conversions; a fresh one is cheap
    return Markup(sanitise(md.convert(_defuse(source))))


def excerpt(source: str, length: int = 160) -> str:
    """A plain-text excerpt of Markdown source for lists and notifications."""
    text = " ".join(source.split())
    for ch in "#>*_`":
        text = text.replace(ch, "")
    text = text.strip()
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
