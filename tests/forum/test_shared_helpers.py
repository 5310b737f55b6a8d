"""The core's shared helpers that replaced copies in the packages' views and services:
local time ↔ UTC (forum/localtime.py), the signed-in user (``forum.views.me``) and reading a
string enum's member from a form (``forum.models.enum_member``)."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

import pytest

from forum.errors import InvalidInput
from forum.localtime import to_local, to_utc, zone
from forum.models import Stance, enum_member

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        (datetime(2027, 1, 12, 0, 0), datetime(2027, 1, 11, 23, 0)),  # CET, +1
        (datetime(2027, 7, 1, 14, 30), datetime(2027, 7, 1, 12, 30)),  # CEST, +2
    ],
)
def test_local_times_convert_with_the_zone_offset_not_local_mean_time(app, local, utc):
    """pytz's zone in ``replace(tzinfo=)`` is Copenhagen's local mean time (+0:53): the
    moderation log's date filter started at 23.07 the day before, not at midnight."""
    with app.test_request_context():
        assert str(zone()) == "Europe/Copenhagen"
        assert to_utc(local) == utc
        assert to_local(utc) == local
        assert to_utc(None) is None and to_local(None) is None


def test_a_stance_is_read_or_refused_on_its_field():
    assert enum_member(Stance, "for", stance="?") is Stance.FOR
    assert enum_member(Stance, Stance.AGAINST, stance="?") is Stance.AGAINST
    for wrong in ("maybe", None, ""):
        with pytest.raises(InvalidInput) as caught:
            enum_member(Stance, wrong, "General.", stance="Unknown stance.")
        assert caught.value.fields == {"stance": "Unknown stance."}
        assert caught.value.message == "General."


def test_no_package_keeps_its_own_copy():
    """Views take the signed-in user from ``forum.views.me`` and convert times with
    ``forum.localtime``: no module defines its own."""
    copies = []
    packages = [p for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"]
    for path in sorted(f for p in packages for f in p.rglob("*.py")):
        if path.relative_to(ROOT).as_posix() in ("forum/localtime.py", "forum/views/__init__.py"):
            continue
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef):
                continue
            body = ast.unparse(node)
            only = node.body[0] if len(node.body) == 1 else None
            if (
                isinstance(only, ast.Return)
                and only.value is not None
                and ast.unparse(only.value) == "current_user._get_current_object()"
            ):
                copies.append(f"{path.relative_to(ROOT)}: {node.name}")
            if "ZoneInfo(str(get_timezone()))" in body or "tzinfo=get_timezone()" in body:
                copies.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert copies == []
