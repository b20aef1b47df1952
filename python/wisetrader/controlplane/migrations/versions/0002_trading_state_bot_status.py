"""trading state per account and global, bot run status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("trading_state", sa.String(length=16), server_default="ACTIVE", nullable=False)
        )
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="stopped", nullable=False)
        )
    op.create_table(
        "global_trading_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("global_trading_state")
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.drop_column("status")
    with op.batch_alter_table("exchange_accounts", schema=None) as batch_op:
        batch_op.drop_column("trading_state")
