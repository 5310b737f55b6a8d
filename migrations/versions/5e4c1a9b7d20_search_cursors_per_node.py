"""search cursors per node: each node follows the event log into its own index

Revision ID: 5e4c1a9b7d20
Revises: 700e8d6ac80a
Create Date: 2026-12-07 15:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e4c1a9b7d20'
down_revision = "700e8d6ac80a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('search_cursors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('in_use', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('index_dir', sa.String(length=500), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_search_cursors_node'), ['node'], unique=False)


def downgrade():
    with op.batch_alter_table('search_cursors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_cursors_node'))
        batch_op.drop_column('index_dir')
        batch_op.drop_column('in_use')
        batch_op.drop_column('node')
