"""issue 9 workflow: en_instruction and correction_demandee hold the applicant and its EJ like a
deposited candidature (the partial unique indexes of issue 7); the ARS decisions, transitions and
correction requests candidature learns from instruction's events (ADR 0013)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

AVANT = "statut IN ('brouillon', 'deposee', 'desistement_demande', 'validee')"
APRES = ("statut IN ('brouillon', 'deposee', 'en_instruction', 'correction_demandee',"
         " 'desistement_demande', 'validee')")


def _index(predicat: str) -> None:
    op.drop_index("uq_candidature_ouverte", table_name="candidature")
    op.drop_index("uq_candidature_ej_ouverte", table_name="candidature_ej")
    op.create_index("uq_candidature_ouverte", "candidature", ["finess", "dispositif"], unique=True,
                    postgresql_where=sa.text(predicat))
    op.create_index("uq_candidature_ej_ouverte", "candidature_ej", ["dispositif", "finess_ej"], unique=True,
                    postgresql_where=sa.text(predicat))


def upgrade() -> None:
    _index(APRES)
    op.add_column("decision_projet_connue", sa.Column("remplace", sa.String(length=36), nullable=True))
    op.create_table(
        "decision_connue",
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("objet", sa.String(length=20), nullable=False),
        sa.Column("finess_ej", sa.String(length=9), nullable=True),
        sa.Column("decision", sa.String(length=100), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.Column("decide_par", sa.String(length=200), nullable=False),
        sa.Column("decide_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remplace", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["candidature_id"], ["candidature.id"],
                                name=op.f("fk_decision_connue_candidature_id_candidature")),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decision_connue")),
    )
    op.create_index(op.f("ix_decision_connue_candidature_id"), "decision_connue", ["candidature_id"])
    op.create_table(
        "transition_connue",
        sa.Column("transition_id", sa.String(length=36), nullable=False),
        sa.Column("dossier_type", sa.String(length=20), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("de", sa.String(length=20), nullable=False),
        sa.Column("vers", sa.String(length=20), nullable=False),
        sa.Column("par", sa.String(length=200), nullable=False),
        sa.Column("le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("transition_id", name=op.f("pk_transition_connue")),
    )
    op.create_index("ix_transition_connue_dossier", "transition_connue", ["dossier_type", "dossier_id"])
    op.create_table(
        "demande_correction_recue",
        sa.Column("correction_id", sa.String(length=36), nullable=False),
        sa.Column("dossier_type", sa.String(length=20), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("pieces", JSONB(), nullable=False),
        sa.Column("champs", JSONB(), nullable=False),
        sa.Column("valeurs_avant", JSONB(), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.Column("echeance", sa.Date(), nullable=False),
        sa.Column("demandee_par", sa.String(length=200), nullable=False),
        sa.Column("demandee_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("repondue_le", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("correction_id", name=op.f("pk_demande_correction_recue")),
    )
    op.create_index("ix_demande_correction_recue_dossier", "demande_correction_recue",
                    ["dossier_type", "dossier_id"])


def downgrade() -> None:
    op.drop_index("ix_demande_correction_recue_dossier", table_name="demande_correction_recue")
    op.drop_table("demande_correction_recue")
    op.drop_index("ix_transition_connue_dossier", table_name="transition_connue")
    op.drop_table("transition_connue")
    op.drop_index(op.f("ix_decision_connue_candidature_id"), table_name="decision_connue")
    op.drop_table("decision_connue")
    op.drop_column("decision_projet_connue", "remplace")
    # Back to the four open statuses: the new ones read as the nearest old one.
    op.execute("UPDATE candidature SET statut = 'deposee' WHERE statut IN ('en_instruction',"
               " 'correction_demandee')")
    op.execute("UPDATE candidature_ej SET statut = 'deposee' WHERE statut IN ('en_instruction',"
               " 'correction_demandee')")
    _index(AVANT)
