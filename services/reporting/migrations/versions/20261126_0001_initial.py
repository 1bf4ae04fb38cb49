"""initial schema

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
        sa.Column("objectif", sa.String(length=10), nullable=False),
        sa.Column("nature", sa.String(length=20), nullable=False),
        sa.Column("candidature_id", sa.String(length=36), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("dispositif", sa.String(length=20), nullable=False),
        sa.Column("montant", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("notifie_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notification_id", "objectif", "nature", name=op.f("pk_montant_notifie")),
    )
    op.create_index(
        op.f("ix_montant_notifie_candidature_id"), "montant_notifie", ["candidature_id"], unique=False
    )
    op.create_index(op.f("ix_montant_notifie_region"), "montant_notifie", ["region"], unique=False)
    creer_tables_communes(op)


def downgrade() -> None:
    supprimer_tables_communes(op)
    op.drop_index(op.f("ix_montant_notifie_region"), table_name="montant_notifie")
    op.drop_index(op.f("ix_montant_notifie_candidature_id"), table_name="montant_notifie")
    op.drop_table("montant_notifie")
    op.drop_index(op.f("ix_etat_candidature_region"), table_name="etat_candidature")
    op.drop_table("etat_candidature")
