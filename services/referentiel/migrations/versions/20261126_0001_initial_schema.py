"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from hopen_common.db.migrations import creer_tables_communes, supprimer_tables_communes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activite_combinee",
        sa.Column("finess_pmsi", sa.String(length=9), nullable=False),
        sa.Column("campagne", sa.Integer(), nullable=False),
        sa.Column("valeur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("composantes", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("finess_pmsi", "campagne", name=op.f("pk_activite_combinee")),
    )
    op.create_table(
        "domaine_sun_es",
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("domaine", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("finess", "domaine", name=op.f("pk_domaine_sun_es")),
    )
    op.create_table(
        "effectif_sae",
        sa.Column("finess_eg", sa.String(length=9), nullable=False),
        sa.Column("annee", sa.Integer(), nullable=False),
        sa.Column("effectif", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("finess_eg", "annee", name=op.f("pk_effectif_sae")),
    )
    op.create_table(
        "entite_juridique",
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("raison_sociale", sa.String(length=300), nullable=False),
        sa.Column("statut_juridique", sa.String(length=2), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("date_fermeture", sa.Date(), nullable=True),
        sa.Column("ferme", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column(
            "mis_a_jour_le", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("finess", name=op.f("pk_entite_juridique")),
    )
    op.create_table(
        "fiche_etablissement",
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("niveau", sa.String(length=2), nullable=False),
        sa.Column("finess_ej", sa.String(length=9), nullable=False),
        sa.Column("raison_sociale", sa.String(length=300), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("secteur", sa.String(length=30), nullable=False),
        sa.Column("categorie", sa.String(length=3), nullable=True),
        sa.Column("ght_code", sa.String(length=20), nullable=True),
        sa.Column("finess_pmsi", sa.String(length=9), nullable=False),
        sa.Column("activite_combinee", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("eligible_phase1", sa.Boolean(), nullable=False),
        sa.Column("ferme", sa.Boolean(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("empreinte", sa.String(length=64), nullable=False),
        sa.Column("calcule_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("finess", name=op.f("pk_fiche_etablissement")),
    )
    op.create_index(
        op.f("ix_fiche_etablissement_categorie"), "fiche_etablissement", ["categorie"], unique=False
    )
    op.create_index(
        op.f("ix_fiche_etablissement_departement"), "fiche_etablissement", ["departement"], unique=False
    )
    op.create_index(
        op.f("ix_fiche_etablissement_eligible_phase1"),
        "fiche_etablissement",
        ["eligible_phase1"],
        unique=False,
    )
    op.create_index(
        op.f("ix_fiche_etablissement_finess_ej"), "fiche_etablissement", ["finess_ej"], unique=False
    )
    op.create_index(
        op.f("ix_fiche_etablissement_ght_code"), "fiche_etablissement", ["ght_code"], unique=False
    )
    op.create_index(op.f("ix_fiche_etablissement_region"), "fiche_etablissement", ["region"], unique=False)
    op.create_index(op.f("ix_fiche_etablissement_secteur"), "fiche_etablissement", ["secteur"], unique=False)
    op.create_table(
        "ght",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("libelle", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ght")),
    )
    op.create_table(
        "etablissement_geographique",
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("finess_ej", sa.String(length=9), nullable=False),
        sa.Column("raison_sociale", sa.String(length=300), nullable=False),
        sa.Column("categorie", sa.String(length=3), nullable=False),
        sa.Column("agregat_categorie", sa.String(length=4), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("date_fermeture", sa.Date(), nullable=True),
        sa.Column("ferme", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column(
            "mis_a_jour_le", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["finess_ej"],
            ["entite_juridique.finess"],
            name=op.f("fk_etablissement_geographique_finess_ej_entite_juridique"),
        ),
        sa.PrimaryKeyConstraint("finess", name=op.f("pk_etablissement_geographique")),
    )
    op.create_index(
        op.f("ix_etablissement_geographique_finess_ej"),
        "etablissement_geographique",
        ["finess_ej"],
        unique=False,
    )
    op.create_table(
        "membre_ght",
        sa.Column("finess_ej", sa.String(length=9), nullable=False),
        sa.Column("ght_code", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=1), nullable=False),
        sa.ForeignKeyConstraint(["ght_code"], ["ght.code"], name=op.f("fk_membre_ght_ght_code_ght")),
        sa.PrimaryKeyConstraint("finess_ej", name=op.f("pk_membre_ght")),
    )
    op.create_index(op.f("ix_membre_ght_ght_code"), "membre_ght", ["ght_code"], unique=False)
    creer_tables_communes(op)


def downgrade() -> None:
    supprimer_tables_communes(op)
    op.drop_index(op.f("ix_membre_ght_ght_code"), table_name="membre_ght")
    op.drop_table("membre_ght")
    op.drop_index(op.f("ix_etablissement_geographique_finess_ej"), table_name="etablissement_geographique")
    op.drop_table("etablissement_geographique")
    op.drop_table("ght")
    op.drop_index(op.f("ix_fiche_etablissement_secteur"), table_name="fiche_etablissement")
    op.drop_index(op.f("ix_fiche_etablissement_region"), table_name="fiche_etablissement")
    op.drop_index(op.f("ix_fiche_etablissement_ght_code"), table_name="fiche_etablissement")
    op.drop_index(op.f("ix_fiche_etablissement_finess_ej"), table_name="fiche_etablissement")
    op.drop_index(op.f("ix_fiche_etablissement_eligible_phase1"), table_name="fiche_etablissement")
    op.drop_index(op.f("ix_fiche_etablissement_departement"), table_name="fiche_etablissement")
    op.drop_index(op.f("ix_fiche_etablissement_categorie"), table_name="fiche_etablissement")
    op.drop_table("fiche_etablissement")
    op.drop_table("entite_juridique")
    op.drop_table("effectif_sae")
    op.drop_table("domaine_sun_es")
    op.drop_table("activite_combinee")
