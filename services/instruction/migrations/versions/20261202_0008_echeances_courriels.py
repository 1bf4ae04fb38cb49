"""deadlines and mail (issue 9 items 5 and 6): the reminders sent (once per deadline, target, J-7|J-1)
the outbox of mails to the ARS, the evidence of attainment of AAP projects

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from hopen_common.courriel import creer_table_courriel
from hopen_common.db.migrations import rendre_immuables

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rappel_emis",
        sa.Column("echeance", sa.String(length=100), nullable=False),
        sa.Column("cible", sa.String(length=50), nullable=False),
        sa.Column("rappel", sa.String(length=3), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("dossiers", JSONB(), nullable=False),
        sa.Column("emis_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("echeance", "cible", "rappel", name=op.f("pk_rappel_emis")),
        sa.UniqueConstraint("event_id", name=op.f("uq_rappel_emis_event_id")),
    )
    rendre_immuables(op, "rappel_emis")
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
