"""Administration's table: invitations of politicians and staff.

An invitation link carries a signed token (``admin/tokens.py``) naming this row and its
random nonce; the row records when it expires and when (and by whom) it was used, so a
link works once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models import User, utcnow


class Invitation(db.Model):
    __tablename__ = "admin_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # lower-cased
    role: Mapped[str] = mapped_column(String(20))  # "politician" or "moderator"
    party: Mapped[str | None] = mapped_column(String(80))
    # Committee ids (politicians) or area ids (a scoped moderator); empty: none / everywhere.
    committee_ids: Mapped[list] = mapped_column(JSON, default=list)
    area_ids: Mapped[list] = mapped_column(JSON, default=list)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    used_by: Mapped[User | None] = relationship(foreign_keys=[used_by_id])


class SiteLook(db.Model):
    """One row (id 1): how the site presents the municipality — logo, colours, the home
    page's introduction, the contact shown in the footer, the open data's licence. Admins edit it at
    /admin/indstillinger; ``version`` names the generated stylesheet and the logo's address,
    so browsers may keep them for a year."""

    __tablename__ = "admin_site_look"

    id: Mapped[int] = mapped_column(primary_key=True)
    intro_source: Mapped[str] = mapped_column(Text, default="")
    intro_html: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(Text, default="")
    brand_colour: Mapped[str | None] = mapped_column(String(7))  # "#rrggbb"; None: built in
    brand_dark_colour: Mapped[str | None] = mapped_column(String(7))
    logo_type: Mapped[str | None] = mapped_column(String(4))  # "png" or "jpeg"; None: no logo
    # The open-data licence (a key of ``admin.site.LICENCES``); None: the configured default
    # (OPEN_DATA_LICENCE).
    open_data_licence: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
