"""session epoch: sign-out, a new password, a role change or deactivation end every session of the user

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-20 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: a batch rebuilds the users table on SQLite, and dropping the old one, with foreign
# keys on, would delete every study, token and conclusion through ON DELETE CASCADE (SQLite >= 3.35 drops columns).


def upgrade() -> None:
    op.add_column("users", sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("users", "session_epoch")
