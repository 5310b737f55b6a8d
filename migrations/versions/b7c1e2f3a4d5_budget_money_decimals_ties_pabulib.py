"""Citizen budgets: money as NUMERIC(18, 2) (Pabulib amounts with decimals), longer rule
names (equalshares/add1-comparison), the tie-breaking rule and seed of a process, the
comparison step's figures, and imported Pabulib columns of projects and ballots

Revision ID: b7c1e2f3a4d5
Revises: 5e1f0c7a9b21
Create Date: 2026-12-07 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c1e2f3a4d5'
down_revision = '5e1f0c7a9b21'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=18, scale=2)

# (table, column, nullable) of every amount of money
MONEY_COLUMNS = (
    ('budget_processes', 'total_amount', False),
    ('budget_area_amounts', 'amount', False),
    ('budget_ideas', 'estimated_cost', False),
    ('budget_ideas', 'final_cost', True),
    ('budget_idea_reviews', 'final_cost', True),
    ('budget_results', 'budget', False),
    ('budget_results', 'total_cost', False),
    ('budget_result_lines', 'cost', False),
)


def upgrade():
    for table, column, nullable in MONEY_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.BigInteger(), type_=MONEY, existing_nullable=nullable
            )
    with op.batch_alter_table('budget_processes', schema=None) as batch_op:
        batch_op.alter_column(
            'rule', existing_type=sa.String(length=20), type_=sa.String(length=40),
            existing_nullable=False,
        )
        batch_op.add_column(
            sa.Column('tie_break', sa.String(length=20), server_default='cost', nullable=False)
        )
        batch_op.add_column(sa.Column('tie_seed', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('budget_results', schema=None) as batch_op:
        batch_op.alter_column(
            'rule', existing_type=sa.String(length=20), type_=sa.String(length=40),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column('comparison', sa.JSON(), nullable=True))
    with op.batch_alter_table('budget_ideas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_columns', sa.JSON(), nullable=True))
    with op.batch_alter_table('budget_ballots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_columns', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('budget_ballots', schema=None) as batch_op:
        batch_op.drop_column('source_columns')
    with op.batch_alter_table('budget_ideas', schema=None) as batch_op:
        batch_op.drop_column('source_columns')
    with op.batch_alter_table('budget_results', schema=None) as batch_op:
        batch_op.drop_column('comparison')
        batch_op.alter_column(
            'rule', existing_type=sa.String(length=40), type_=sa.String(length=20),
            existing_nullable=False,
        )
    with op.batch_alter_table('budget_processes', schema=None) as batch_op:
        batch_op.drop_column('tie_seed')
        batch_op.drop_column('tie_break')
        batch_op.alter_column(
            'rule', existing_type=sa.String(length=40), type_=sa.String(length=20),
            existing_nullable=False,
        )
    for table, column, nullable in MONEY_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=MONEY, type_=sa.BigInteger(), existing_nullable=nullable
            )
