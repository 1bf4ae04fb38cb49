"""deadlines and mail (issue 9 items 5 and 6): the reminders sent (once per deadline, target, J-7|J-1)
the outbox of mails to the ARS, the evidence of attainment of AAP projects

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from hopen_common.courriel import creer_table_courriel
from hopen_common.rappels import creer_table_rappel_emis

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    creer_table_rappel_emis(op)
    creer_table_courriel(op)
    op.create_table(
        "preuve_aap_recue",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("projet_id", sa.String(length=36), nullable=False),
        sa.Column("objectif", sa.String(length=50), nullable=False),
        sa.Column("piece_id", sa.String(length=36), nullable=False),
        sa.Column("piece_nom", sa.String(length=255), nullable=False),
        sa.Column("piece_sha256", sa.String(length=64), nullable=False),
        sa.Column("commentaire", sa.Text(), nullable=True),
        sa.Column("depose_par", sa.String(length=200), nullable=False),
        sa.Column("depose_le", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["projet_id"], ["projet.id"], name=op.f("fk_preuve_aap_recue_projet_id_projet")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preuve_aap_recue")),
    )
    op.create_index(op.f("ix_preuve_aap_recue_projet_id"), "preuve_aap_recue", ["projet_id"], unique=False)


def downgrade() -> None:
    op.drop_table("preuve_aap_recue")
    op.drop_table("courriel")
    op.drop_table("rappel_emis")
