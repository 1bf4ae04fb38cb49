"""corrected decisions (issue 9, ADR 0014): the ARS decisions on phase-1 candidatures as financement
received them, so that a correction (validation <-> refusal) is checked against the current one

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Existing validated candidatures get their validation as their first decision (the decision id frozen
on `candidature_financee`): a later correction names it.
"""

import sqlalchemy as sa
from alembic import op

from hopen_common.db.migrations import rendre_immuables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_candidature",
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("validee", sa.Boolean(), nullable=False),
        sa.Column("remplace", sa.String(length=36), nullable=True),
        sa.Column("decide_par", sa.String(length=200), nullable=False),
        sa.Column("decide_le", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["remplace"], ["decision_candidature.decision_id"],
                                name=op.f("fk_decision_candidature_remplace_decision_candidature")),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decision_candidature")),
        sa.UniqueConstraint("remplace", name=op.f("uq_decision_candidature_remplace")),
    )
    op.create_index(op.f("ix_decision_candidature_candidature_id"), "decision_candidature", ["candidature_id"])
    op.create_index("uq_decision_candidature_premiere", "decision_candidature", ["candidature_id"],
                    unique=True, postgresql_where=sa.text("remplace IS NULL"))
    op.execute("INSERT INTO decision_candidature (decision_id, candidature_id, validee, remplace, decide_par,"
               " decide_le) SELECT decision_id, candidature_id, true, NULL, 'instruction', validee_le"
               " FROM candidature_financee")
    rendre_immuables(op, "decision_candidature")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS decision_candidature_immuable ON decision_candidature")
    op.execute("DROP TRIGGER IF EXISTS decision_candidature_immuable_truncate ON decision_candidature")
    op.drop_index("uq_decision_candidature_premiere", table_name="decision_candidature",
                  postgresql_where=sa.text("remplace IS NULL"))
    op.drop_index(op.f("ix_decision_candidature_candidature_id"), table_name="decision_candidature")
    op.drop_table("decision_candidature")
