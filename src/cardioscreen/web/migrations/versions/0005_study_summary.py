"""the doctor's workflow: the patient's age and sex from the file and the quality verdict as study columns (the
queue's rows and filters); class verdicts the doctor added (findings the model missed)

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch (see 0004: a SQLite batch rebuild would cascade through the foreign keys).


def upgrade() -> None:
    op.add_column("studies", sa.Column("patient_age", sa.Float(), nullable=True))
    op.add_column("studies", sa.Column("patient_sex", sa.String(length=8), nullable=True))
    op.add_column("studies", sa.Column("quality", sa.String(length=16), nullable=False, server_default=""))
    op.create_index("ix_studies_quality", "studies", ["quality"], unique=False)
    op.add_column("class_verdicts", sa.Column("added", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("class_verdicts", "added")
    op.drop_index("ix_studies_quality", table_name="studies")
    op.drop_column("studies", "quality")
    op.drop_column("studies", "patient_sex")
    op.drop_column("studies", "patient_age")
