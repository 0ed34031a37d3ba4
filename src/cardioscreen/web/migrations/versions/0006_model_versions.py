"""learning from reviews: the model version of each study's result and of the result a conclusion reviewed; the
doctor's verdicts on the interpretation's statements; the shadow results of candidate models

Revision ID: 0006
Revises: 0005
Create Date: 2027-02-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch (see 0004: a SQLite batch rebuild would cascade through the foreign keys).


def upgrade() -> None:
    op.add_column("studies", sa.Column("model_version", sa.String(length=64), nullable=True))
    op.create_index("ix_studies_model_version", "studies", ["model_version"], unique=False)
    op.add_column("conclusions", sa.Column("model_version", sa.String(length=64), nullable=True))
    op.create_table(
        "shadow_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("predictions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "model_version"),
    )
    op.create_index("ix_shadow_results_study_id", "shadow_results", ["study_id"], unique=False)
    op.create_index("ix_shadow_results_model_version", "shadow_results", ["model_version"], unique=False)
    op.create_table(
        "statement_verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conclusion_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("agree", sa.Boolean(), nullable=False),
        sa.Column("added", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["conclusion_id"], ["conclusions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conclusion_id", "code"),
    )
    op.create_index("ix_statement_verdicts_conclusion_id", "statement_verdicts", ["conclusion_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_statement_verdicts_conclusion_id", table_name="statement_verdicts")
    op.drop_table("statement_verdicts")
    op.drop_index("ix_shadow_results_model_version", table_name="shadow_results")
    op.drop_index("ix_shadow_results_study_id", table_name="shadow_results")
    op.drop_table("shadow_results")
    op.drop_column("conclusions", "model_version")
    op.drop_index("ix_studies_model_version", table_name="studies")
    op.drop_column("studies", "model_version")
