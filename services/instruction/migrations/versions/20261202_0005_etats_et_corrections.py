"""issue 9 workflow: a_instruire becomes deposee (depose for AAP projects), the history of every
transition, the ARS correction requests and their answers (ADR 0013)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from hopen_common.db.migrations import rendre_immuables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transition_dossier",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dossier_type", sa.String(length=20), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("de", sa.String(length=20), nullable=True),
        sa.Column("vers", sa.String(length=20), nullable=False),
        sa.Column("par", sa.String(length=200), nullable=False),
        sa.Column("le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transition_dossier")),
    )
    op.create_index("ix_transition_dossier", "transition_dossier", ["dossier_type", "dossier_id", "le"])
    op.create_table(
        "demande_correction",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dossier_type", sa.String(length=20), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("pieces", JSONB(), nullable=False),
        sa.Column("champs", JSONB(), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.Column("echeance", sa.Date(), nullable=False),
        sa.Column("demandee_par", sa.String(length=200), nullable=False),
        sa.Column("demandee_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demande_correction")),
    )
    op.create_index("ix_demande_correction_dossier", "demande_correction", ["dossier_type", "dossier_id"])
    op.create_table(
        "reponse_correction",
        sa.Column("correction_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("champs", JSONB(), nullable=False),
        sa.Column("pieces", JSONB(), nullable=False),
        sa.Column("repondue_par", sa.String(length=200), nullable=False),
        sa.Column("repondue_le", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["correction_id"], ["demande_correction.id"],
                                name=op.f("fk_reponse_correction_correction_id_demande_correction")),
        sa.PrimaryKeyConstraint("correction_id", name=op.f("pk_reponse_correction")),
    )
    rendre_immuables(op, "transition_dossier", "demande_correction", "reponse_correction")
    op.execute("UPDATE dossier SET statut = 'deposee' WHERE statut = 'a_instruire'")
    op.execute("UPDATE projet SET statut = 'depose' WHERE statut = 'a_instruire'")
    # The history starts with the deposit (and the decision, when there is one) of the dossiers
    # already there, so that their processing time reads from the same table.
    op.execute("""
        INSERT INTO transition_dossier (id, dossier_type, dossier_id, de, vers, par, le)
        SELECT 'depot-' || id, 'candidature', id, NULL, 'deposee', 'migration 0005', deposee_le FROM dossier
        UNION ALL
        SELECT 'depot-' || id, 'projet', id, NULL, 'depose', 'migration 0005', deposee_le FROM projet
        UNION ALL
        SELECT 'decision-' || d.id, 'candidature', d.dossier_id, 'deposee', d.decision, d.decide_par,
               d.decide_le
          FROM decision d WHERE d.objet = 'candidature' AND d.remplace IS NULL
        UNION ALL
        SELECT 'decision-' || d.id, 'projet', d.projet_id, 'depose', d.decision, d.decide_par, d.decide_le
          FROM decision_projet d WHERE d.objet = 'selection' AND d.remplace IS NULL
    """)


def downgrade() -> None:
    op.execute("UPDATE projet SET statut = 'a_instruire' WHERE statut IN ('depose', 'en_instruction',"
               " 'correction_demandee')")
    op.execute("UPDATE dossier SET statut = 'a_instruire' WHERE statut IN ('deposee', 'en_instruction',"
               " 'correction_demandee')")
    op.drop_table("reponse_correction")
    op.drop_index("ix_demande_correction_dossier", table_name="demande_correction")
    op.drop_table("demande_correction")
    op.drop_index("ix_transition_dossier", table_name="transition_dossier")
    op.drop_table("transition_dossier")
