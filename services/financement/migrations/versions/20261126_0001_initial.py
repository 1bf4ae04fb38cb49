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
        "candidature_financee",
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("dispositif", sa.String(length=20), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("objectifs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("activite_combinee", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("activite_combinee_max", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("programme_version", sa.String(length=20), nullable=False),
        sa.Column("validee_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("candidature_id", name=op.f("pk_candidature_financee")),
    )
    op.create_index(op.f("ix_candidature_financee_finess"), "candidature_financee", ["finess"], unique=False)
    op.create_index(op.f("ix_candidature_financee_region"), "candidature_financee", ["region"], unique=False)
    op.create_table(
        "etablissement_connu",
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("finess_ej", sa.String(length=9), nullable=False),
        sa.Column("raison_sociale", sa.String(length=300), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("activite_combinee", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("eligible_phase1", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("finess", name=op.f("pk_etablissement_connu")),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("nature", sa.String(length=20), nullable=False),
        sa.Column("montant_net", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("decide_par", sa.String(length=200), nullable=False),
        sa.Column("motif", sa.String(length=500), nullable=False),
        sa.Column("notifie_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remplace", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index(op.f("ix_notification_candidature_id"), "notification", ["candidature_id"], unique=False)
    op.create_index(op.f("ix_notification_finess"), "notification", ["finess"], unique=False)
    op.create_index(op.f("ix_notification_region"), "notification", ["region"], unique=False)
    op.create_table(
        "ligne_financement",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("objectif", sa.String(length=10), nullable=False),
        sa.Column("nature", sa.String(length=20), nullable=False),
        sa.Column("montant", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("forfait", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("calcul", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cree_le", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_ligne_financement_notification_id_notification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ligne_financement")),
        sa.UniqueConstraint("candidature_id", "objectif", "nature", name="uq_ligne_financement_cle_metier"),
    )
    op.create_index(op.f("ix_ligne_financement_finess"), "ligne_financement", ["finess"], unique=False)
    op.create_index(
        op.f("ix_ligne_financement_notification_id"), "ligne_financement", ["notification_id"], unique=False
    )
    op.create_index(op.f("ix_ligne_financement_region"), "ligne_financement", ["region"], unique=False)
    op.create_table(
        "objectif_decide",
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("objectif", sa.String(length=10), nullable=False),
        sa.Column("atteint", sa.Boolean(), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("decide_le", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidature_id"],
            ["candidature_financee.candidature_id"],
            name=op.f("fk_objectif_decide_candidature_id_candidature_financee"),
        ),
        sa.PrimaryKeyConstraint("candidature_id", "objectif", name=op.f("pk_objectif_decide")),
    )
    creer_tables_communes(op)


def downgrade() -> None:
    supprimer_tables_communes(op)
    op.drop_table("objectif_decide")
    op.drop_index(op.f("ix_ligne_financement_region"), table_name="ligne_financement")
    op.drop_index(op.f("ix_ligne_financement_notification_id"), table_name="ligne_financement")
    op.drop_index(op.f("ix_ligne_financement_finess"), table_name="ligne_financement")
    op.drop_table("ligne_financement")
    op.drop_index(op.f("ix_notification_region"), table_name="notification")
    op.drop_index(op.f("ix_notification_finess"), table_name="notification")
    op.drop_index(op.f("ix_notification_candidature_id"), table_name="notification")
    op.drop_table("notification")
    op.drop_table("etablissement_connu")
    op.drop_index(op.f("ix_candidature_financee_region"), table_name="candidature_financee")
    op.drop_index(op.f("ix_candidature_financee_finess"), table_name="candidature_financee")
    op.drop_table("candidature_financee")
