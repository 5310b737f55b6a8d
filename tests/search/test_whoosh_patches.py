"""The patches of Whoosh's internals are applied only to the version they were written for."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from search.index import whoosh_patches

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_pin_and_the_patches_name_the_same_version():
    dependencies = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = [d for d in dependencies if re.match(r"whoosh-reloaded\b", d, re.IGNORECASE)]
    assert pins == [f"whoosh-reloaded=={whoosh_patches.WHOOSH_VERSION}"]


def test_the_installed_version_is_the_pinned_one():
    assert whoosh_patches.installed_version() == whoosh_patches.WHOOSH_VERSION
    whoosh_patches.check_version(whoosh_patches.installed_version())  # no error


@pytest.mark.parametrize("found", ["2.7.4", "2.7.6", "3.0.0", None])
def test_another_version_is_refused_with_both_versions_named(found):
    with pytest.raises(whoosh_patches.WhooshVersionMismatch) as caught:
        whoosh_patches.check_version(found)
    message = str(caught.value)
    assert f"whoosh-reloaded {whoosh_patches.WHOOSH_VERSION}" in message
    assert (found or "no version") in message
    assert caught.value.expected == whoosh_patches.WHOOSH_VERSION and caught.value.found == found


def test_apply_checks_before_it_patches(monkeypatch):
    """A mismatch stops ``apply`` before any patch (applying twice is otherwise harmless)."""
    monkeypatch.setattr(whoosh_patches, "installed_version", lambda: "9.9.9")
    touched = []
    monkeypatch.setattr(whoosh_patches, "_use_compact_pool", lambda: touched.append(1))
    with pytest.raises(whoosh_patches.WhooshVersionMismatch, match="9.9.9"):
        whoosh_patches.apply()
    assert touched == []
    monkeypatch.undo()
    whoosh_patches.apply()  # the real version: patches are in place, once
    from whoosh import writing

    assert writing.PostingPool is whoosh_patches.CompactPostingPool
