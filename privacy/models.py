"""The privacy package's tables: the site's privacy settings, consent records, deletions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models import utcnow

# The demo's defaults (Holbæk Kommune); an admin edits them at /privatliv/indstillinger.
DEFAULTS: dict[str, object] = {
    "municipality_name": "Holbæk Kommune",
    "contact_address": "Holbæk Kommune, Kanalstræde 2, 4300 Holbæk\nborgerdialog@holbaek.example",
    "data_controller": "Holbæk Kommune, Kanalstræde 2, 4300 Holbæk",
    "dpo_contact": "Databeskyttelsesrådgiveren, Holbæk Kommune\ndpo@holbaek.example",
    "notice_version": 1,
    "deletion_grace_days": 14,
    "unverified_retention_days": 30,
    "mail_retention_days": 90,
}


class SiteSettings(db.Model):
    """One row (id 1): what the privacy page says about the municipality running the site."""

    __tablename__ = "privacy_site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_name: Mapped[str] = mapped_column(String(200))
    contact_address: Mapped[str] = mapped_column(Text)
    data_controller: Mapped[str] = mapped_column(Text)
    dpo_contact: Mapped[str] = mapped_column(Text)
    # Bumped when the settings change what the notice says: consents record the version.
    notice_version: Mapped[int] = mapped_column(Integer, default=1)
    deletion_grace_days: Mapped[int] = mapped_column(Integer, default=14)
    unverified_retention_days: Mapped[int] = mapped_column(Integer, default=30)
    mail_retention_days: Mapped[int] = mapped_column(Integer, default=90)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ConsentRecord(db.Model):
    """A person acknowledged the debate rules and the privacy notice (which version, when)."""

    __tablename__ = "privacy_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # "registration": rules + privacy notice; "fact:<name>": one optional fact (reach.py)
    kind: Mapped[str] = mapped_column(String(40))
    notice_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When the person withdrew this consent (the fact itself is deleted then).
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)


class DeletionRequest(db.Model):
    """A person asked to delete their account; the purge completes it after the grace period.

    ``mode`` is "anonymise" (contributions stay, as a former participant) or "erase"
    (contributions' texts go too). Logging in before ``due_at`` cancels it (the row goes).
    """

    __tablename__ = "privacy_deletions"
    __table_args__ = (Index("ix_privacy_deletions_due", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    mode: Mapped[str] = mapped_column(String(10))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(DateTime)


class PersonalFact(db.Model):
    """One optional fact a person chose to give, with its own consent (``privacy_consents``
    row of kind ``fact:<fact>``). Withdrawing deletes the row."""

    __tablename__ = "privacy_facts"
    __table_args__ = (UniqueConstraint("user_id", "fact"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    fact: Mapped[str] = mapped_column(String(20))  # facts.FACTS
    value: Mapped[str] = mapped_column(String(40))  # "" for the area: see area_id
    # The area of residence (a foreign key, so merging areas moves it along).
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PopulationShare(db.Model):
    """The municipality's population share (percent) of one group, entered by staff (e.g.
    from Danmarks Statistik): the yardstick of the reach dashboard. For ``fact == "area"``
    the row names the area (``area_id``) and ``value`` is empty."""

    __tablename__ = "privacy_population_shares"
    # No unique key: merging two areas leaves two rows for the target, which add up.

    id: Mapped[int] = mapped_column(primary_key=True)
    fact: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(40))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    percent: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
