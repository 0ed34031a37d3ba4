"""the job queue: who asked for a job, and from where (an administrator's re-analysis runs on a worker, and the audit
log names the administrator)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch (see 0004: a SQLite batch rebuild would cascade through the foreign keys). SQLite
# cannot add a foreign key to a table; its deployments never queue jobs, so the column stays a plain one there.


def upgrade() -> None:
    op.add_column("jobs", sa.Column("requested_by", sa.Integer(), nullable=True))
    op.add_column("jobs", sa.Column("client", sa.String(length=64), nullable=False, server_default=""))
    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key("fk_jobs_requested_by", "jobs", "users", ["requested_by"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_jobs_requested_by", "jobs", type_="foreignkey")
    op.drop_column("jobs", "client")
    op.drop_column("jobs", "requested_by")
