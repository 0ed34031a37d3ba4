"""study triage: the urgent flag with its reasons, and the device's own statements

Revision ID: 0002
Revises: 0001
Create Date: 2027-01-12 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("urgent_reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("device_statements", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_studies_urgent"), ["urgent"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studies_urgent"))
        batch_op.drop_column("device_statements")
        batch_op.drop_column("urgent_reasons")
        batch_op.drop_column("urgent")
