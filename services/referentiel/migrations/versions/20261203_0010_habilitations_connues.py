"""Habilitations (issue 10, ADR 0022): the rights of each person (the shared habilitation_connue, of which
the referentiel is the owner), who they are for, and their immutable history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from hopen_common.db.migrations import (
    creer_habilitations_connues,
    rendre_immuables,
    supprimer_habilitations_connues,
)

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    creer_habilitations_connues(op)
    op.create_table(
        "fiche_habilitation",
        sa.Column("habilitation_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("nom", sa.String(length=200), nullable=True),
        sa.Column("courriel", sa.String(length=254), nullable=True),
        sa.Column("cree_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cree_par", sa.String(length=200), nullable=False),
        sa.Column("modifie_par", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("habilitation_id", name=op.f("pk_fiche_habilitation")),
    )
    op.create_table(
        "historique_habilitation",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("habilitation_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("avant", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("apres", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("par_emetteur", sa.String(length=500), nullable=False),
        sa.Column("par_sujet", sa.String(length=200), nullable=False),
        sa.Column("par_role", sa.String(length=20), nullable=False),
        sa.Column("le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_historique_habilitation")),
    )
    op.create_index(op.f("ix_historique_habilitation_habilitation_id"), "historique_habilitation",
                    ["habilitation_id"], unique=False)
    rendre_immuables(op, "historique_habilitation")


def downgrade() -> None:
    op.drop_table("historique_habilitation")
    op.drop_table("fiche_habilitation")
    supprimer_habilitations_connues(op)
