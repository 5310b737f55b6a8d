"""The one CSV writer (forum/exports.py): formulas neutralised, the BOM, the delimiter rule,
streaming; and no package writes CSV past it."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale

from forum import exports

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("forum", "moderation", "search", "mail", "qa", "budgets", "outcomes", "app.py")


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("https://evil.example","klik")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_formula_cells_are_neutralised(text) -> None:
    assert exports.neutralise(text) == "'" + text
    piece = "".join(exports.stream(["title"], [[text]], delimiter=","))
    rows = list(csv.reader(io.StringIO(piece.removeprefix("\ufeff"), newline="")))
    assert rows == [["title"], ["'" + text]]


def test_numbers_stay_numbers_and_plain_text_is_untouched() -> None:
    piece = "".join(
        exports.stream(
            None, [[-5, Decimal("-12.50"), 1.5, True, None, "Bænke ved havnen"]], delimiter=","
        )
    )
    assert piece == "\ufeff-5,-12.50,1.5,1,,Bænke ved havnen\r\n"


def test_delimiter_follows_the_language(app) -> None:
    with app.test_request_context():
        with force_locale("da"):
            assert exports.spreadsheet_delimiter() == ";"
            assert "".join(exports.stream(["a", "b"], [], bom=False)) == "a;b\r\n"
        with force_locale("en"):
            assert exports.spreadsheet_delimiter() == ","


def test_streams_in_pieces() -> None:
    rows = ([i, "x" * 100] for i in range(1000))
    pieces = list(exports.stream(["n", "text"], rows, delimiter=",", chunk_chars=10_000))
    assert len(pieces) > 5 and all(len(p) < 10_200 for p in pieces)
    assert len(list(csv.reader(io.StringIO("".join(pieces).removeprefix("\ufeff"))))) == 1001


def test_no_package_writes_csv_past_the_core_module() -> None:
    """Every CSV goes through forum/exports.py, which neutralises formula cells."""
    pattern = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    offenders = []
    for package in PACKAGES:
        base = ROOT / package
        for path in [base] if base.is_file() else sorted(base.rglob("*.py")):
            if path == ROOT / "forum" / "exports.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
