"""Danish typography and grammar in what the site says: »…« quotation marks, no seconds in
times, plurals through ngettext, and no double full stop after an amount ending in "kr."."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from forum.localtime import format_local

ROOT = Path(__file__).resolve().parents[2]
DA_PO = ROOT / "translations" / "da" / "LC_MESSAGES" / "messages.po"
PACKAGES = ("forum", "moderation", "search", "mail", "qa", "budgets", "outcomes")
# Placeholders that carry an amount of money (``budget_money``/``money``): "100.000 kr."
MONEY = ("amount", "budget", "left", "spent", "over", "cost", "share", "sum")


def _danish() -> list[tuple[str, str]]:
    with DA_PO.open("rb") as f:
        catalog = read_po(f)
    out = []
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        out.extend((ids[0], s) for s in strings if s)
    return out


def test_danish_uses_guillemets_not_english_quotes():
    wrong = [(i, s) for i, s in _danish() if re.search("[“”„]", s)]
    assert not wrong, wrong[:5]


def test_no_double_full_stop_after_an_amount():
    """An amount ends with "kr." in Danish: a sentence must not put a full stop after it."""
    pattern = re.compile(r"%\((?:" + "|".join(MONEY) + r")\)s\.")
    # "Left: %(left)s." of points is a number of points, not money.
    wrong = [(i, s) for i, s in _danish() if pattern.search(s) and "Points" not in i]
    assert not wrong, wrong


@pytest.mark.parametrize("fmt", ["short", "medium", "long"])
@pytest.mark.parametrize("lang", ["da", "en"])
def test_times_have_no_seconds(app, fmt, lang):
    with app.test_request_context(headers={"Cookie": f"lang={lang}"}):
        text = format_local(datetime(2026, 12, 7, 13, 5, 33), fmt)
    assert "33" not in text, text
    assert re.search(r"\d{1,2}[.:]05", text), text


def test_no_seconds_formats_in_templates_or_code():
    """Times shown to people never carry seconds: no strftime %S, no Babel "ss" pattern and no
    ``dt`` filter with a pattern of its own that has seconds."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"dt\(\s*['\"][^'\"]*ss", line) or "%S" in line:
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                # File names and machine formats (iCalendar, index generation names) may.
                if "%S" in line and not re.search(r"ics|Z\"|\"g\"|index", str(path) + line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}")
                if re.search(r"format_(?:date)?time\([^)]*['\"][^'\"]*ss", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert not offenders, offenders


def test_counts_go_through_ngettext():
    """Messages that put a number of things in a sentence ("%(n)d voters", "sent %(n)d
    times") are plural entries in the catalogue, so Danish says "1 vælger", "1 gang"."""
    nouns = r"(?:voters?|times?|items?|projects?|ballots?|ideas?|questions?|posts?|agree)"
    with DA_PO.open("rb") as f:
        catalog = read_po(f)
    singular_only = [
        m.id
        for m in catalog
        if m.id
        and isinstance(m.id, str)
        and re.search(r"%\((?:n|num|count|hi)\)d " + nouns + r"\b", m.id)
    ]
    assert not singular_only, singular_only
