"""The Holbæk demo's API keys: the municipality's website reads the debate, and its case
system opens topics in Holbæk By."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.models import Area, Role, User

from . import keys


def seed() -> int:
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    area = db.session.scalar(select(Area).order_by(Area.position, Area.id))
    if admin is None:
        return 0
    keys.create_key(admin, "Holbæk Kommunes hjemmeside", "read")
    if area is not None:
        keys.create_key(admin, "Sagssystemet (ESDH)", "write_area", area.id)
        return 2
    return 1
