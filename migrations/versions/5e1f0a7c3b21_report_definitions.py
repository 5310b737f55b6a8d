"""report definitions: council reports made on demand

Revision ID: 5e1f0a7c3b21
Revises: 5af5d2873c81
Create Date: 2026-12-07 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1f0a7c3b21'
down_revision = '5af5d2873c81'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_definitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('scope', sa.Enum('topic', 'committee', 'platform', name='report_scope', native_enum=False, length=20), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('committee_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_report_definitions_committee_id_committees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_report_definitions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_report_definitions_topic_id_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_definitions'))
    )
    with op.batch_alter_table('report_definitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_definitions_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_definitions_topic_id'), ['topic_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_definitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_definitions_topic_id'))
        batch_op.drop_index(batch_op.f('ix_report_definitions_committee_id'))

    op.drop_table('report_definitions')
