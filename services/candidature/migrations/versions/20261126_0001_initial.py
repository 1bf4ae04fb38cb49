"""initial

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from hopen_common.db.migrations import creer_tables_communes, rendre_immuables, supprimer_tables_communes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candidature",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dispositif", sa.String(length=20), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("statut", sa.String(length=20), nullable=False),
        sa.Column("objectifs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("perimetre", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("cree_par", sa.String(length=200), nullable=False),
        sa.Column("cree_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deposee_par", sa.String(length=200), nullable=True),
        sa.Column("deposee_le", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidature")),
    )
    op.create_index(op.f("ix_candidature_finess"), "candidature", ["finess"], unique=False)
    op.create_index(op.f("ix_candidature_region"), "candidature", ["region"], unique=False)
    op.create_table(
        "etablissement_connu",
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("finess_ej", sa.String(length=9), nullable=False),
        sa.Column("raison_sociale", sa.String(length=300), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("secteur", sa.String(length=30), nullable=False),
        sa.Column("niveau", sa.String(length=2), nullable=False),
        sa.Column("ght_code", sa.String(length=20), nullable=True),
        sa.Column("ght_role", sa.String(length=1), nullable=True),
        sa.Column("finess_pmsi", sa.String(length=9), nullable=False),
        sa.Column("activite_combinee", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("eligible_phase1", sa.Boolean(), nullable=False),
        sa.Column("maille_phase1", sa.String(length=9), nullable=True),
        sa.Column("domaines_sun_es", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("ferme", sa.Boolean(), nullable=False),
        sa.Column(
            "mis_a_jour_le", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("finess", name=op.f("pk_etablissement_connu")),
    )
    op.create_index(
        op.f("ix_etablissement_connu_finess_ej"), "etablissement_connu", ["finess_ej"], unique=False
    )
    op.create_table(
        "indicateur_declare",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("finess_ej", sa.String(length=9), nullable=False),
        sa.Column("objectif", sa.String(length=10), nullable=False),
        sa.Column("indicateur", sa.String(length=20), nullable=False),
        sa.Column("numerateur", sa.BigInteger(), nullable=False),
        sa.Column("denominateur", sa.BigInteger(), nullable=False),
        sa.Column("depose_par", sa.String(length=200), nullable=False),
        sa.Column("depose_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidature_id"],
            ["candidature.id"],
            name=op.f("fk_indicateur_declare_candidature_id_candidature"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicateur_declare")),
    )
    op.create_index(
        op.f("ix_indicateur_declare_candidature_id"), "indicateur_declare", ["candidature_id"], unique=False
    )
    creer_tables_communes(op)
    # Evidence is append-only: a new deposit supersedes, the old one stays.
    rendre_immuables(op, "indicateur_declare")


def downgrade() -> None:
    supprimer_tables_communes(op)
    op.drop_index(op.f("ix_indicateur_declare_candidature_id"), table_name="indicateur_declare")
    op.drop_table("indicateur_declare")
    op.drop_index(op.f("ix_etablissement_connu_finess_ej"), table_name="etablissement_connu")
    op.drop_table("etablissement_connu")
    op.drop_index(op.f("ix_candidature_region"), table_name="candidature")
    op.drop_index(op.f("ix_candidature_finess"), table_name="candidature")
    op.drop_table("candidature")
