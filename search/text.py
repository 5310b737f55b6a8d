"""Plain text from Markdown sources, and highlighted snippets.

The index holds words from the Markdown *source* (what the author typed), never the rendered
HTML. Snippets are cut from the text the database holds now (not from the index), so an
edited or hidden post can never show its old words in a result list.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

from .language import TOKEN_PATTERN

_FENCE = re.compile(r"^\s*(```|~~~).*$", re.M)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$", re.M)
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_LINE_MARKS = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)+", re.M)
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$", re.M)
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|~~|`+)(?=\S)(.+?)(?<=\S)\1", re.S)
_SPACES = re.compile(r"[ \t]+")
_BLANKS = re.compile(r"\n{3,}")
_LINE_START_MARKS = set("#>-*+_0123456789")
_EMPHASIS_MARKS = ("*", "_", "~~", "`")


def markdown_to_text(source: str | None) -> str:
    """The words of a Markdown text without its markup: link texts stay, URLs and marks go."""
    if not source:
        return ""
    text = source.replace("\r\n", "\n")
    # Each expression runs only when its marks occur: most posts are plain sentences, and a
    # rebuild converts every post (at 100,000 posts the expressions cost 19 s of CPU).
    if "```" in text or "~~~" in text:
        text = _FENCE.sub("", text)
    if "[" in text:
        if "![" in text:
            text = _IMAGE.sub(r"\1", text)
        text = _LINK.sub(r"\1", text)
        text = _REF_LINK.sub(r"\1", text)
        text = _REF_DEF.sub("", text)
    if "<" in text:
        text = _AUTOLINK.sub(r"\1", text)
        text = _HTML_TAG.sub(" ", text)
    if "\n" in text or text.lstrip()[:1] in _LINE_START_MARKS:
        text = _RULE.sub("", text)
        text = _LINE_MARKS.sub("", text)
    if any(mark in text for mark in _EMPHASIS_MARKS):
        for _ in range(2):  # nested emphasis: ***bold italic***, **_both_**
            text = _EMPHASIS.sub(r"\2", text)
    if "  " in text or "\t" in text:
        text = _SPACES.sub(" ", text)
    if "\n\n\n" in text:
        text = _BLANKS.sub("\n\n", text)
    return text.strip()


Forms = Callable[[str], tuple[str, str | None]]
_TOKENS = re.compile(TOKEN_PATTERN, re.UNICODE)


def snippet(
    text: str,
    forms: Forms,
    exact_terms: set[str],
    stem_terms: set[str],
    max_chars: int = 260,
) -> Markup:
    """An escaped excerpt of ``text`` around its best run of matches, matches in ``<mark>``.

    ``forms`` gives a word's (exact form, stem or None) as the index analyses it; a word is
    marked when its exact form or its stem was searched for. Each distinct word is looked
    at once; finding the marked ones in the text is one regular expression.
    """
    if not text:
        return Markup("")
    marked = set()
    if exact_terms or stem_terms:
        for token in set(_TOKENS.findall(text)):
            exact, stem = forms(token)
            if exact in exact_terms or (stem is not None and stem in stem_terms):
                marked.add(token)
    marks: list[tuple[int, int]] = []
    if marked:
        words = "|".join(re.escape(t) for t in sorted(marked, key=len, reverse=True))
        marks = [m.span() for m in re.finditer(rf"(?<![\w.,])(?:{words})(?![\w])", text)]
    if len(text) <= max_chars:
        lo, hi = 0, len(text)
    elif not marks:
        lo, hi = 0, _cut_end(text, max_chars)
    else:
        lo, hi = _best_window(text, marks, max_chars)
    parts: list[str] = []
    if lo > 0:
        parts.append("… ")
    pos = lo
    for start, end in marks:
        if start < lo or end > hi:
            continue
        parts.append(str(escape(text[pos:start])))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        pos = end
    parts.append(str(escape(text[pos:hi])))
    if hi < len(text):
        parts.append(" …")
    return Markup("".join(parts).replace("\n", " "))


def _cut_end(text: str, limit: int) -> int:
    cut = text.rfind(" ", 0, limit)
    return cut if cut > limit // 2 else limit


def _best_window(text: str, marks: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """The window of ``width`` characters holding the most marks, starting a little before."""
    best_start, best_count = marks[0][0], 0
    j = 0
    for i, (start, _end) in enumerate(marks):
        while j < len(marks) and marks[j][1] <= start + width - 40:
            j += 1
        if j - i > best_count:
            best_start, best_count = start, j - i
    lo = max(0, best_start - 40)
    space = text.rfind(" ", 0, lo + 1)
    lo = space + 1 if lo > 0 and space >= 0 and lo - space < 30 else lo
    hi = min(len(text), lo + width)
    if hi < len(text):
        cut = text.rfind(" ", lo, hi)
        hi = cut if cut > lo + width // 2 else hi
    return lo, hi
