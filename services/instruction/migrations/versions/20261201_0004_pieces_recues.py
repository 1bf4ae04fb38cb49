"""pieces required (issue 8 item 4): the pieces received per dossier (PieceDeposee, every version),
a phase-1 GHT support's criteria and an AAP project's public GHT participants

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "piece_recue",
        sa.Column("piece_id", sa.String(length=36), nullable=False),
        sa.Column("dossier_type", sa.String(length=20), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("finess_ej", sa.String(length=9), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("nom", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=150), nullable=False),
        sa.Column("taille", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("depose_par", sa.String(length=200), nullable=False),
        sa.Column("depose_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("piece_id", name=op.f("pk_piece_recue")),
    )
    op.create_index("ix_piece_recue_dossier", "piece_recue", ["dossier_type", "dossier_id"])
    op.add_column("dossier", sa.Column("criteres_ght", JSONB(), nullable=True))
    op.add_column("projet", sa.Column("participants_publics_ght", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("projet", "participants_publics_ght")
    op.drop_column("dossier", "criteres_ght")
    op.drop_index("ix_piece_recue_dossier", table_name="piece_recue")
    op.drop_table("piece_recue")
