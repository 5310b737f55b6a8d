"""api2: the open data's licence as a site setting

Revision ID: 3b7e1d9a4c20
Revises: b7e3d2a91c40
Create Date: 2026-12-07 19:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3b7e1d9a4c20"
down_revision = "b7e3d2a91c40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("admin_site_look", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open_data_licence", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("admin_site_look", schema=None) as batch_op:
        batch_op.drop_column("open_data_licence")
