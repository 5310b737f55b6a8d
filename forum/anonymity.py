"""The k-anonymity rule, in one place: no figure about a group of fewer than ``k`` people is
shown anywhere (the synthesis page, the council report, the reach figures, the opinion map's
breakdowns by local area and target group).

``k`` is ``K_ANONYMITY_MIN`` from the configuration (default 5; ``REPORTS_K_MIN``, its older
name, is still read) and never below 5 outside tests: a setting cannot weaken the rule.

``suppressed(counts)`` answers which groups of one breakdown are not shown: every group of
1 to k-1 people and, when exactly one group is hidden and the total is known, the next
smallest too, so that the hidden count cannot be worked out from the total minus the rest.
An empty group (0 people) tells nothing about anybody and stays.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from flask import current_app, has_app_context

DEFAULT_K = 5
Key = TypeVar("Key", bound=Hashable)


def k_min() -> int:
    """The smallest group shown (5 unless tests configure less)."""
    if not has_app_context():
        return DEFAULT_K
    cfg = current_app.config
    k = int(cfg.get("K_ANONYMITY_MIN", cfg.get("REPORTS_K_MIN", DEFAULT_K)))
    return k if cfg.get("TESTING") else max(k, DEFAULT_K)


def too_small(people: int, k: int | None = None) -> bool:
    """Is a group of ``people`` (more than none) too small to be shown?"""
    return 0 < people < (k if k is not None else k_min())


def suppressed(
    counts: Mapping[Key, int], k: int | None = None, total_known: bool = True
) -> set[Key]:
    """The keys of ``counts`` (group -> people) whose figures must not be shown."""
    k = k if k is not None else k_min()
    hidden = {key for key, n in counts.items() if too_small(n, k)}
    if total_known and len(hidden) == 1:
        rest = sorted(
            ((n, str(key)), key) for key, n in counts.items() if key not in hidden and n > 0
        )
        if rest:
            hidden.add(rest[0][1])
    return hidden
