"""Moderation: policies, the queue, decisions, appeals, suspensions and the audit log.

For now the forum's default policy (publish at once) applies; topic proposals are decided
in the forum core. The full feature is its own issue.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register moderation's hooks with the forum core (nothing yet beyond the default)."""
