"""initial

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from hopen_common.db.migrations import creer_tables_communes, supprimer_tables_communes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compte_enveloppe",
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("dispositif", sa.String(length=20), nullable=False),
        sa.Column("alloue", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("engage", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("consomme", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("disponible", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("derniere_ecriture", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region", "dispositif", name=op.f("pk_compte_enveloppe")),
    )
    op.create_table(
        "etablissement_vu",
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("raison_sociale", sa.String(length=300), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("secteur", sa.String(length=30), nullable=False),
        sa.Column("niveau", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("finess", name=op.f("pk_etablissement_vu")),
    )
    op.create_table(
        "etat_candidature",
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("dispositif", sa.String(length=20), nullable=False),
        sa.Column("statut", sa.String(length=20), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("candidature_id", name=op.f("pk_etat_candidature")),
    )
    op.create_index(op.f("ix_etat_candidature_region"), "etat_candidature", ["region"], unique=False)
    op.create_table(
        "montant_notifie",
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("finess_ej", sa.String(length=9), nullable=False),
        sa.Column("objectif", sa.String(length=20), nullable=False),
        sa.Column("nature", sa.String(length=20), nullable=False),
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("dispositif", sa.String(length=20), nullable=False),
        sa.Column("montant", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("notifie_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "notification_id", "finess_ej", "objectif", "nature", name=op.f("pk_montant_notifie")
        ),
    )
    op.create_index(
        op.f("ix_montant_notifie_candidature_id"), "montant_notifie", ["candidature_id"], unique=False
    )
    op.create_index(op.f("ix_montant_notifie_region"), "montant_notifie", ["region"], unique=False)
    op.create_table(
        "notification_vue",
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("dispositif", sa.String(length=20), nullable=False),
        sa.Column("nature", sa.String(length=20), nullable=False),
        sa.Column("montant_net", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("annee", sa.Integer(), nullable=True),
        sa.Column("remplace", sa.String(length=36), nullable=True),
        sa.Column("notifie_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_notification_vue")),
    )
    op.create_index(
        op.f("ix_notification_vue_candidature_id"), "notification_vue", ["candidature_id"], unique=False
    )
    op.create_index(op.f("ix_notification_vue_region"), "notification_vue", ["region"], unique=False)
    op.create_index(op.f("ix_notification_vue_remplace"), "notification_vue", ["remplace"], unique=False)
    creer_tables_communes(op)


def downgrade() -> None:
    supprimer_tables_communes(op)
    op.drop_index(op.f("ix_notification_vue_remplace"), table_name="notification_vue")
    op.drop_index(op.f("ix_notification_vue_region"), table_name="notification_vue")
    op.drop_index(op.f("ix_notification_vue_candidature_id"), table_name="notification_vue")
    op.drop_table("notification_vue")
    op.drop_index(op.f("ix_montant_notifie_region"), table_name="montant_notifie")
    op.drop_index(op.f("ix_montant_notifie_candidature_id"), table_name="montant_notifie")
    op.drop_table("montant_notifie")
    op.drop_index(op.f("ix_etat_candidature_region"), table_name="etat_candidature")
    op.drop_table("etat_candidature")
    op.drop_table("etablissement_vu")
    op.drop_table("compte_enveloppe")
