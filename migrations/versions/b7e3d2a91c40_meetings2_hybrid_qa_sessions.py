"""meetings2: a live Q&A session held at a meeting (meeting_qa_sessions)

Revision ID: b7e3d2a91c40
Revises: f14db7cc5243
Create Date: 2026-12-07 19:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e3d2a91c40"
down_revision = "f14db7cc5243"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "meeting_qa_sessions",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_qa_sessions_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["qa_sessions.id"],
            name=op.f("fk_meeting_qa_sessions_session_id_qa_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_meeting_qa_sessions")),
        sa.UniqueConstraint("session_id", name=op.f("uq_meeting_qa_sessions_session_id")),
    )


def downgrade():
    op.drop_table("meeting_qa_sessions")
