"""Search's tables: the indexer's cursor into the event log, and saved searches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models import User, utcnow


class SearchCursor(db.Model):
    """How far one index generation of one node has followed the event log.

    Every node (``SEARCH_NODE``, by default the host name) keeps its own index in its own
    ``SEARCH_INDEX_DIR`` and follows the log with its own rows here: ``node`` names the node,
    ``in_use`` marks the generation its searches read (``flask search status`` lists every
    node's lag from these rows). Each index generation (a directory under
    ``SEARCH_INDEX_DIR``, its name unique across nodes) has its own row, so a rebuild can
    prepare a new generation while the old one keeps being updated. Every event
    with ``id <= last_event_id`` is in the index. Ids above it up to ``high_event_id`` are
    applied too, except ``gaps``: ids not yet seen, which on PostgreSQL can belong to a
    transaction still running (sequence values are handed out before commit). A gap that stays
    empty for ``SEARCH_GAP_TIMEOUT`` seconds is taken to be a rolled-back transaction.
    """

    __tablename__ = "search_cursors"

    generation: Mapped[str] = mapped_column(String(64), primary_key=True)
    node: Mapped[str] = mapped_column(String(64), default="", server_default="", index=True)
    in_use: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The node's SEARCH_INDEX_DIR: a rebuild drops the node's rows of generations gone from it.
    index_dir: Mapped[str] = mapped_column(String(500), default="", server_default="")
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    high_event_id: Mapped[int] = mapped_column(Integer, default=0)
    # [[event id, first seen as a unix timestamp], ...]
    gaps: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SavedSearch(db.Model):
    """A query with its filters, saved under a name; its owner hears of new matches."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_searches_user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(200), default="")
    # The filters as URL parameters (udvalg, omraade, rolle, ...), exactly as the page takes them.
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    notify: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_match_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
