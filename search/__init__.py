"""Search: the Whoosh index, the event-log indexer, queries and exports (its own issue)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire search into the app (nothing yet: the search feature is its own issue)."""
