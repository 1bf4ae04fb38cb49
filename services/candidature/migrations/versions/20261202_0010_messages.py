"""messages (issue 9 item 3): the establishment's copy of each dossier's thread with its ARS

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dossier_type", sa.String(length=20), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("auteur", sa.String(length=200), nullable=False),
        sa.Column("auteur_role", sa.String(length=20), nullable=False),
        sa.Column("texte", sa.Text(), nullable=False),
        sa.Column("pieces", JSONB(), nullable=False),
        sa.Column("envoye_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lu_le", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lu_par", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    op.create_index("ix_message_dossier", "message", ["dossier_type", "dossier_id", "envoye_le"])


def downgrade() -> None:
    op.drop_index("ix_message_dossier", table_name="message")
    op.drop_table("message")
