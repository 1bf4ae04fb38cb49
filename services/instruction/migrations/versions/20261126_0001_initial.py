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
        "dossier",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dispositif", sa.String(length=20), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("raison_sociale", sa.String(length=300), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("objectifs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("domaines_sun_es", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("perimetre", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("statut", sa.String(length=20), nullable=False),
        sa.Column("deposee_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier")),
    )
    op.create_index(op.f("ix_dossier_finess"), "dossier", ["finess"], unique=False)
    op.create_index(op.f("ix_dossier_region"), "dossier", ["region"], unique=False)
    op.create_table(
        "decision",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("objet", sa.String(length=20), nullable=False),
        sa.Column("finess_ej", sa.String(length=9), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.Column("decide_par", sa.String(length=200), nullable=False),
        sa.Column("decide_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("elements", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("remplace", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], name=op.f("fk_decision_dossier_id_dossier")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision")),
    )
    op.create_index(op.f("ix_decision_dossier_id"), "decision", ["dossier_id"], unique=False)
    op.create_index(
        "uq_decision_initiale",
        "decision",
        ["dossier_id", "objet", "finess_ej"],
        unique=True,
        postgresql_where=sa.text("remplace IS NULL"),
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "indicateur_recu",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("finess_ej", sa.String(length=9), nullable=False),
        sa.Column("objectif", sa.String(length=10), nullable=False),
        sa.Column("indicateur", sa.String(length=20), nullable=False),
        sa.Column("numerateur", sa.BigInteger(), nullable=False),
        sa.Column("denominateur", sa.BigInteger(), nullable=False),
        sa.Column("depose_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_indicateur_recu_dossier_id_dossier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicateur_recu")),
        sa.UniqueConstraint("event_id", name=op.f("uq_indicateur_recu_event_id")),
    )
    op.create_index(op.f("ix_indicateur_recu_dossier_id"), "indicateur_recu", ["dossier_id"], unique=False)
    creer_tables_communes(op)
    # Decisions are corrected by a new decision that replaces, never edited.
    rendre_immuables(op, "decision", "indicateur_recu")


def downgrade() -> None:
    supprimer_tables_communes(op)
    op.drop_index(op.f("ix_indicateur_recu_dossier_id"), table_name="indicateur_recu")
    op.drop_table("indicateur_recu")
    op.drop_index(
        "uq_decision_initiale",
        table_name="decision",
        postgresql_where=sa.text("remplace IS NULL"),
        postgresql_nulls_not_distinct=True,
    )
    op.drop_index(op.f("ix_decision_dossier_id"), table_name="decision")
    op.drop_table("decision")
    op.drop_index(op.f("ix_dossier_region"), table_name="dossier")
    op.drop_index(op.f("ix_dossier_finess"), table_name="dossier")
    op.drop_table("dossier")
